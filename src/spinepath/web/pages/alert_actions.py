"""Clinicians acknowledge alerts: "seen" (someone is looking) and "actioned" (dealt with).

Each acknowledgement records who and when on the alert and in the audit log; an alert of
another clinic answers 404, like its patient would.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath.care import alerts
from spinepath.store.models import ROW_ID_MAX, Alert, Patient, User
from spinepath.web.deps import CurrentClinician, DbSession, SubmittedForm, audit
from spinepath.web.pages.clinician import WORKLIST, safe_next
from spinepath.web.pages.shared import redirect

router = APIRouter(include_in_schema=False)

ALERT_KINDS = {
    alerts.EMERGENCY_STOP: "Stopped at the emergency screen",
    alerts.EMERGENCY_RESULT: "Emergency result",
    alerts.URGENT_RESULT: "Urgent result",
}


def alert_context(session: Session, patient: Patient) -> dict[str, Any]:
    """What ``clinic/_alerts.html`` needs for a patient's page."""
    found = alerts.alerts_for_patient(session, patient.id)
    ids = {i for a in found for i in (a.seen_by, a.actioned_by) if i is not None}
    people = {
        u.id: (u.name or u.email) for u in session.scalars(select(User).where(User.id.in_(ids)))
    }
    return {"alerts": found, "alert_kinds": ALERT_KINDS, "alert_people": people}


def acknowledge(
    request: Request, session: Session, user: User, alert_id: int, what: alerts.Acknowledgement
) -> Alert:
    if user.clinic_id is None or not 1 <= alert_id <= ROW_ID_MAX:
        raise HTTPException(status_code=404, detail="not found")
    alert = alerts.alert_in_clinic(session, alert_id, user.clinic_id)
    if alert is None:
        raise HTTPException(status_code=404, detail="not found")
    patient = session.get(Patient, alert.patient_id)
    changed = alerts.acknowledge(session, alert, user, what)
    audit(
        request,
        session,
        actor_kind=user.role,
        actor_id=user.id,
        patient=patient,
        action=f"alert_{what}" if changed else f"alert_{what}_again",
    )
    return alert


@router.post(WORKLIST + "/alerts/{alert_id}/seen")
def mark_seen(
    request: Request, alert_id: int, user: CurrentClinician, session: DbSession, form: SubmittedForm
) -> Response:
    alert = acknowledge(request, session, user, alert_id, "seen")
    default = f"{WORKLIST}/patients/{alert.patient_id}#alerts"
    return redirect(safe_next(str(form.get("next") or ""), default))


@router.post(WORKLIST + "/alerts/{alert_id}/actioned")
def mark_actioned(
    request: Request, alert_id: int, user: CurrentClinician, session: DbSession, form: SubmittedForm
) -> Response:
    alert = acknowledge(request, session, user, alert_id, "actioned")
    default = f"{WORKLIST}/patients/{alert.patient_id}#alerts"
    return redirect(safe_next(str(form.get("next") or ""), default))
