"""The CDS Hooks endpoints: discovery, the services, and feedback on their cards.

Every call, discovery included, is authenticated by the EHR's JWT (``security``) before its body
is read. The EHR's calls concern the clinic named for it in ``cds_clients``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath.care import alerts
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import CdsFeedback, Clinic, Patient
from spinepath.validation import error_lines
from spinepath.web.cds.models import (
    Card,
    CdsResponse,
    Discovery,
    Feedback,
    HookRequest,
    Link,
    ServiceDescription,
    Source,
)
from spinepath.web.cds.security import CdsAuthError, CdsCaller, verify
from spinepath.web.deps import AppSettings, DbSession
from spinepath.web.pages.rendering import level_label
from spinepath.web.pages.shared import site_base

router = APIRouter(prefix="/cds-services", include_in_schema=False)

SOURCE = Source(label="spinepath back-pain pathway")
PATIENT_VIEW = ServiceDescription(
    hook="patient-view",
    id="spinepath-patient-view",
    title="spinepath: back-pain assessment",
    description="The patient's latest spinepath back-pain assessment: urgency, open alerts and "
    "when it was made, with a link to the clinician's page; or, when the patient has none, a "
    "link to invite them.",
)
SERVICES = {s.id: s for s in (PATIENT_VIEW,)}


def _endpoint(request: Request, settings: Settings) -> str:
    return site_base(request, settings) + request.url.path


def _caller(request: Request, session: Session, settings: Settings) -> CdsCaller:
    try:
        return verify(
            session, settings, request.headers.get("authorization"), _endpoint(request, settings)
        )
    except CdsAuthError as error:
        raise HTTPException(
            status_code=401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}
        ) from error


def _clinic(session: Session, caller: CdsCaller) -> Clinic:
    clinic = session.scalar(select(Clinic).where(Clinic.name == caller.client.clinic))
    if clinic is None:
        # A configuration error on this server, not the caller's: say so plainly.
        raise HTTPException(status_code=503, detail="the CDS client's clinic does not exist")
    return clinic


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HTTPException(status_code=400, detail="the body is not JSON") from error


def _respond(model: CdsResponse | Discovery) -> Response:
    return JSONResponse(model.model_dump(mode="json", exclude_none=True))


@router.get("")
def discovery(request: Request, session: DbSession, settings: AppSettings) -> Response:
    _caller(request, session, settings)
    return _respond(Discovery(services=list(SERVICES.values())))


def _patient_view(
    request: Request, session: Session, settings: Settings, clinic: Clinic, hook: HookRequest
) -> CdsResponse:
    patient_id = hook.context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise HTTPException(status_code=400, detail="context.patientId is required")
    # Until records are linked through SMART launch, the clinic links a patient by using the
    # record's patient id as its reference when inviting them.
    patient = session.scalar(
        select(Patient).where(Patient.clinic_id == clinic.id, Patient.reference == patient_id)
    )
    base = site_base(request, settings)
    if patient is None:
        return CdsResponse(
            cards=[
                Card(
                    uuid=str(uuid.uuid4()),
                    summary="No spinepath back-pain assessment for this patient yet.",
                    indicator="info",
                    source=SOURCE,
                    links=[
                        Link(
                            label="Invite the patient",
                            url=f"{base}/clinic/invite",
                            type="absolute",
                        )
                    ],
                )
            ]
        )
    record = repository.latest_assessment(session, patient)
    open_alerts = alerts.open_alerts_for_patient(session, patient.id)
    level = level_label(record.level) if record is not None else "no assessment sent yet"
    summary = f"spinepath: {level}"
    if open_alerts:
        summary += f"; {len(open_alerts)} alert(s) not yet actioned"
    when = f"Assessed {record.created_at:%d %b %Y}." if record is not None else ""
    headline = record.assessment["triage"]["headline"] if record is not None else ""
    urgent = bool(open_alerts) or (record is not None and record.level in ("urgent", "emergency"))
    return CdsResponse(
        cards=[
            Card(
                uuid=str(uuid.uuid4()),
                summary=summary[:139],
                detail=" ".join(x for x in (headline, when) if x) or None,
                indicator="critical" if urgent else "info",
                source=SOURCE,
                links=[
                    Link(
                        label="Open in spinepath",
                        url=f"{base}/clinic/patients/{patient.id}",
                        type="absolute",
                    )
                ],
            )
        ]
    )


HANDLERS: dict[str, Callable[[Request, Session, Settings, Clinic, HookRequest], CdsResponse]] = {
    PATIENT_VIEW.id: _patient_view
}


@router.post("/{service_id}")
async def call_service(
    service_id: str, request: Request, session: DbSession, settings: AppSettings
) -> Response:
    caller = _caller(request, session, settings)
    service = SERVICES.get(service_id)
    if service is None:
        raise HTTPException(status_code=404, detail="no such CDS service")
    try:
        hook = HookRequest.model_validate(await _json_body(request))
    except ValidationError as error:
        raise HTTPException(status_code=400, detail=error_lines(error, default="body")) from error
    if hook.hook != service.hook:
        raise HTTPException(status_code=400, detail=f"this service answers {service.hook}")
    clinic = _clinic(session, caller)
    response = HANDLERS[service.id](request, session, settings, clinic, hook)
    repository.record_audit(
        session,
        actor_kind="system",
        actor_id=f"cds:{caller.client.iss}"[:64],
        action=f"cds_{service.hook}",
        clinic_id=clinic.id,
        route=f"POST /cds-services/{service.id}",
    )
    return _respond(response)


@router.post("/{service_id}/feedback")
async def feedback(
    service_id: str, request: Request, session: DbSession, settings: AppSettings
) -> Response:
    caller = _caller(request, session, settings)
    if service_id not in SERVICES:
        raise HTTPException(status_code=404, detail="no such CDS service")
    try:
        body = Feedback.model_validate(await _json_body(request))
    except ValidationError as error:
        raise HTTPException(status_code=400, detail=error_lines(error, default="body")) from error
    for item in body.feedback:
        session.add(
            CdsFeedback(
                service_id=service_id,
                issuer=caller.client.iss[:500],
                card_uuid=item.card[:100],
                outcome=item.outcome,
                accepted_suggestions={
                    "ids": [s.id for s in item.acceptedSuggestions or []],
                },
                override_reason=(
                    item.overrideReason.model_dump(mode="json", exclude_none=True)
                    if item.overrideReason
                    else {}
                ),
                outcome_at=item.outcomeTimestamp,
            )
        )
    clinic = _clinic(session, caller)
    repository.record_audit(
        session,
        actor_kind="system",
        actor_id=f"cds:{caller.client.iss}"[:64],
        action="cds_feedback",
        clinic_id=clinic.id,
        route=f"POST /cds-services/{service_id}/feedback",
    )
    return Response(status_code=200)
