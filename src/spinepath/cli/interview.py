"""The interactive interview: the knowledge base's red-flag questions, emergency screen first.

The questions, their order and their branching (``ask_if``) come from ``questions.yaml``, and the
interview stops as soon as the answers so far make an emergency-level red flag fire, exactly as
the web questionnaire does (``spinepath.pathway.screening``).
Between the two screens it asks what the
warning signs depend on: age, sex, a past spine operation and where the pain is, then what leg
pain is like, on the same conditions as the web (``spinepath.pathway.questionnaire``).

Every answer is recorded by question as it is given. If the interview is stopped early (Ctrl-C,
or the end of the input) the answers so far are saved to a draft file, and ``--resume`` replays
them, asking only what was not answered yet.
"""

from __future__ import annotations

import copy
import json
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from spinepath import cache
from spinepath import knowledge as kb
from spinepath.cli import report
from spinepath.cli.assess import emit
from spinepath.cli.files import atomic_output, fail, read_text_input, write_output_atomically
from spinepath.cli.options import OutputFormat
from spinepath.knowledge import KnowledgeBase
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway import screening
from spinepath.pathway.assessment import Level
from spinepath.pathway.engine import assess
from spinepath.pathway.facts import Facts
from spinepath.pathway.intake import CHILD_MESSAGE, MINIMUM_AGE, Intake, RegionPain
from spinepath.pathway.kleene import FactValue
from spinepath.pathway.questionnaire import (
    DAYS_PER_WEEK,
    LEG_FOLLOW_UPS,
    DurationUnit,
    whole_weeks,
)
from spinepath.validation import error_lines

_REGIONS = {"1": "neck", "2": "upper_back", "3": "low_back"}
_YES_NO_SKIP = {"y": True, "n": False, "s": None}
_SKIP = "s"
_WHOLE_NUMBER = re.compile(r"^\d{1,9}$")
_DURATION = re.compile(r"^(\d{1,9})\s*(d|days?|w|wks?|weeks?)?$", re.IGNORECASE)
"""A duration as typed: ``3 days``, ``3d``, ``2 weeks``, ``2w``, or a bare number of weeks."""
DRAFT_FORMAT = "spinepath-interview-draft/1"
DRAFT_NAME = "interview-draft.json"
EXIT_STOPPED = 2
EXIT_INTERRUPTED = 130
"""What a shell reports for a program stopped by Ctrl-C (128 + SIGINT)."""
T = TypeVar("T")
Recorded = dict[str, Any]
"""Answers by question key (a fact or intake path), in the order they were given."""


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

    def duration(self, text: str, max_weeks: int) -> tuple[int, DurationUnit]:
        """A duration in days or weeks, as the person gives it."""
        ...

    def regions(self, text: str) -> list[str]: ...


def read_duration(answer: str, max_weeks: int) -> tuple[int, DurationUnit] | None:
    """``(amount, unit)`` for a duration typed in days or weeks, or None if it does not fit."""
    found = _DURATION.match(answer.strip())
    if found is None:
        return None
    amount = int(found[1])
    unit: DurationUnit = "days" if (found[2] or "w").lower().startswith("d") else "weeks"
    limit = max_weeks * DAYS_PER_WEEK if unit == "days" else max_weeks
    return (amount, unit) if amount <= limit else None


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

    def duration(self, text: str, max_weeks: int) -> tuple[int, DurationUnit]:
        label = f"{escape(text)} (weeks, or days like '3 days')"
        while True:
            answer = Prompt.ask(label, console=self.console)
            found = read_duration(answer, max_weeks)
            if found is not None:
                return found
            self.console.print(
                f"[red]Enter a number of weeks (up to {max_weeks}) or of days, like "
                f"'3 days' (up to {max_weeks * DAYS_PER_WEEK}).[/]"
            )

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


def _fits_number(value: object, minimum: int, maximum: int, skippable: bool) -> bool:
    if value is None:
        return skippable
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


