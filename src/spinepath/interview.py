"""The interactive interview: questions in clinical order, emergency screen first."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.prompt import IntPrompt, Prompt

from spinepath.facts import fact_schema
from spinepath.intake import CHILD_MESSAGE, MINIMUM_AGE, Intake
from spinepath.kb import KnowledgeBase, QuestionDef

_REGIONS = {"1": "neck", "2": "upper_back", "3": "low_back"}
_SIDES = ["none", "left", "right", "both"]
_YES_NO_SKIP = {"y": True, "n": False, "s": None}


class EmergencyStop(Exception):  # noqa: N818 - a stop signal, not an error
    """A yes on the emergency screen: stop and give emergency instructions."""

    def __init__(self, findings: list[str]) -> None:
        super().__init__("emergency screen positive")
        self.findings = findings


def _tri(console: Console, question: str) -> bool | None:
    answer = Prompt.ask(f"{question} [y/n/s=skip]", choices=list(_YES_NO_SKIP), console=console)
    return _YES_NO_SKIP[answer]


def _set(data: dict[str, Any], fact: str, value: object) -> None:
    section, _, name = fact.partition(".")
    if fact == "pain.sudden_onset":
        for region in data["regions"]:
            region["onset"] = None if value is None else ("sudden" if value else "gradual")
        return
    if section == "pain":
        for region in data["regions"]:
            region[name] = value
        return
    data.setdefault(section, {})[name] = value


def _ask(console: Console, question: QuestionDef) -> object:
    dtype = str(fact_schema().get(question.fact))
    if question.fact == "history.trauma":
        answer = Prompt.ask(
            question.question, choices=["none", "minor", "major", "skip"], console=console
        )
        return None if answer == "skip" else answer
    if dtype == "String":
        answer = Prompt.ask(question.question, choices=[*_SIDES, "skip"], console=console)
        return None if answer == "skip" else answer
    if dtype == "Int64":
        return IntPrompt.ask(question.question, console=console)
    return _tri(console, question.question)


# Side answers that mean an emergency on their own; both-sided numbness or leg pain needs more.
_EMERGENCY_VALUES = {"neurology.leg_weakness": "both", "history.trauma": "major"}


def _positive(fact: str, value: object) -> bool:
    return value is True or _EMERGENCY_VALUES.get(fact) == value


def run_interview(console: Console, knowledge: KnowledgeBase) -> Intake:
    """Ask, then build a validated ``Intake``; raise ``EmergencyStop`` on a positive screen."""
    console.print("[bold]First, some questions to check for anything that needs emergency care.[/]")
    data: dict[str, Any] = {"regions": []}
    positives: list[str] = []
    emergency = [q for q in knowledge.questions if q.screen == "emergency"]
    for question in emergency:
        if question.ask_if is not None:
            continue
        value = _ask(console, question)
        _set(data, question.fact, value)
        if _positive(question.fact, value):
            positives.append(question.question)
            # Ask nothing more: the interview stops at the first emergency finding.
            raise EmergencyStop(positives)

    age = IntPrompt.ask("How old are you (years)?", console=console)
    if age < MINIMUM_AGE:
        console.print(CHILD_MESSAGE)
        raise SystemExit(2)
    data["age"] = age
    data["sex"] = Prompt.ask(
        "Sex", choices=["female", "male", "other"], default="other", console=console
    )
    chosen = Prompt.ask(
        "Where is the pain? 1 neck, 2 upper back, 3 low back (e.g. 13)",
        default="3",
        console=console,
    )
    for key in dict.fromkeys(chosen):
        if key not in _REGIONS:
            continue
        region = _REGIONS[key]
        weeks = IntPrompt.ask(
            f"How many weeks has the {region.replace('_', ' ')} pain lasted?", console=console
        )
        intensity = IntPrompt.ask("How bad is it on average, 0-10?", console=console)
        data["regions"].append({"region": region, "duration_weeks": weeks, "intensity": intensity})
    if not data["regions"]:
        data["regions"].append({"region": "low_back", "duration_weeks": 0, "intensity": 0})
    data.setdefault("radiation", {})
    if data["radiation"].get("leg") not in {None, "none"}:
        data["radiation"]["leg_below_knee"] = _tri(console, "Does it go below the knee?")

    for question in knowledge.questions:
        if question.screen == "emergency" and question.ask_if is None:
            continue
        if question.ask_if is not None:
            from spinepath.engine import facts_for

            if question.ask_if.evaluate(facts_for(data)) is False:
                continue
        _set(data, question.fact, _ask(console, question))
    try:
        return Intake.model_validate(_clean(data))
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        console.print("[red]Some answers are not valid:[/]\n" + "\n".join(lines))
        raise SystemExit(2) from None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in ({}, None)}
