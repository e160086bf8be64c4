"""Stateless assessment: intake in, assessment out. Nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter, Response

from spinepath.pathway.assessment import Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake

router = APIRouter(tags=["assessments"])


@router.post(
    "/assessments",
    response_model=Assessment,
    summary="Assess an intake (stateless)",
    description="Runs the triage, pattern, care-plan, imaging and surgical-candidacy rules on one "
    "intake and returns the assessment with its explanation trace. Open to anyone: nothing is "
    "stored. A person under 16 is refused with an error naming `age`.",
)
def post_assessment(intake: Intake) -> Response:
    # A plain ``def``: FastAPI runs it in its thread pool, so the engine never holds up the event
    # loop. The model is serialised once, without re-validation.
    return Response(assess(intake).model_dump_json(), media_type="application/json")