class _Interview:
    def __init__(
        self, knowledge: KnowledgeBase, asker: Asker, recorded: Recorded | None = None
    ) -> None:
        self.knowledge = knowledge
        self.asker = asker
        self.recorded: Recorded = {} if recorded is None else recorded
        """Every answer given so far by question key; filled in place, so that whoever holds
        it can save it when the interview is stopped, and replayed instead of asking again."""
        self.about: dict[str, Any] = {"regions": []}
        self.answers: dict[str, FactValue] = {}
        """Red-flag answers by fact; a skipped question is here as None (asked, not answered)."""

    def recall(self, key: str, fits: Callable[[object], bool], ask: Callable[[], T]) -> T:
        """The recorded answer to question ``key`` if it still fits the question, else ask.

        A draft file is the person's own and may have been edited: an answer that does not
        fit is asked again rather than trusted.
        """
        if key in self.recorded and fits(self.recorded[key]):
            value: T = self.recorded[key]
            return value
        answer = ask()
        self.recorded[key] = answer
        return answer

    def yes_no(self, key: str, text: str, hint: str | None = None) -> bool | None:
        return self.recall(
            key, lambda v: v is None or isinstance(v, bool), lambda: self.asker.yes_no(text, hint)
        )

    def choice(
        self, key: str, text: str, choices: Sequence[tuple[str, str]], *, skippable: bool = True
    ) -> str | None:
        values = {value for value, _ in choices}
        return self.recall(
            key,
            lambda v: (v is None and skippable) or v in values,
            lambda: self.asker.choice(text, choices, skippable=skippable),
        )

    def number(
        self,
        key: str,
        text: str,
        minimum: int,
        maximum: int,
        *,
        unit: str | None = None,
        skippable: bool,
    ) -> int | None:
        return self.recall(
            key,
            lambda v: _fits_number(v, minimum, maximum, skippable),
            lambda: self.asker.number(text, minimum, maximum, unit=unit, skippable=skippable),
        )

    def duration(self, key: str, text: str, max_weeks: int) -> int:
        """Completed weeks, from an answer in days or weeks (kept as given, for a draft)."""
        amount, unit = self.recall(
            key,
            lambda v: (
                isinstance(v, list | tuple)
                and len(v) == 2
                and isinstance(v[0], int)
                and read_duration(f"{v[0]} {v[1]}", max_weeks) is not None
            ),
            lambda: list(self.asker.duration(text, max_weeks)),
        )
        return whole_weeks(
            int(amount), "days" if amount is not None and unit == "days" else "weeks"
        )

    def regions(self, text: str) -> list[str]:
        known = set(_REGIONS.values())
        return self.recall(
            "regions",
            lambda v: (
                isinstance(v, list)
                and bool(v)
                and len(set(v)) == len(v) <= len(known)
                and all(r in known for r in v)
            ),
            lambda: self.asker.regions(text),
        )

    def document(self) -> dict[str, Any]:
        document = copy.deepcopy(self.about)
        for fact, value in self.answers.items():
            screening.put(document, fact, value)
        return {k: v for k, v in document.items() if v not in ({}, None, [])}

    def facts(self) -> Facts:
        return screening.facts_so_far(self.document(), self.knowledge)

    def ask_screen(self, screen: str) -> None:
        for question in self.knowledge.questions:
            if question.screen != screen:
                continue
            if not screening.applies(question.ask_if, self.facts()):
                continue
            self.answers[question.fact] = self.ask(question)
            self.stop_if_emergency()

    def ask(self, question: QuestionDef) -> FactValue:
        answer = question.answer
        if answer.kind == "choice":
            words = question.choices or {}
            return self.choice(question.fact, question.question, list(words.items()))
        if answer.kind == "whole_number":
            # kb check makes sure the intake model gives every whole number a range.
            if answer.minimum is None:
                raise ValueError("answer.minimum is missing")
            if answer.maximum is None:
                raise ValueError("answer.maximum is missing")
            return self.number(
                question.fact,
                question.question,
                answer.minimum,
                answer.maximum,
                unit=question.unit,
                skippable=True,
            )
        return self.yes_no(question.fact, question.question, question.hint)

    def stop_if_emergency(self) -> None:
        fired = screening.emergency_findings(
            self.document(), self.knowledge, asked=self.answers.keys()
        )
        if fired:
            # Ask nothing more: the interview stops at the first emergency finding.
            raise EmergencyStop([rule.finding for rule in fired])

    def ask_about_you(self) -> None:
        low, high = _limits(Intake, "age")
        age = self.number("age", "How old are you (years)?", low, high, skippable=False)
        if age is None:
            raise ValueError("age is missing")
        if age < MINIMUM_AGE:
            self.asker.say(CHILD_MESSAGE)
            raise SystemExit(2)
        self.about["age"] = age
        sexes = [("female", "Female"), ("male", "Male"), ("other", "Other")]
        self.about["sex"] = self.choice("sex", "Sex", sexes)
        # Asked before the warning signs: the spinal wound question depends on it.
        spine_surgery = self.yes_no(
            "history.prior_spine_surgery", "Have you ever had an operation on your spine?"
        )
        self.about["history"] = {"prior_spine_surgery": spine_surgery}
        weeks = _limits(RegionPain, "duration_weeks")
        scale = _limits(RegionPain, "intensity")
        for region in self.regions("Where is the pain? 1 neck, 2 upper back, 3 low back (e.g. 13)"):
            where = region.replace("_", " ")
            duration = self.duration(
                f"regions.{region}.duration", f"How long has the {where} pain lasted?", weeks[1]
            )
            intensity = self.number(
                f"regions.{region}.intensity",
                "How bad is it on average, 0-10?",
                *scale,
                skippable=False,
            )
            self.about["regions"].append(
                {"region": region, "duration_weeks": duration, "intensity": intensity}
            )
        # Upper-back pain with breathlessness, for one, is an emergency only now that the
        # regions are known.
        self.stop_if_emergency()

    def ask_leg_follow_ups(self) -> None:
        """What leg pain is like, only when the answers so far do not rule leg pain out."""
        for follow_up in LEG_FOLLOW_UPS:
            if screening.applies(follow_up.ask_if, self.facts()):
                section, _, name = follow_up.path.partition(".")
                answer = self.yes_no(follow_up.path, follow_up.question)
                self.about.setdefault(section, {})[name] = answer


