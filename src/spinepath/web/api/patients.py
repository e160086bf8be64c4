"""A clinic's patients: worklist, invitations, stored assessments, questionnaires, notes.

Every route needs a clinician of the clinic (session) or the clinic's API token; a patient of
another clinic answers 404, and every access is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from spinepath.care import alerts
from spinepath.decision_aid import build_decision_aid
from spinepath.decision_aid.models import DecisionAid
from spinepath.decision_aid.values import ValuesAnswers, with_values
from spinepath.instruments.scoring import ScoreResult
from spinepath.pathway.assessment import Level
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store import repository
from spinepath.store.models import AssessmentRecord, Patient, ResponseRecord
from spinepath.web.api.fhir_media import FHIR_INTAKE, FhirIntakeRoute
from spinepath.web.api.schemas import (
    AssessmentOut,
    NoteIn,
    NoteOut,
    PatientCreate,
    PatientInvitation,
    PatientSummary,
    ResponseIn,
    ResponseOut,
)
from spinepath.web.api.scores import score_answers, unprocessable
from spinepath.web.deps import (
    PATIENT_LINK_PATH,
    AppSettings,
    ClinicPatient,
    ClinicPrincipal,
    DbSession,
    audit,
)
from spinepath.web.pages import worklist as worklist_order
from spinepath.web.pages.shared import site_base
from spinepath.web.stored import load_assessment

# Only the routes that document FHIR input (FHIR_INTAKE) read it; the rest are unchanged.
router = APIRouter(prefix="/patients", tags=["patients"], route_class=FhirIntakeRoute)


def _summary(entry: worklist_order.Entry) -> PatientSummary:
    row = entry.row
    return PatientSummary(
        id=row.patient.id,
        reference=row.patient.reference,
        created_at=row.patient.created_at,
        level=row.level,
        unanswered_red_flags=row.unanswered_red_flags,
        headline=row.headline,
        assessed_at=row.assessed_at,
        assessment_count=row.assessment_count,
        stopped_at_emergency=entry.stop is not None,
        emergency_findings=list(entry.stop.reasons) if entry.stop else [],
        open_alerts=len(entry.open_alerts),
        unseen_alerts=entry.unseen_alerts,
    )


def _patient_summary(session: DbSession, patient: Patient) -> PatientSummary:
    records = repository.list_assessments(session, patient)
    latest = records[-1] if records else None
    row = repository.WorklistRow(
        patient=patient,
        level=None if latest is None else Level(latest.level),
        unanswered_red_flags=0 if latest is None else latest.unanswered_red_flags,
        headline=None if latest is None else latest.assessment["triage"]["headline"],
        assessed_at=None if latest is None else latest.created_at,
        assessment_count=len(records),
    )
    stop = worklist_order.pending_stop(repository.load_draft(session, patient), row.assessed_at)
    open_alerts = tuple(alerts.open_alerts_for_patient(session, patient.id))
    return _summary(worklist_order.Entry(row, stop, open_alerts))


def _assessment_out(record: AssessmentRecord) -> AssessmentOut:
    return AssessmentOut.model_validate(
        {
            "id": record.id,
            "created_at": record.created_at,
            "level": record.level,
            "engine_version": record.engine_version,
            "knowledge_version": record.knowledge_version,
            "assessment": record.assessment,
        }
    )


def _response_out(record: ResponseRecord) -> ResponseOut:
    return ResponseOut(
        id=record.id,
        instrument=record.instrument,
        taken_on=record.taken_on,
        answers=record.answers,
        score=ScoreResult.model_validate(record.score),
    )


@router.get(
    "",
    response_model=list[PatientSummary],
    summary="Worklist",
    description="The clinic's patients in the worklist page's order: alerts nobody has seen, "
    "then alerts not yet actioned, then questionnaires stopped at the emergency screen, then "
    "by urgency (most unanswered red-flag questions, then newest, within a level); patients "
    "who have not finished a questionnaire come last. Page through with `offset` and `limit` "
    "(at most 500).",
)
def get_worklist(
    request: Request,
    session: DbSession,
    principal: ClinicPrincipal,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PatientSummary]:
    audit(
        request,
        session,
        actor_kind=principal.kind,
        actor_id=principal.id,
        patient=None,
        action="list",
        clinic_id=principal.clinic_id,
    )
    entries = worklist_order.ordered(session, principal.clinic_id)[offset : offset + limit]
    return [_summary(entry) for entry in entries]


@router.post(
    "",
    response_model=PatientInvitation,
    status_code=201,
    summary="Invite a patient",
    description="Creates a patient in your clinic and returns their private link token, once.",
)
def post_patient(
    request: Request, session: DbSession, principal: ClinicPrincipal, body: PatientCreate
) -> PatientInvitation:
    patient, raw = repository.create_patient(session, principal.clinic_id, reference=body.reference)
    audit(
        request,
        session,
        actor_kind=principal.kind,
        actor_id=principal.id,
        patient=patient,
        action="invite",
    )
    return PatientInvitation(
        patient=_patient_summary(session, patient),
        link_token=raw,
        link_path=PATIENT_LINK_PATH.format(link_token=raw),
    )


@router.get("/{patient_id}", response_model=PatientSummary, summary="One patient")
def get_patient(session: DbSession, patient: ClinicPatient) -> PatientSummary:
    return _patient_summary(session, patient)


@router.delete(
    "/{patient_id}",
    status_code=204,
    summary="Delete a patient's data",
    description="Removes every record about the patient; the audit log keeps that it happened.",
)
def delete_patient(request: Request, session: DbSession, patient: ClinicPatient) -> Response:
    repository.delete_patient(session, patient)
    return Response(status_code=204)


@router.get("/{patient_id}/export", summary="Everything stored about a patient (JSON)")
def export_patient(session: DbSession, patient: ClinicPatient) -> dict[str, Any]:
    return repository.export_patient(session, patient)


Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return (at most 500).")]


@router.get(
    "/{patient_id}/assessments",
    response_model=list[AssessmentOut],
    summary="Assessments, oldest first",
    description="Page through with `offset` and `limit`.",
)
def list_assessments(
    session: DbSession, patient: ClinicPatient, offset: Offset = 0, limit: Limit = 100
) -> list[AssessmentOut]:
    records = repository.list_assessments(session, patient)[offset : offset + limit]
    return [_assessment_out(r) for r in records]


@router.post(
    "/{patient_id}/assessments",
    response_model=AssessmentOut,
    status_code=201,
    summary="Assess and store an intake for a patient",
    description="The intake may also be sent as a FHIR QuestionnaireResponse "
    "(`Content-Type: application/fhir+json`); one that cannot be read is refused with errors "
    "naming the linkId, and nothing is stored.",
    openapi_extra=FHIR_INTAKE,
)
def post_assessment(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    patient: ClinicPatient,
    intake: Intake,
) -> AssessmentOut:
    record = repository.save_assessment(session, patient, intake, assess(intake))
    alerts.raise_for_assessment(session, patient, record, site_base(request, settings))
    return _assessment_out(record)


@router.get(
    "/{patient_id}/responses",
    response_model=list[ResponseOut],
    summary="Questionnaire responses, oldest first",
    description="Page through with `offset` and `limit`.",
)
def list_responses(
    session: DbSession,
    patient: ClinicPatient,
    instrument: Annotated[str | None, Query(max_length=40)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[ResponseOut]:
    records = repository.list_responses(session, patient, instrument)[offset : offset + limit]
    return [_response_out(r) for r in records]


@router.post(
    "/{patient_id}/responses",
    response_model=ResponseOut,
    status_code=201,
    summary="Record and score a questionnaire response",
)
def post_response(session: DbSession, patient: ClinicPatient, body: ResponseIn) -> ResponseOut:
    result = score_answers(body.instrument, body.answers)
    record = repository.record_response(
        session,
        patient,
        instrument=result.instrument,
        answers={k: v for k, v in body.answers.items() if v is not None},
        score=result.model_dump(mode="json"),
        taken_on=body.taken_on or dt.datetime.now(dt.UTC).date(),
    )
    return _response_out(record)


@router.get(
    "/{patient_id}/notes",
    response_model=list[NoteOut],
    summary="Clinical notes",
    description="Page through with `offset` and `limit`.",
)
def list_notes(
    session: DbSession, patient: ClinicPatient, offset: Offset = 0, limit: Limit = 100
) -> list[NoteOut]:
    return [
        NoteOut(
            id=n.id,
            created_at=n.created_at,
            author=n.author.name or n.author.email if n.author else None,
            text=n.text,
        )
        for n in repository.list_notes(session, patient)[offset : offset + limit]
    ]


@router.post("/{patient_id}/notes", response_model=NoteOut, status_code=201, summary="Add a note")
def post_note(
    session: DbSession, patient: ClinicPatient, principal: ClinicPrincipal, body: NoteIn
) -> NoteOut:
    if not body.text.strip():
        raise unprocessable("text", "must not be empty")
    note = repository.add_note(session, patient, principal.user, body.text)
    author = principal.user
    return NoteOut(
        id=note.id,
        created_at=note.created_at,
        author=(author.name or author.email) if author else None,
        text=note.text,
    )


def _patient_aid(session: DbSession, patient: Patient) -> DecisionAid:
    record = repository.latest_assessment(session, patient)
    if record is None:
        raise HTTPException(status_code=404, detail="no assessment yet for this patient")
    intake = Intake.model_validate(record.intake)
    return build_decision_aid(intake, load_assessment(record))


def _apply_values(aid: DecisionAid, values: ValuesAnswers) -> DecisionAid:
    try:
        return with_values(aid, values)
    except ValueError as error:
        field, _, message = str(error).partition(": ")
        raise unprocessable(field if message else "importance", message or str(error)) from error


@router.get(
    "/{patient_id}/decision-aid",
    response_model=DecisionAid,
    summary="The patient's decision aid",
    description="Built from the latest stored assessment, with the values and leaning the "
    "patient recorded last (if any).",
)
def get_decision_aid(session: DbSession, patient: ClinicPatient) -> DecisionAid:
    aid = _patient_aid(session, patient)
    latest = repository.latest_decision_aid_values(session, patient)
    if latest is None:
        return aid
    return _apply_values(aid, ValuesAnswers.model_validate(latest.values))


@router.post(
    "/{patient_id}/decision-aid/values",
    response_model=DecisionAid,
    status_code=201,
    summary="Record what matters to the patient and their leaning",
)
def post_decision_aid_values(
    session: DbSession, patient: ClinicPatient, values: ValuesAnswers
) -> DecisionAid:
    aid = _apply_values(_patient_aid(session, patient), values)
    repository.save_decision_aid_values(
        session, patient, values.model_dump(mode="json"), values.leaning
    )
    return aid
