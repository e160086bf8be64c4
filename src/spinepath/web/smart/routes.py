"""The SMART EHR launch of the clinician workspace: launch, callback, the launched patient's page.

Who is the clinician? The EHR: it signed them in and chose the patient. A launch gives this
browser an *EHR-launched session* that reaches exactly one thing, the launched patient's page
(``/smart/workspace/{launch_id}``), and the invitation of that patient. It is not a spinepath
sign-in: no other page, patient or clinic opens with it. The clinician is named by the
``fhirUser`` of the EHR's verified id_token when there is one; the audit log records it.

The EHR's network calls happen in dependencies declared before the database session, so a slow
EHR does not hold a database connection.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath import knowledge as kb
from spinepath.care import alerts
from spinepath.pathway.intake import Intake
from spinepath.settings import Settings, SmartEhr
from spinepath.store import repository
from spinepath.store.models import Clinic, Patient
from spinepath.web.deps import AppSettings, DbSession, audit
from spinepath.web.pages.answer_summary import summarise
from spinepath.web.pages.qr import qr_svg
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import absolute_link, redirect, site_base
from spinepath.web.smart import facts as record_rows
from spinepath.web.smart import state
from spinepath.web.smart.client import (
    LaunchError,
    Record,
    authorization_request,
    base_url,
    discover,
    exchange_code,
    fetch_record,
    find_ehr,
)
from spinepath.web.stored import load_assessment

router = APIRouter(prefix="/smart", include_in_schema=False)

CALLBACK = "/smart/callback"
WORKSPACE = "/smart/workspace/{launch_id}"
ACTOR_KIND = "ehr_launch"
"""How the audit log names an EHR-launched session (actor id: the EHR's fhirUser)."""
LaunchId = Annotated[str, Path(min_length=8, max_length=64)]


def workspace_url(launch_id: str) -> str:
    return WORKSPACE.format(launch_id=launch_id)


def _failure(request: Request, error: LaunchError, title: str | None = None) -> HTMLResponse:
    heading = title or (
        "spinepath could not open this launch"
        if error.status < 500
        else "spinepath is not set up for this EHR"
        if error.status == 503
        else "The EHR did not answer as expected"
    )
    return render(
        request, "smart/error.html", {"title": heading, "message": str(error)}, error.status
    )


def _redirect_uri(request: Request, settings: Settings) -> str:
    return site_base(request, settings) + CALLBACK


@router.get("/launch", response_class=HTMLResponse)
def launch(
    request: Request,
    settings: AppSettings,
    iss: str | None = Query(default=None, max_length=2000),
    launch: str | None = Query(default=None, max_length=2000),
) -> Response:
    """The EHR opens this with ``iss`` (its FHIR base) and ``launch`` (its handle of the
    session): discover its endpoints and send the browser to its authorization endpoint."""
    if not iss or not launch:
        return _failure(
            request,
            LaunchError(
                "A launch needs the EHR's iss and launch parameters. Open spinepath from the "
                "patient's record in your EHR."
            ),
        )
    ehr = find_ehr(settings.smart_ehrs, iss)
    if ehr is None:
        return _failure(
            request,
            LaunchError(
                f"This EHR ({iss}) is not registered with spinepath, so spinepath did not contact "
                "it. An administrator can add it to SPINEPATH_SMART_EHRS."
            ),
            "Unknown EHR",
        )
    try:
        config = discover(ehr)
        auth = authorization_request(ehr, config, launch, _redirect_uri(request, settings))
    except LaunchError as error:
        return _failure(request, error)
    state.add_pending(
        request,
        state.PendingLaunch(
            state=auth.state, verifier=auth.verifier, iss=base_url(ehr), started=int(time.time())
        ),
    )
    return RedirectResponse(auth.url, status_code=303)


@dataclass(frozen=True)
class Opened:
    ehr: SmartEhr
    launch: state.OpenLaunch


def _complete(
    request: Request,
    settings: AppSettings,
    state_param: Annotated[str | None, Query(alias="state", max_length=500)] = None,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> Opened | LaunchError:
    """The EHR's answer, checked against this browser's pending launch, and the code exchanged."""
    pending = state.take_pending(request, state_param) if state_param else None
    if pending is None:
        return LaunchError(
            "This answer from the EHR does not belong to a launch started in this browser in "
            "the last few minutes (its state does not match). Open spinepath again from the "
            "patient's record."
        )
    if error:
        detail = f"{error}: {error_description}" if error_description else error
        return LaunchError(f"The EHR did not authorise spinepath ({detail}).")
    ehr = find_ehr(settings.smart_ehrs, pending.iss)
    if ehr is None or not code:
        return LaunchError("The EHR's answer has no authorization code.")
    try:
        config = discover(ehr)
        grant = exchange_code(
            ehr,
            config,
            code=code,
            verifier=pending.verifier,
            redirect_uri=_redirect_uri(request, settings),
        )
    except LaunchError as failure:
        return failure
    expires_at = min(grant.expires_at, int(time.time()) + settings.session_max_age_seconds)
    opened = state.open_launch(
        request,
        settings.secret_key_value(),
        iss=base_url(ehr),
        patient=grant.patient,
        fhir_user=grant.fhir_user,
        scope=grant.scope,
        expires_at=expires_at,
        access_token=grant.access_token,
    )
    if state.session_size(request) > state.COOKIE_BUDGET_BYTES:
        state.end_launch(request)
        return LaunchError(
            "The EHR's access token is too large for spinepath to keep in this browser's "
            "session. Ask the EHR's administrators for a shorter (reference) token.",
            status=502,
        )
    return Opened(ehr=ehr, launch=opened)


def _clinic(session: Session, ehr: SmartEhr) -> Clinic | None:
    return session.scalar(select(Clinic).where(Clinic.name == ehr.clinic))


def linked_patient(session: Session, clinic: Clinic, fhir_patient: str) -> Patient | None:
    """Until records are linked another way, a clinic links a spinepath patient to the EHR's by
    using the EHR's patient id as the patient's reference (as the CDS Hooks card does)."""
    return session.scalar(
        select(Patient)
        .where(Patient.clinic_id == clinic.id, Patient.reference == fhir_patient)
        .order_by(Patient.created_at)
    )


def _no_clinic(request: Request, ehr: SmartEhr) -> HTMLResponse:
    # A configuration error on this server, not the clinician's: say so plainly.
    return _failure(
        request,
        LaunchError(
            f"spinepath is set up to serve this EHR for the clinic {ehr.clinic!r}, which does "
            "not exist. An administrator needs to create it or correct SPINEPATH_SMART_EHRS.",
            status=503,
        ),
    )


def _audit(
    request: Request,
    session: Session,
    launch: state.OpenLaunch,
    clinic: Clinic,
    patient: Patient | None,
    action: str,
) -> None:
    audit(
        request,
        session,
        actor_kind=ACTOR_KIND,
        actor_id=(launch.fhir_user or "unidentified")[:64],
        patient=patient,
        action=action,
        clinic_id=clinic.id,
    )


@router.get("/callback", response_class=HTMLResponse)
def callback(
    request: Request,
    outcome: Annotated[Opened | LaunchError, Depends(_complete)],
    session: DbSession,
) -> Response:
    if isinstance(outcome, LaunchError):
        return _failure(request, outcome)
    clinic = _clinic(session, outcome.ehr)
    if clinic is None:
        state.end_launch(request)
        return _no_clinic(request, outcome.ehr)
    patient = linked_patient(session, clinic, outcome.launch.patient)
    _audit(request, session, outcome.launch, clinic, patient, "smart_launch")
    return redirect(workspace_url(outcome.launch.id))


@dataclass(frozen=True)
class Launched:
    ehr: SmartEhr
    launch: state.OpenLaunch
    access_token: str


def _launched(request: Request, settings: AppSettings, launch_id: LaunchId) -> Launched | Response:
    """This browser's open launch, if ``launch_id`` is it and it is still valid; otherwise the
    page that says why not (401: there is none; 403: it was replaced or has ended)."""
    launch = state.current_launch(request)
    if launch is None:
        return _failure(
            request,
            LaunchError(
                "No launch from an EHR is open in this browser. Open spinepath from the "
                "patient's record in your EHR.",
                status=401,
            ),
            "No EHR launch",
        )
    if launch.id != launch_id:
        return _failure(
            request,
            LaunchError(
                "This page belonged to an earlier launch from the EHR, which a newer launch has "
                "replaced. Open spinepath again from the patient's record to see that patient.",
                status=403,
            ),
            "This launch has ended",
        )
    ehr = find_ehr(settings.smart_ehrs, launch.iss)
    token = launch.access_token(settings.secret_key_value())
    if launch.expired or ehr is None or token is None:
        state.end_launch(request)
        return _failure(
            request,
            LaunchError(
                "This launch from the EHR has ended. Open spinepath again from the patient's "
                "record.",
                status=403,
            ),
            "This launch has ended",
        )
    return Launched(ehr=ehr, launch=launch, access_token=token)


CurrentLaunch = Annotated[Launched | Response, Depends(_launched)]


def _record(launched: CurrentLaunch) -> Record | LaunchError | None:
    if not isinstance(launched, Launched):
        return None
    try:
        return fetch_record(
            launched.ehr, launched.access_token, launched.launch.patient, launched.launch.scope
        )
    except LaunchError as error:
        return error


@router.get("/workspace/{launch_id}", response_class=HTMLResponse)
def workspace(
    request: Request,
    launched: CurrentLaunch,
    record: Annotated[Record | LaunchError | None, Depends(_record)],
    session: DbSession,
) -> Response:
    if not isinstance(launched, Launched):
        return launched
    if isinstance(record, LaunchError):
        return _failure(request, record)
    if record is None:
        raise ValueError("a launch without a record")
    clinic = _clinic(session, launched.ehr)
    if clinic is None:
        return _no_clinic(request, launched.ehr)
    patient = linked_patient(session, clinic, launched.launch.patient)
    _audit(request, session, launched.launch, clinic, patient, "smart_workspace")
    today = clock.today()
    try:
        facts = record_rows.facts_of(record, base_url(launched.ehr), today)
    except LaunchError as error:
        return _failure(request, error)
    context: dict[str, Any] = {
        "launch": launched.launch,
        "clinic": clinic,
        "banner": banner(record.patient, launched.launch.patient),
        "record": record,
        "facts": record_rows.rows(facts),
        "linked": patient,
        "expires_at": dt.datetime.fromtimestamp(launched.launch.expires_at, dt.UTC),
        "mismatches": [],
        "latest": None,
        "latest_record": None,
        "glance": [],
        "open_alerts": [],
        "draft": None,
    }
    if patient is not None:
        context["open_alerts"] = alerts.open_alerts_for_patient(session, patient.id)
        context["draft"] = repository.load_draft(session, patient)
        latest = repository.latest_assessment(session, patient)
        if latest is not None:
            intake = Intake.model_validate(latest.intake)
            answered = latest.created_at.date()
            context.update(
                latest=load_assessment(latest),
                latest_record=latest,
                glance=_glance(intake),
                mismatches=record_rows.identity_mismatches(facts, intake, answered, today),
            )
    return render(request, "smart/workspace.html", context)


def _glance(intake: Intake) -> list[Any]:
    # The page states how many warning-sign questions are still to ask, beside their list; the
    # summary's own count of unanswered fields would be a second, different number.
    rows = summarise(intake, kb.default()).glance
    return [row for row in rows if row.label != "Unanswered"]


@router.post("/workspace/{launch_id}/invite", response_class=HTMLResponse)
def invite(
    request: Request, launched: CurrentLaunch, session: DbSession, settings: AppSettings
) -> Response:
    """A private questionnaire link for the launched patient, linked to their EHR record."""
    if not isinstance(launched, Launched):
        return launched
    clinic = _clinic(session, launched.ehr)
    if clinic is None:
        return _no_clinic(request, launched.ehr)
    if linked_patient(session, clinic, launched.launch.patient) is not None:
        return redirect(workspace_url(launched.launch.id))
    patient, link_token = repository.create_patient(
        session, clinic.id, reference=launched.launch.patient
    )
    _audit(request, session, launched.launch, clinic, patient, "invite")
    link = absolute_link(request, settings, link_token)
    context = {
        "launch": launched.launch,
        "clinic": clinic,
        "link": link,
        "qr": qr_svg(link, "QR code of the patient's private link"),
    }
    return render(request, "smart/invited.html", context)


@router.post("/end")
def end(request: Request) -> Response:
    """Ends this browser's EHR launch (a shared computer), leaving any spinepath sign-in as is."""
    state.end_launch(request)
    return render(
        request,
        "smart/error.html",
        {
            "title": "EHR launch ended",
            "message": "This browser no longer shows the patient. Open spinepath again from the "
            "patient's record when you need it.",
        },
    )


@dataclass(frozen=True)
class Banner:
    name: str
    birth_date: str | None
    gender: str | None
    fhir_id: str


def banner(patient: dict[str, Any] | None, fhir_id: str) -> Banner:
    """Who the record is: always shown at the top, so a wrong patient is seen at once."""
    if patient is None:
        return Banner(
            name="Patient (name not shared)", birth_date=None, gender=None, fhir_id=fhir_id
        )
    birth = patient.get("birthDate")
    gender = patient.get("gender")
    return Banner(
        name=_name(patient.get("name")),
        birth_date=birth if isinstance(birth, str) else None,
        gender=gender if isinstance(gender, str) else None,
        fhir_id=fhir_id,
    )


def _name(names: Any) -> str:
    if not isinstance(names, list) or not names:
        return "Patient (no name in the record)"
    ranked = sorted(
        (n for n in names if isinstance(n, dict)),
        key=lambda n: {"official": 0, "usual": 1}.get(str(n.get("use")), 2),
    )
    for name in ranked:
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        given = " ".join(str(g) for g in name.get("given") or [])
        family = str(name.get("family") or "")
        if (given + family).strip():
            return f"{given} {family.upper()}".strip()
    return "Patient (no name in the record)"
