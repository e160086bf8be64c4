"""The CDS Hooks endpoints: discovery, the services, and feedback on their cards.

Every call, discovery included, is authenticated by the EHR's JWT (``security``) before its body
is read. The EHR's calls concern the clinic named for it in ``cds_clients``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import CdsFeedback, Clinic
from spinepath.validation import error_lines
from spinepath.web.cds import orders, prefetch
from spinepath.web.cds.models import (
    CdsResponse,
    Discovery,
    Feedback,
    HookRequest,
    ServiceDescription,
)
from spinepath.web.cds.patient_view import patient_view
from spinepath.web.cds.security import CdsAuthError, CdsCaller, verify
from spinepath.web.deps import AppSettings, DbSession
from spinepath.web.pages.shared import site_base

router = APIRouter(prefix="/cds-services", include_in_schema=False)

PATIENT_VIEW = ServiceDescription(
    hook="patient-view",
    id="spinepath-patient-view",
    title="spinepath: back-pain assessment",
    description="The patient's latest spinepath back-pain assessment: urgency, open alerts and "
    "when it was made, with a link to the clinician's page; or, when the patient has none, a "
    "link to invite them.",
)
ORDER_SELECT = ServiceDescription(
    hook="order-select",
    id="spinepath-order-select",
    title="spinepath: spinal imaging and opioids for low back pain",
    description="When a lumbar spine X-ray, CT or MRI is chosen for acute low back pain (under 6 "
    "weeks) with no red flag in the record, a card explains why imaging is not indicated (NICE "
    "NG59, HEDIS LBP, Choosing Wisely) and offers to remove the order; when an opioid is chosen "
    "for chronic low back pain, a card cites NICE NG59.",
    prefetch=dict(prefetch.TEMPLATES),
)
ORDER_SIGN = ServiceDescription(
    hook="order-sign",
    id="spinepath-order-sign",
    title="spinepath: spinal imaging and opioids for low back pain, at signing",
    description="The order-select checks, run on every draft order before signing.",
    prefetch=dict(prefetch.TEMPLATES),
)
SERVICES = {s.id: s for s in (PATIENT_VIEW, ORDER_SELECT, ORDER_SIGN)}


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


async def _patient_view_service(
    request: Request, session: Session, settings: Settings, clinic: Clinic, hook: HookRequest
) -> CdsResponse:
    return patient_view(request, session, settings, clinic, hook)


async def _order_service(
    request: Request, session: Session, settings: Settings, clinic: Clinic, hook: HookRequest
) -> CdsResponse:
    kind: orders.OrderHook = "order-select" if hook.hook == "order-select" else "order-sign"
    try:
        return await orders.evaluate(hook, kind, clock.today())
    except orders.OrderContextError as error:
        raise HTTPException(status_code=400, detail=str(error)) from error
    except prefetch.RecordUnavailableError as error:
        # CDS Hooks 2.0: the service SHALL answer 412 when it cannot obtain the data it needs.
        raise HTTPException(status_code=412, detail=str(error)) from error


Handler = Callable[[Request, Session, Settings, Clinic, HookRequest], Awaitable[CdsResponse]]
HANDLERS: dict[str, Handler] = {
    PATIENT_VIEW.id: _patient_view_service,
    ORDER_SELECT.id: _order_service,
    ORDER_SIGN.id: _order_service,
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
    response = await HANDLERS[service.id](request, session, settings, clinic, hook)
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
