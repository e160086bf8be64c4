"""Calls into the clinical core, imported when first used so the app starts without them."""

from __future__ import annotations

from spinepath.assessment import Assessment
from spinepath.decision_aid.models import DecisionAid
from spinepath.intake import Intake


def assess(intake: Intake) -> Assessment:
    from spinepath.engine import assess as engine_assess

    return engine_assess(intake)


def build_decision_aid(intake: Intake, assessment: Assessment) -> DecisionAid:
    from spinepath.decision_aid import build_decision_aid as build

    return build(intake, assessment)
