"""Stateless assessment: intake in, assessment out. Nothing is stored.

The intake may come as JSON or as a FHIR QuestionnaireResponse (``application/fhir+json``), and
the assessment goes back as JSON or, when the client asks for FHIR JSON, as a FHIR Bundle.
A FHIR Bundle of the response and the patient's record pre-fills the unanswered questions; the
answer then says which answers came from the record and where the record differs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from spinepath.interop.assessment_bundle import assessment_bundle
from spinepath.pathway.assessment import Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.web.api.fhir_media import (
    FHIR_BUNDLE,
    FHIR_INTAKE_OR_RECORD,
    FHIR_JSON,
    FhirIntakeRecordRoute,
    record_prefill,
    wants_fhir,
)

router = APIRouter(tags=["assessments"], route_class=FhirIntakeRecordRoute)


@router.post(
    "/assessments",
    response_model=Assessment,
    summary="Assess an intake (stateless)",
    description="Runs the triage, pattern, care-plan, imaging and surgical-candidacy rules on one "
    "intake and returns the assessment with its explanation trace. Open to anyone: nothing is "
    "stored. A person under 16 is refused with an error naming `age`. The intake may also be "
    "sent as a FHIR QuestionnaireResponse (`Content-Type: application/fhir+json`; errors name "
    "the linkId), and `Accept: application/fhir+json` returns the assessment as a FHIR Bundle. "
    "A FHIR Bundle (type collection) of one QuestionnaireResponse and the patient's record fills "
    "the questions left unanswered from the record, never changing an answer given; the JSON "
    "answer then adds `from_record` (each answer taken from the record, with its source "
    "resource, to confirm with the patient), `record_differs` (record facts that disagree with "
    "an answer, which is kept) and `record_not_applied`.",
    openapi_extra=FHIR_INTAKE_OR_RECORD,
    responses=FHIR_BUNDLE,
)
def post_assessment(request: Request, intake: Intake) -> Response:
    # A plain ``def``: FastAPI runs it in its thread pool, so the engine never holds up the event
    # loop. The model is serialised once, without re-validation.
    assessment = assess(intake)
    prefilled = record_prefill(request)
    if wants_fhir(request):
        bundle = assessment_bundle(intake, assessment, recorded=datetime.now(UTC), record=prefilled)
        return Response(bundle.model_dump_json(exclude_none=True), media_type=FHIR_JSON)
    if prefilled is not None:
        body = {**assessment.model_dump(mode="json"), **prefilled.as_json()}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
    return Response(assessment.model_dump_json(), media_type="application/json")
