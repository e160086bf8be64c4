"""The interactive interview: the knowledge base's red-flag questions, emergency screen first.

The questions, their order and their branching (``ask_if``) come from ``questions.yaml``, and the
interview stops as soon as the answers so far make an emergency-level red flag fire, exactly as
the web questionnaire does (``spinepath.pathway.screening``).
Between the two screens it asks what the
warning signs depend on: age, sex, a past spine operation and where the pain is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from spinepath import knowledge as kb
from spinepath.cli import report
from spinepath.cli.assess import emit
from spinepath.cli.files import write_output_atomically
from spinepath.cli.options import OutputFormat
from spinepath.knowledge import KnowledgeBase
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway import screening
from spinepath.pathway.assessment import Level
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import CHILD_MESSAGE, MINIMUM_AGE, Intake, RegionPain
from spinepath.pathway.kleene import FactValue
from spinepath.validation import error_lines

_REGIONS = {"1": "neck", "2": "upper_back", "3": "low_back"}
_YES_NO_SKIP = {"y": True, "n": False, "s": None}
_SKIP = "s"
_WHOLE_NUMBER = re.compile(r"^\d{1,9}$")


class EmergencyStop(Exception):  # noqa: N818 - a stop signal, not an error
    """The answers so far are an emergency: stop and give emergency instructions."""

    def __init__(self, findings: list[str]) -> None:
        super().__init__("emergency screen positive")
        self.findings = findings


class Asker(Protocol):
    """How the interview puts one question to the person; each re-asks until the answer fits."""

    def say(self, text: str) -> None: ...

    def yes_no(self, text: str, hint: str | None = None) -> bool | None: ...

    def choice(
        self, text: str, choices: Sequence[tuple[str, str]], *, skippable: bool = True
    ) -> str | None: ...

    def number(
        self, text: str, minimum: int, maximum: int, *, unit: str | None = None, skippable: bool
    ) -> int | None: ...

    def regions(self, text: str) -> list[str]: ...


class ConsoleAsker:
    """Asks on a Rich console: a wrong or out-of-range answer is asked again, never a crash."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def say(self, text: str) -> None:
        self.console.print(text)

    def yes_no(self, text: str, hint: str | None = None) -> bool | None:
        if hint:
            self.console.print(f"[dim]{escape(hint)}[/]")
        answer = Prompt.ask(
            f"{escape(text)} (s = skip)", choices=list(_YES_NO_SKIP), console=self.console
        )
        return _YES_NO_SKIP[answer]

    def choice(
        self, text: str, choices: Sequence[tuple[str, str]], *, skippable: bool = True
    ) -> str | None:
        for value, label in choices:
            self.console.print(f"  [bold]{value}[/]: {escape(label)}", highlight=False)
        options = [value for value, _ in choices] + (["skip"] if skippable else [])
        answer = Prompt.ask(escape(text), choices=options, console=self.console)
        return None if answer == "skip" else answer

    def number(
        self, text: str, minimum: int, maximum: int, *, unit: str | None = None, skippable: bool
    ) -> int | None:
        label = f"{escape(text)} ({unit}, " if unit else f"{escape(text)} ("
        label += f"{minimum}-{maximum}" + (", s=skip)" if skippable else ")")
        while True:
            answer = Prompt.ask(label, console=self.console).strip()
            if skippable and answer == _SKIP:
                return None
            if _WHOLE_NUMBER.match(answer) and minimum <= int(answer) <= maximum:
                return int(answer)
            self.console.print(f"[red]Enter a whole number from {minimum} to {maximum}.[/]")

    def regions(self, text: str) -> list[str]:
        while True:
            answer = Prompt.ask(text, default="3", console=self.console)
            chosen = [_REGIONS[key] for key in dict.fromkeys(answer) if key in _REGIONS]
            if chosen:
                return chosen
            self.console.print("[red]Enter 1, 2 or 3, or more than one of them (e.g. 13).[/]")


def _limits(model: type[BaseModel], name: str) -> tuple[int, int]:
    """A whole-number field's range, read from the intake model."""
    prop = model.model_json_schema()["properties"][name]
    option = next(o for o in prop.get("anyOf", [prop]) if o.get("type") == "integer")
    return int(option["minimum"]), int(option["maximum"])


