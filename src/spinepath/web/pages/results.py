"""Patient results: the latest assessment, its print and PDF versions, data export and deletion."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.pathway.assessment import CandidacyStatus
from spinepath.store import repository
from spinepath.store.models import AssessmentRecord, Patient
from spinepath.web.deps import DbSession, PatientFromLink, get_settings_dep
from spinepath.web.pages.decision_aid import CSS_PATH as DECISION_AID_CSS
from spinepath.web.pages.decision_aid import DecisionAidView, decision_aid_section
from spinepath.web.pages.followups import follow_up_overview
from spinepath.web.pages.patient import absolute_link, patient_url, redirect
from spinepath.web.pages.rendering import STATIC_DIR, render, templates
from spinepath.web.stored import load_assessment

router = APIRouter(include_in_schema=False)

SURGERY_ON_THE_TABLE = frozenset(
    {
        CandidacyStatus.REFER_SURGICAL_OPINION,
        CandidacyStatus.URGENT_SURGICAL,
        CandidacyStatus.EMERGENCY_SURGICAL,
    }
)
"""Candidacy statuses for which the surgery decision aid is offered."""


def _result_context(
    request: Request,
    session: Session,
    patient: Patient,
    link_token: str,
    record: AssessmentRecord,
    decision: DecisionAidView | None = None,
) -> dict[str, Any]:
    settings = get_settings_dep(request)
    assessment = load_assessment(record)
    if decision is None and assessment.surgical.status in SURGERY_ON_THE_TABLE:
        decision = decision_aid_section(session, patient, record, assessment)
    return {
        "a": assessment,
        "record": record,
        "today": dt.date.today(),
        "link": absolute_link(request, settings, link_token),
        "base": patient_url(link_token),
        "decision_aid": decision,
        "decision_aid_css": DECISION_AID_CSS,
        "follow_ups": follow_up_overview(session, patient, record, settings),
        "history": repository.list_assessments(session, patient),
    }


@router.get("/p/{link_token}/result", response_class=HTMLResponse)
def result(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
) -> Response:
    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    return result_response(request, link_token, patient, session, record)


def result_response(
    request: Request,
    link_token: str,
    patient: Patient,
    session: Session,
    record: AssessmentRecord,
    decision: DecisionAidView | None = None,
    status_code: int = 200,
) -> Response:
    context = _result_context(request, session, patient, link_token, record, decision)
    return render(request, "patient/result.html", context, status_code)


@router.get("/p/{link_token}/result/print", response_class=HTMLResponse)
def result_print(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
) -> Response:
    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    context = _result_context(request, session, patient, link_token, record)
    return render(request, "patient/result_print.html", {**context, "pdf": False})


@router.get("/p/{link_token}/result.pdf")
def result_pdf(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
) -> Response:
    from weasyprint import CSS, HTML

    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    context = _result_context(request, session, patient, link_token, record)
    html = (
        templates()
        .get_template("patient/result_print.html")
        .render({**context, "request": request, "pdf": True})
    )
    pdf = HTML(string=html, base_url=str(STATIC_DIR)).write_pdf(
        stylesheets=[CSS(filename=str(STATIC_DIR / "site.css"))]
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="spinepath-result.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/p/{link_token}/data.json")
def download_data(patient: PatientFromLink, session: DbSession) -> Response:
    data = repository.export_patient(session, patient)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="spinepath-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _delete_context(link_token: str, errors: dict[str, str]) -> dict[str, Any]:
    return {
        "errors": errors,
        "action": patient_url(link_token, "delete"),
        "back": patient_url(link_token),
        "download": patient_url(link_token, "data.json"),
    }


@router.get("/p/{link_token}/delete", response_class=HTMLResponse)
def delete_page(request: Request, link_token: str, patient: PatientFromLink) -> Response:
    return render(request, "patient/delete.html", _delete_context(link_token, {}))


@router.post("/p/{link_token}/delete", response_class=HTMLResponse)
async def delete_data(
    request: Request, link_token: str, patient: PatientFromLink, session: DbSession
) -> Response:
    form = await request.form()
    if form.get("confirm") != "yes":
        errors = {"confirm": "Tick the box to confirm that you want to delete your data."}
        return render(request, "patient/delete.html", _delete_context(link_token, errors), 422)
    repository.record_audit(
        session,
        actor_kind="patient",
        actor_id=patient.id,
        action="delete",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        route="POST /p/{link_token}/delete",
    )
    repository.delete_patient(session, patient)
    return redirect("/deleted")


@router.get("/deleted", response_class=HTMLResponse)
def deleted(request: Request) -> Response:
    return render(request, "patient/deleted.html")
