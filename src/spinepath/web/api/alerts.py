"""A clinic's alerts: list them, and mark them seen or actioned.

Listing works with a clinician's session or the clinic's API token. Acknowledging is a
clinician's act, recorded with their name, so it needs a signed-in clinician: an integration
token gets 403.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select

from spinepath.care import alerts
from spinepath.store.models import ROW_ID_MAX, Alert, Patient
from spinepath.web.api.schemas import AlertOut
from spinepath.web.deps import ClinicPrincipal, DbSession, audit, forbidden

router = APIRouter(prefix="/alerts", tags=["alerts"])


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        patient_id=alert.patient_id,
        kind=alert.kind,
        level=alert.level,
        findings=list(alert.findings.get("findings", [])),
        created_at=alert.created_at,
        seen_at=alert.seen_at,
        seen_by=alert.seen_by,
        actioned_at=alert.actioned_at,
        actioned_by=alert.actioned_by,
    )


@router.get(
    "",
    response_model=list[AlertOut],
    summary="The clinic's alerts",
    description="`state=open` (default): not yet actioned, oldest first. `state=all`: every "
    "alert, newest first. Page through with `offset` and `limit` (at most 500).",
)
def list_alerts(
    request: Request,
    session: DbSession,
    principal: ClinicPrincipal,
    state: Literal["open", "all"] = "open",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertOut]:
    query = select(Alert).where(Alert.clinic_id == principal.clinic_id)
    if state == "open":
        query = query.where(Alert.actioned_at.is_(None)).order_by(Alert.id)
    else:
        query = query.order_by(Alert.id.desc())
    found = list(session.scalars(query.offset(offset).limit(limit)))
    audit(
        request,
        session,
        actor_kind=principal.kind,
        actor_id=principal.id,
        patient=None,
        action="list_alerts",
        clinic_id=principal.clinic_id,
    )
    return [alert_out(a) for a in found]


def _acknowledge(
    request: Request,
    session: DbSession,
    principal: ClinicPrincipal,
    alert_id: int,
    what: alerts.Acknowledgement,
) -> AlertOut:
    if principal.user is None:
        raise forbidden("marking an alert needs a signed-in clinician, not an API token")
    alert = (
        alerts.alert_in_clinic(session, alert_id, principal.clinic_id)
        if 1 <= alert_id <= ROW_ID_MAX
        else None
    )
    if alert is None:
        raise HTTPException(status_code=404, detail="not found")
    changed = alerts.acknowledge(session, alert, principal.user, what)
    audit(
        request,
        session,
        actor_kind=principal.kind,
        actor_id=principal.id,
        patient=session.get(Patient, alert.patient_id),
        action=f"alert_{what}" if changed else f"alert_{what}_again",
    )
    return alert_out(alert)


@router.post("/{alert_id}/seen", response_model=AlertOut, summary="Mark an alert as seen")
def mark_seen(
    request: Request, session: DbSession, principal: ClinicPrincipal, alert_id: int
) -> AlertOut:
    return _acknowledge(request, session, principal, alert_id, "seen")


@router.post("/{alert_id}/actioned", response_model=AlertOut, summary="Mark an alert as actioned")
def mark_actioned(
    request: Request, session: DbSession, principal: ClinicPrincipal, alert_id: int
) -> AlertOut:
    return _acknowledge(request, session, principal, alert_id, "actioned")
