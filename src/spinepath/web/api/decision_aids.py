"""Decision aid about back surgery, built from an intake (stateless)."""

from __future__ import annotations

from fastapi import APIRouter

from spinepath.decision_aid import build_decision_aid
from spinepath.decision_aid.models import DecisionAid
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake

router = APIRouter(tags=["decision aids"])


@router.post(
    "/decision-aids",
    response_model=DecisionAid,
    summary="Build a decision aid (stateless)",
    description="Assesses the intake, then builds the personalised surgery decision aid with "
    "sourced numbers. Nothing is stored.",
)
def post_decision_aid(intake: Intake) -> DecisionAid:
    return build_decision_aid(intake, assess(intake))
