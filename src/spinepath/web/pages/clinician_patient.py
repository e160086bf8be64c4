"""A patient's page in the clinician workspace: the answers at a glance, assessments, outcomes,
notes, and re-issuing or revoking the patient's private link.

Every route takes the patient through ``ClinicPatient``: another clinic's patient is a 404, and
each access is audited there; re-issuing and revoking are audited again under their own action.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath import clock
from spinepath import knowledge as kb
from spinepath.care import reminders
from spinepath.decision_aid.catalogue import load_catalogue
from spinepath.instruments.errors import InstrumentError
from spinepath.pathway.intake import Intake
from spinepath.store import enrolment, repository
from spinepath.store.models import Patient, User
from spinepath.web.deps import (
    AppSettings,
    ClinicPatient,
    CurrentClinician,
    DbSession,
    SubmittedForm,
    audit,
)
from spinepath.web.pages import forms
from spinepath.web.pages.alert_actions import alert_context
from spinepath.web.pages.answer_summary import LEANING_LABELS, AnswerSummary, summarise
from spinepath.web.pages.clinical import emergency_stop
from spinepath.web.pages.qr import qr_svg
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import absolute_link, progress_report, progress_svg, redirect
from spinepath.web.stored import load_assessment

router = APIRouter(include_in_schema=False)

PATIENT_PAGE = "/clinic/patients/{patient_id}"
NOTE_MAX_CHARS = 5000


def patient_page_url(patient: Patient, anchor: str = "") -> str:
    return PATIENT_PAGE.format(patient_id=patient.id) + (f"#{anchor}" if anchor else "")


def _summary(
    intake: dict[str, Any], decision: dict[str, Any] | None, leaning: str | None
) -> AnswerSummary:
    statements = {item.id: item.statement for item in load_catalogue().content.values_items}
    return summarise(
        Intake.model_validate(intake),
        kb.default(),
        decision=decision,
        leaning=leaning,
        statements=statements,
    )


def _patient_context(
    session: DbSession, patient: Patient, settings: AppSettings, user: User
) -> dict[str, Any]:
    records = repository.list_assessments(session, patient)
    assessments = [(r, load_assessment(r)) for r in records]
    draft = repository.load_draft(session, patient)
    stop = emergency_stop(dict(draft.answers)) if draft is not None else None
    try:
        report = progress_report(session, patient, settings, clock.today())
    except InstrumentError:
        report = None
    decision = repository.latest_decision_aid_values(session, patient)
    summary = None
    if records:
        values = dict(decision.values) if decision is not None else None
        summary = _summary(records[-1].intake, values, decision.leaning if decision else None)
    return {
        "user": user,
        "patient": patient,
        "assessments": list(reversed(assessments)),
        "latest": assessments[-1][1] if assessments else None,
        "latest_record": records[-1] if records else None,
        "summary": summary,
        "draft": draft,
        "draft_stop": stop,
        "draft_errors": forms.validate(dict(draft.answers)).errors if draft else {},
        "report": report,
        "responses": repository.list_responses(session, patient),
        "decision": decision,
        "leaning_labels": LEANING_LABELS,
        "notes": repository.list_notes(session, patient),
        "link_state": enrolment.link_state(session, patient),
        **alert_context(session, patient),
        "errors": {},
        "note": "",
    }


@router.get(PATIENT_PAGE, response_class=HTMLResponse)
def patient_page(
    request: Request,
    patient: ClinicPatient,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    return render(
        request, "clinic/patient.html", _patient_context(session, patient, settings, user)
    )


@router.post(PATIENT_PAGE + "/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    patient: ClinicPatient,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    text = str(form.get("text") or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Write the note before saving it."
    elif len(text) > NOTE_MAX_CHARS:
        errors["text"] = f"Use {NOTE_MAX_CHARS} characters or fewer."
    if errors:
        context = _patient_context(session, patient, settings, user)
        return render(
            request, "clinic/patient.html", {**context, "errors": errors, "note": text}, 422
        )
    repository.add_note(session, patient, user, text)
    return redirect(patient_page_url(patient, "notes"))


@router.get(PATIENT_PAGE + "/progress.svg")
def patient_progress_chart(
    patient: ClinicPatient, user: CurrentClinician, session: DbSession, settings: AppSettings
) -> Response:
    return progress_svg(session, patient, settings)


@router.post(PATIENT_PAGE + "/link", response_class=HTMLResponse)
def reissue_link(
    request: Request,
    patient: ClinicPatient,
    user: CurrentClinician,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    """A new private link, shown once with its QR code; the old link stops working."""
    link_token = enrolment.reissue_link(session, patient)
    audit(
        request,
        session,
        actor_kind=user.role,
        actor_id=user.id,
        patient=patient,
        action="reissue_link",
    )
    link = absolute_link(request, settings, link_token)
    reminders.relink(session, settings, patient, link)
    context = {
        "user": user,
        "patient": patient,
        "link": link,
        "qr": qr_svg(link, "QR code of the patient's private link"),
        "clinic": enrolment.clinic_of(session, patient),
        "reissued": True,
    }
    return render(request, "clinic/invited.html", context)


@router.post(PATIENT_PAGE + "/link/revoke")
def revoke_link(
    request: Request, patient: ClinicPatient, user: CurrentClinician, session: DbSession
) -> Response:
    enrolment.revoke_link(session, patient)
    # A revoked link must not go on arriving by e-mail.
    reminders.stop(session, patient)
    audit(
        request,
        session,
        actor_kind=user.role,
        actor_id=user.id,
        patient=patient,
        action="revoke_link",
    )
    return redirect(patient_page_url(patient, "private-link"))
