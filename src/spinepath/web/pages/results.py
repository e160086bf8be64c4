"""Patient results: the latest assessment, its print and PDF versions, data export and deletion."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath.extras import needs_extra
from spinepath.store import repository
from spinepath.web.deps import DbSession, PatientFromLink, SubmittedForm
from spinepath.web.pages.rendering import STATIC_DIR, render, templates
from spinepath.web.pages.shared import patient_url, redirect, result_context, result_response
from spinepath.web.pdf import pdf_response

router = APIRouter(include_in_schema=False)


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
    context = result_context(request, session, patient, link_token, record)
    return render(request, "patient/result_print.html", {**context, "pdf": False})


@router.get("/p/{link_token}/result.pdf")
def result_pdf(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
) -> Response:
    with needs_extra("pdf", "The results PDF"):
        from weasyprint import CSS, HTML

    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    context = result_context(request, session, patient, link_token, record)
    html = (
        templates()
        .get_template("patient/result_print.html")
        .render({**context, "request": request, "pdf": True})
    )

    def render_pdf() -> bytes:
        pdf: bytes = HTML(string=html, base_url=str(STATIC_DIR)).write_pdf(
            stylesheets=[CSS(filename=str(STATIC_DIR / "site.css"))]
        )
        return pdf

    return pdf_response(render_pdf, "spinepath-result.pdf")


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
def delete_data(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    form: SubmittedForm,
) -> Response:
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
