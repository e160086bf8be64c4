"""Follow-up reminders by e-mail, for patients who gave an address and consented.

The schedule (``queue_due``) writes a reminder to the outbox when a follow-up visit falls due,
and a second one ``reminder_repeat_days`` later if the questionnaire is still not done; never
more than two per visit (the outbox's idempotency keys make each one unique). Each reminder is
checked again just before it is sent (``render``): a questionnaire completed, reminders stopped
or the contact removed in the meantime means it is skipped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath import knowledge as kb
from spinepath.care import followups, messages, outbox, sealing
from spinepath.instruments import catalogue
from spinepath.pathway.assessment import Level
from spinepath.settings import Settings
from spinepath.store.models import Clinic, OutboxMessage, Patient, ReminderContact, utcnow

EVENT = "reminder.due"
CONSENT_TEXT = (
    "Send me an e-mail with my private link when a follow-up questionnaire is due "
    "(at most two e-mails for each one). I can stop these e-mails at any time."
)


class ReminderError(RuntimeError):
    """A reminder cannot be composed (its sealed link does not open with this secret key)."""


def _key(patient_id: str, visit: str, number: int) -> str:
    return f"reminder-{patient_id}-{visit.replace(' ', '')}-{number}"


def save_contact(
    session: Session, settings: Settings, patient: Patient, email: str, link: str
) -> ReminderContact:
    """Records the address and the consent, and seals the private link (the absolute URL the
    patient is using) for the e-mails."""
    sealed = sealing.seal(settings.secret_key_value(), link, patient.id)
    contact = contact_for(session, patient.id)
    if contact is None:
        contact = ReminderContact(
            patient_id=patient.id,
            email=email,
            sealed_link=sealed,
            consent_at=utcnow(),
            consent_text=CONSENT_TEXT,
        )
        session.add(contact)
    else:
        contact.email, contact.sealed_link = email, sealed
        contact.consent_at, contact.consent_text, contact.stopped_at = utcnow(), CONSENT_TEXT, None
    session.flush()
    return contact


def relink(session: Session, settings: Settings, patient: Patient, link: str) -> None:
    """After the patient's link was re-issued: reminders carry the new one."""
    contact = contact_for(session, patient.id)
    if contact is not None:
        contact.sealed_link = sealing.seal(settings.secret_key_value(), link, patient.id)
        session.flush()


def stop(session: Session, patient: Patient) -> bool:
    contact = contact_for(session, patient.id)
    if contact is None or contact.stopped_at is not None:
        return False
    contact.stopped_at = utcnow()
    session.flush()
    return True


def contact_for(session: Session, patient_id: str) -> ReminderContact | None:
    return session.scalar(select(ReminderContact).where(ReminderContact.patient_id == patient_id))


def queue_due(session: Session, settings: Settings, now: dt.datetime | None = None) -> int:
    """Writes the reminders that have fallen due; returns how many."""
    at = now or utcnow()
    today = clock.today()
    queued = 0
    contacts = session.scalars(
        select(ReminderContact).where(ReminderContact.stopped_at.is_(None))
    ).all()
    for contact in contacts:
        patient = session.get(Patient, contact.patient_id)
        visit = followups.due_visit(session, settings, patient, today) if patient else None
        if patient is None or visit is None:
            continue
        number = _next_number(session, patient.id, visit.label, at, settings)
        if number is None:
            continue
        outbox.enqueue(
            session,
            channel="email",
            event=EVENT,
            recipient=contact.email,
            payload={"visit": visit.label, "number": number},
            patient_id=patient.id,
            key=_key(patient.id, visit.label, number),
        )
        queued += 1
    return queued


def _next_number(
    session: Session, patient_id: str, visit: str, now: dt.datetime, settings: Settings
) -> int | None:
    first = session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == _key(patient_id, visit, 1))
    )
    if first is None:
        return 1
    if outbox.key_exists(session, _key(patient_id, visit, 2)) or first.sent_at is None:
        return None
    if now - first.sent_at < dt.timedelta(days=settings.reminder_repeat_days):
        return None
    return 2


def render(
    session: Session, settings: Settings, patient_id: str | None, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """The e-mail for a queued reminder, or None when it no longer applies."""
    patient = session.get(Patient, patient_id) if patient_id else None
    if patient is None:
        return None
    contact = contact_for(session, patient.id)
    visit = followups.due_visit(session, settings, patient)
    if contact is None or contact.stopped_at is not None or visit is None:
        return None
    if visit.label != payload.get("visit"):
        return None
    try:
        link = sealing.unseal(settings.secret_key_value(), contact.sealed_link, patient.id)
    except sealing.UnsealError as exc:
        raise ReminderError(str(exc)) from exc
    clinic = session.get(Clinic, patient.clinic_id) if patient.clinic_id is not None else None
    titles = [catalogue.get(code).short_name for code in visit.codes]
    safety_net = list(kb.default().levels.texts[Level.ROUTINE].safety_net)
    email = messages.reminder_email(link, titles, clinic.name if clinic else None, safety_net)
    return {**email, "to": contact.email}
