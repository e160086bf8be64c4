"""Alerts for a clinic: raised with the result that calls for them, acknowledged by clinicians.

An alert is raised when a patient of a clinic stops at the emergency screen, or when an
assessment's urgency is urgent or emergency. It is written in the caller's transaction, with one
outbox message per active channel of the clinic, so a result is never stored without its alert
and an alert never without its messages. Patients not attached to a clinic raise none: nobody
would receive them (they are told to act themselves by the emergency or urgent instructions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath.care import messages, outbox
from spinepath.pathway.assessment import Level
from spinepath.store.models import (
    Alert,
    AlertChannel,
    AssessmentRecord,
    Clinic,
    IntakeDraft,
    Patient,
    User,
    utcnow,
)

EMERGENCY_STOP = "emergency_stop"
URGENT_RESULT = "urgent_result"
EMERGENCY_RESULT = "emergency_result"
ALERTING_LEVELS = (Level.URGENT, Level.EMERGENCY)
ABANDONED_LOOKBACK = dt.timedelta(days=2)
"""Drafts idle for longer than this are not scanned again (they were alerted on, or not, when
they were first idle: the scan runs every few seconds)."""
Acknowledgement = Literal["seen", "actioned"]


def raise_for_emergency_stop(
    session: Session,
    patient: Patient,
    findings: list[str],
    base_url: str,
    *,
    since: dt.datetime | None = None,
) -> Alert | None:
    """An alert for a questionnaire stopped at the emergency screen, unless the same stop is
    already open (sending the same page again must not page the clinic again) or, given
    ``since`` (when the draft last changed), was already raised for this version of it."""
    if patient.clinic_id is None:
        return None
    wanted = sorted(findings)
    same = [
        alert
        for alert in session.scalars(
            select(Alert).where(Alert.patient_id == patient.id, Alert.kind == EMERGENCY_STOP)
        )
        if alert.findings.get("findings") == wanted
    ]
    if any(a.actioned_at is None or (since is not None and a.created_at >= since) for a in same):
        return None
    return _raise(session, patient, EMERGENCY_STOP, Level.EMERGENCY, wanted, None, base_url)


def raise_for_abandoned_stops(
    session: Session,
    stop_reasons: Callable[[dict[str, Any]], list[str] | None],
    *,
    idle: dt.timedelta,
    base_url: str,
    now: dt.datetime | None = None,
) -> int:
    """Alerts for questionnaires left at an emergency red flag before the follow-up question
    (when did it begin?) was answered. The worklist already counts unknown as recent; a patient
    who stopped answering there must reach the clinic too, once the draft has been idle for
    ``idle``. ``stop_reasons`` is the pages' own stop rule, so both agree on what a stop is."""
    at = now or utcnow()
    rows = session.execute(
        select(IntakeDraft, Patient)
        .join(Patient, Patient.id == IntakeDraft.patient_id)
        .where(
            Patient.clinic_id.is_not(None),
            IntakeDraft.updated_at <= at - idle,
            IntakeDraft.updated_at >= at - idle - ABANDONED_LOOKBACK,
        )
    ).all()
    raised = 0
    for draft, patient in rows:
        findings = stop_reasons(dict(draft.answers))
        if findings and raise_for_emergency_stop(
            session, patient, findings, base_url, since=draft.updated_at
        ):
            raised += 1
    return raised


def raise_for_assessment(
    session: Session, patient: Patient, record: AssessmentRecord, base_url: str
) -> Alert | None:
    level = Level(record.level)
    if patient.clinic_id is None or level not in ALERTING_LEVELS:
        return None
    kind = EMERGENCY_RESULT if level is Level.EMERGENCY else URGENT_RESULT
    reasons = record.assessment.get("triage", {}).get("reasons", [])
    findings = [str(reason.get("text", "")) for reason in reasons]
    return _raise(session, patient, kind, level, findings, record.id, base_url)


def _raise(
    session: Session,
    patient: Patient,
    kind: str,
    level: Level,
    findings: list[str],
    assessment_id: int | None,
    base_url: str,
) -> Alert:
    if patient.clinic_id is None:
        raise ValueError("an alert needs the patient's clinic")
    alert = Alert(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind=kind,
        level=level.value,
        assessment_id=assessment_id,
        findings={"findings": findings},
        created_at=utcnow(),
    )
    session.add(alert)
    session.flush()
    clinic = session.get(Clinic, patient.clinic_id)
    clinic_name = clinic.name if clinic is not None else ""
    for channel in active_channels(session, patient.clinic_id):
        reference = patient.reference if channel.include_reference else None
        notice = messages.AlertNotice(
            alert_id=alert.id,
            kind=kind,
            level=level.value,
            clinic=clinic_name,
            created_at=alert.created_at,
            url=f"{base_url.rstrip('/')}/clinic/patients/{patient.id}",
            patient_reference=reference,
        )
        payload = (
            messages.alert_email(notice)
            if channel.kind == "email"
            else messages.alert_webhook(notice)
        )
        outbox.enqueue(
            session,
            channel="email" if channel.kind == "email" else "webhook",
            event="alert.created",
            recipient=channel.target,
            payload=payload,
            alert_id=alert.id,
            channel_id=channel.id,
        )
    return alert


def active_channels(session: Session, clinic_id: int) -> list[AlertChannel]:
    return list(
        session.scalars(
            select(AlertChannel)
            .where(AlertChannel.clinic_id == clinic_id, AlertChannel.active.is_(True))
            .order_by(AlertChannel.id)
        )
    )


def open_alerts_for_patient(session: Session, patient_id: str) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.patient_id == patient_id, Alert.actioned_at.is_(None))
            .order_by(Alert.id)
        )
    )


def alerts_for_patient(session: Session, patient_id: str) -> list[Alert]:
    """Newest first."""
    return list(
        session.scalars(
            select(Alert).where(Alert.patient_id == patient_id).order_by(Alert.id.desc())
        )
    )


def open_alerts_by_patient(session: Session, clinic_id: int) -> dict[str, list[Alert]]:
    """The clinic's alerts not yet actioned, by patient, oldest first."""
    found: dict[str, list[Alert]] = {}
    rows = session.scalars(
        select(Alert)
        .where(Alert.clinic_id == clinic_id, Alert.actioned_at.is_(None))
        .order_by(Alert.id)
    )
    for alert in rows:
        found.setdefault(alert.patient_id, []).append(alert)
    return found


def alert_in_clinic(session: Session, alert_id: int, clinic_id: int) -> Alert | None:
    alert = session.get(Alert, alert_id)
    return alert if alert is not None and alert.clinic_id == clinic_id else None


def acknowledge(
    session: Session,
    alert: Alert,
    user: User,
    what: Acknowledgement,
    now: dt.datetime | None = None,
) -> bool:
    """Records that ``user`` has seen or actioned the alert; actioning also marks it seen.
    The first acknowledgement of each kind stands. False when there was nothing to record."""
    at = now or utcnow()
    changed = False
    if alert.seen_at is None:
        alert.seen_at, alert.seen_by, changed = at, user.id, True
    if what == "actioned" and alert.actioned_at is None:
        alert.actioned_at, alert.actioned_by, changed = at, user.id, True
    session.flush()
    return changed
