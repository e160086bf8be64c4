"""The pages' view of the engine: assess a draft, and decide whether the flow must stop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spinepath import knowledge as kb
from spinepath.pathway import screening
from spinepath.pathway.assessment import Assessment, Level
from spinepath.pathway.intake import Intake
from spinepath.web.pages.forms import KNOWLEDGE_PATHS, AnswerValue, build, validate


def assess(intake: Intake) -> Assessment:
    from spinepath.pathway.engine import assess as engine_assess

    return engine_assess(intake)


@dataclass(frozen=True)
class Stop:
    """Why the questionnaire stops: the red flags that fired, and instructions for the person."""

    reasons: list[str]
    headline: str
    instructions: list[str]


def emergency_stop(
    answers: Mapping[str, AnswerValue], *, still_asking: bool = False
) -> Stop | None:
    """A stop when the answers so far make an emergency-level red flag of the knowledge base fire.

    ``still_asking`` is for the moment a step is sent: a follow-up question the person is about
    to see (how many days ago the bladder changes began) is not "unanswered" yet. Everywhere
    else (resuming, the review, the clinician's worklist) an unanswered question is unanswered.
    """
    knowledge = kb.default()
    asked = [p for p in answers if p in KNOWLEDGE_PATHS] if still_asking else None
    fired = screening.emergency_findings(build(answers).document, knowledge, asked=asked)
    if not fired:
        return None
    text = knowledge.levels.texts[Level.EMERGENCY]
    headline, instructions = text.headline, list(text.instructions)
    outcome = validate(answers)
    if outcome.intake is not None:
        # The engine adds where to go for the concern the findings point to.
        triage = assess(outcome.intake).triage
        if triage.level is Level.EMERGENCY:
            headline, instructions = triage.headline, list(triage.instructions)
    return Stop([rule.finding for rule in fired], headline, instructions)


def stop_reasons(answers: Mapping[str, Any]) -> list[str] | None:
    """Why a saved questionnaire counts as stopped at the emergency screen (None if it does
    not), reading unanswered follow-up questions as the worklist does: unknown is not no."""
    stop = emergency_stop(answers)
    return list(stop.reasons) if stop is not None else None