def run_interview(
    console: Console,
    knowledge: KnowledgeBase,
    asker: Asker | None = None,
    *,
    recorded: Recorded | None = None,
) -> Intake:
    """Ask, then build a validated ``Intake``; raise ``EmergencyStop`` on an emergency.

    ``recorded`` holds answers already given (a resumed draft): they are not asked again. The
    interview adds each new answer to it as it is given, so it is the draft to save if the
    interview is stopped early.
    """
    interview = _Interview(knowledge, asker or ConsoleAsker(console), recorded)
    interview.asker.say(
        "[bold]First, some questions to check for anything that needs emergency care.[/]"
    )
    interview.ask_screen("emergency")
    interview.ask_about_you()
    interview.ask_leg_follow_ups()
    interview.ask_screen("red_flag")
    try:
        return Intake.model_validate(interview.document())
    except ValidationError as exc:
        lines = error_lines(exc, default="", strip_value_error=False)
        console.print("[red]Some answers are not valid:[/]\n" + "\n".join(lines))
        raise SystemExit(2) from None


# Drafts of a stopped interview ---------------------------------------------------------------


def default_draft_path() -> Path:
    """Where a stopped interview keeps its answers unless told: the user's cache directory."""
    directory = cache.directory()
    return (directory / DRAFT_NAME) if directory is not None else Path(DRAFT_NAME)


def save_draft(path: Path, recorded: Recorded) -> None:
    """Write the answers so far, all or nothing (they are health data: only the user reads)."""
    if path == default_draft_path():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {"format": DRAFT_FORMAT, "answers": recorded}
    with atomic_output(path) as handle:
        if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            os.fchmod(handle.fileno(), 0o600)
        handle.write((json.dumps(document, indent=2) + "\n").encode())


def load_draft(path: Path) -> Recorded:
    """The answers a draft file holds; exit 2 naming the file when it is not such a draft."""
    text = read_text_input(str(path), "interview draft")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not an interview draft (not JSON: {exc.msg})") from None
    if not isinstance(document, dict) or document.get("format") != DRAFT_FORMAT:
        raise fail(f"{path}: not an interview draft (made by `spinepath interview`)")
    answers = document.get("answers")
    if not isinstance(answers, dict):
        raise fail(f"{path}: the interview draft has no answers")
    return answers


app = typer.Typer()


@app.command("interview")
def interview_command(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    save: Annotated[
        Path | None, typer.Option(help="Also save the answers as intake JSON here.")
    ] = None,
    draft: Annotated[
        Path | None,
        typer.Option(
            help="Where to keep the answers so far if the interview is stopped early "
            f"[default: the --resume file, else {DRAFT_NAME} in the user cache directory]."
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Carry on from the answers a stopped interview saved in this file."),
    ] = None,
) -> None:
    """Ask the questions in clinical order (emergency screen first), then assess."""
    console = Console()
    recorded = load_draft(resume) if resume is not None else {}
    if recorded:
        console.print(f"Carrying on from {len(recorded)} answers saved in {resume}.")
    try:
        intake = run_interview(console, kb.default(), recorded=recorded)
    except EmergencyStop as stop:
        report.print_emergency_stop(stop.findings, kb.default(), console)
        raise typer.Exit(3) from None
    except (EOFError, KeyboardInterrupt) as exc:
        code = EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_STOPPED
        _stopped(recorded, draft or resume or default_draft_path())
        raise typer.Exit(code) from None
    if save is not None:
        data = intake.model_dump_json(indent=2, exclude_defaults=True) + "\n"
        write_output_atomically(save, data.encode())
    assessment = assess(intake)
    emit(assessment, fmt)
    if assessment.triage.level is Level.EMERGENCY:
        raise typer.Exit(3)


def _stopped(recorded: Recorded, path: Path) -> None:
    """Keep the answers so far and say where, and how to carry on."""
    err = Console(stderr=True, highlight=False)
    err.print("\n[red]The interview was stopped before it was finished.[/]")
    if not recorded:
        err.print("Nothing had been answered yet, so nothing was saved.")
        return
    save_draft(path, recorded)
    err.print(
        f"Your {len(recorded)} answers so far are saved in {escape(str(path))}.\n"
        f"To carry on where you stopped: spinepath interview --resume {escape(str(path))}"
    )