class _Interview:
    def __init__(self, knowledge: KnowledgeBase, asker: Asker) -> None:
        self.knowledge = knowledge
        self.asker = asker
        self.about: dict[str, Any] = {"regions": []}
        self.answers: dict[str, FactValue] = {}
        """Red-flag answers by fact; a skipped question is here as None (asked, not answered)."""

    def document(self) -> dict[str, Any]:
        document = copy.deepcopy(self.about)
        for fact, value in self.answers.items():
            screening.put(document, fact, value)
        return {k: v for k, v in document.items() if v not in ({}, None, [])}

    def ask_screen(self, screen: str) -> None:
        for question in self.knowledge.questions:
            if question.screen != screen:
                continue
            facts = screening.facts_so_far(self.document(), self.knowledge)
            if not screening.applies(question.ask_if, facts):
                continue
            self.answers[question.fact] = self.ask(question)
            self.stop_if_emergency()

    def ask(self, question: QuestionDef) -> FactValue:
        answer = question.answer
        if answer.kind == "choice":
            words = question.choices or {}
            return self.asker.choice(question.question, list(words.items()))
        if answer.kind == "whole_number":
            # kb check makes sure the intake model gives every whole number a range.
            if answer.minimum is None:
                raise ValueError("answer.minimum is missing")
            if answer.maximum is None:
                raise ValueError("answer.maximum is missing")
            return self.asker.number(
                question.question,
                answer.minimum,
                answer.maximum,
                unit=question.unit,
                skippable=True,
            )
        return self.asker.yes_no(question.question, question.hint)

    def stop_if_emergency(self) -> None:
        fired = screening.emergency_findings(
            self.document(), self.knowledge, asked=self.answers.keys()
        )
        if fired:
            # Ask nothing more: the interview stops at the first emergency finding.
            raise EmergencyStop([rule.finding for rule in fired])

    def ask_about_you(self) -> None:
        low, high = _limits(Intake, "age")
        age = self.asker.number("How old are you (years)?", low, high, skippable=False)
        if age is None:
            raise ValueError("age is missing")
        if age < MINIMUM_AGE:
            self.asker.say(CHILD_MESSAGE)
            raise SystemExit(2)
        self.about["age"] = age
        sexes = [("female", "Female"), ("male", "Male"), ("other", "Other")]
        self.about["sex"] = self.asker.choice("Sex", sexes)
        # Asked before the warning signs: the spinal wound question depends on it.
        spine_surgery = self.asker.yes_no("Have you ever had an operation on your spine?")
        self.about["history"] = {"prior_spine_surgery": spine_surgery}
        weeks = _limits(RegionPain, "duration_weeks")
        scale = _limits(RegionPain, "intensity")
        for region in self.asker.regions(
            "Where is the pain? 1 neck, 2 upper back, 3 low back (e.g. 13)"
        ):
            where = region.replace("_", " ")
            duration = self.asker.number(
                f"How many weeks has the {where} pain lasted?", *weeks, skippable=False
            )
            intensity = self.asker.number(
                "How bad is it on average, 0-10?", *scale, skippable=False
            )
            self.about["regions"].append(
                {"region": region, "duration_weeks": duration, "intensity": intensity}
            )
        # Upper-back pain with breathlessness, for one, is an emergency only now that the
        # regions are known.
        self.stop_if_emergency()
        if self.answers.get("radiation.leg") not in {None, "none"}:
            below_knee = self.asker.yes_no("Does the leg pain go below the knee?")
            self.about.setdefault("radiation", {})["leg_below_knee"] = below_knee


def run_interview(console: Console, knowledge: KnowledgeBase, asker: Asker | None = None) -> Intake:
    """Ask, then build a validated ``Intake``; raise ``EmergencyStop`` on an emergency."""
    interview = _Interview(knowledge, asker or ConsoleAsker(console))
    interview.asker.say(
        "[bold]First, some questions to check for anything that needs emergency care.[/]"
    )
    interview.ask_screen("emergency")
    interview.ask_about_you()
    interview.ask_screen("red_flag")
    try:
        return Intake.model_validate(interview.document())
    except ValidationError as exc:
        lines = error_lines(exc, default="", strip_value_error=False)
        console.print("[red]Some answers are not valid:[/]\n" + "\n".join(lines))
        raise SystemExit(2) from None


app = typer.Typer()


@app.command("interview")
def interview_command(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    save: Annotated[
        Path | None, typer.Option(help="Also save the answers as intake JSON here.")
    ] = None,
) -> None:
    """Ask the questions in clinical order (emergency screen first), then assess."""
    console = Console()
    try:
        intake = run_interview(console, kb.default())
    except EmergencyStop as stop:
        report.print_emergency_stop(stop.findings, kb.default(), console)
        raise typer.Exit(3) from None
    except EOFError:
        Console(stderr=True).print("[red]The interview ended before it was finished.[/]")
        raise typer.Exit(2) from None
    if save is not None:
        data = intake.model_dump_json(indent=2, exclude_defaults=True) + "\n"
        write_output_atomically(save, data.encode())
    assessment = assess(intake)
    emit(assessment, fmt)
    if assessment.triage.level is Level.EMERGENCY:
        raise typer.Exit(3)
