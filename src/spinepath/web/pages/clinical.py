"""The pages' view of the engine: assess a draft, and decide whether the flow must stop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from spinepath.assessment import Assessment, Level
from spinepath.intake import Intake
from spinepath.web.pages.forms import AnswerValue, stop_reasons, validate


def assess(intake: Intake) -> Assessment:
    from spinepath.engine import assess as engine_assess

    return engine_assess(intake)


@dataclass(frozen=True)
class Stop:
    """Why the questionnaire stops: the answers given, and the engine's triage when it has one."""

    reasons: list[str]
    assessment: Assessment | None = None


def emergency_stop(answers: Mapping[str, AnswerValue]) -> Stop | None:
    """A stop when an emergency-screen answer is positive or the engine's triage is emergency.

    The screen's own rules apply before the draft is a valid intake (no age yet); once it is,
    the engine has the last word on anything the later steps reveal.
    """
    reasons = stop_reasons(answers)
    outcome = validate(answers)
    assessment = assess(outcome.intake) if outcome.intake is not None else None
    if assessment is not None and assessment.triage.level is Level.EMERGENCY:
        engine_reasons = [f.text for f in assessment.triage.reasons]
        return Stop(reasons or engine_reasons, assessment)
    if reasons:
        return Stop(reasons, assessment)
    return None
