"""Stateless assessment: intake in, assessment out. Nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter

from spinepath.assessment import Assessment
from spinepath.intake import Intake
from spinepath.web.api.engine_calls import assess

router = APIRouter(tags=["assessments"])


@router.post(
    "/assessments",
    response_model=Assessment,
    summary="Assess an intake (stateless)",
    description="Runs the triage, pattern, care-plan, imaging and surgical-candidacy rules on one "
    "intake and returns the assessment with its explanation trace. Open to anyone: nothing is "
    "stored. A person under 16 is refused with an error naming `age`.",
)
def post_assessment(intake: Intake) -> Assessment:
    return assess(intake)
