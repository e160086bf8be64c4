"""Repository functions. Each takes the caller's ``Session``; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from spinepath.pathway.assessment import Assessment, Level
from spinepath.pathway.intake import Intake
from spinepath.store import audit_chain
from spinepath.store.models import (
    ApiToken,
    AssessmentRecord,
    AuditEvent,
    Clinic,
    DecisionAidRecord,
    IntakeDraft,
    LoginAttempt,
    Note,
    Patient,
    ReminderContact,
    ResponseRecord,
    User,
    utcnow,
)
from spinepath.store.passwords import (
    hash_password,
    new_secret_token,
    token_digest,
    valid_email,
    verify_password,
)
from spinepath.store.sessions import end_user_sessions

# Prefixes that make leaked tokens recognisable (secret scanners), not secrets themselves.
LINK_TOKEN_PREFIX = "spl_"  # noqa: S105
API_TOKEN_PREFIX = "spt_"  # noqa: S105
ROLES = ("clinician", "admin")
EXPORT_FORMAT_VERSION = "1"


class NotFoundError(LookupError):
    """A named record does not exist."""


class ConflictError(ValueError):
    """A record with the same unique name already exists."""


# Clinics, users and API tokens ---------------------------------------------------------------


def create_clinic(session: Session, name: str) -> Clinic:
    name = name.strip()
    if not name:
        raise ValueError("name: must not be empty")
    if session.scalar(select(Clinic).where(Clinic.name == name)) is not None:
        raise ConflictError(f"name: a clinic called {name!r} already exists")
    clinic = Clinic(name=name)
    session.add(clinic)
    session.flush()
    return clinic


def clinic_by_name(session: Session, name: str) -> Clinic:
    clinic = session.scalar(select(Clinic).where(Clinic.name == name.strip()))
    if clinic is None:
        raise NotFoundError(f"clinic: no clinic called {name!r}")
    return clinic


def list_clinics(session: Session) -> list[Clinic]:
    return list(session.scalars(select(Clinic).order_by(Clinic.name)))


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str = "clinician",
    clinic_id: int | None = None,
    name: str = "",
) -> User:
    email = valid_email(email)
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}")
    if role == "clinician" and clinic_id is None:
        raise ValueError("clinic: a clinician belongs to a clinic")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(f"email: an account for {email} already exists")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password, user_inputs=(email, name)),
        role=role,
        clinic_id=clinic_id,
    )
    session.add(user)
    session.flush()
    return user


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = verify_password(password, user.password_hash if user is not None else None)
    if user is None or not ok or not user.active:
        return None
    return user


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFoundError(f"email: no account for {normalise_email(email)}")
    return user


def set_user_active(session: Session, user: User, active: bool) -> None:
    """Disabling an account also ends every session it has open."""
    user.active = active
    if not active:
        end_user_sessions(session, user.id)


def set_password(session: Session, user: User, password: str) -> None:
    """A new password ends every session signed in with the old one."""
    user.password_hash = hash_password(password, user_inputs=(user.email, user.name))
    end_user_sessions(session, user.id)


def user_by_id(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def create_api_token(session: Session, *, clinic_id: int, name: str) -> tuple[ApiToken, str]:
    raw = new_secret_token(API_TOKEN_PREFIX)
    token = ApiToken(name=name, token_hash=token_digest(raw), clinic_id=clinic_id)
    session.add(token)
    session.flush()
    return token, raw


def api_token_by_secret(session: Session, raw_token: str) -> ApiToken | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(raw_token)))
    return token if token is not None and not token.revoked else None


def list_api_tokens(session: Session, clinic_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.clinic_id == clinic_id).order_by(ApiToken.id)
        )
    )


def revoke_api_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"token: no API token with id {token_id}")
    token.revoked = True
    session.flush()
    return token


# Login rate limit -----------------------------------------------------------------------------


def record_failed_login(
    session: Session, keys: list[str], *, forget_before: dt.datetime | None = None
) -> None:
    """Records one failure per key; attempts older than ``forget_before`` are dropped."""
    now = utcnow()
    if forget_before is not None:
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < forget_before))
    session.add_all(LoginAttempt(key=token_digest(key), at=now) for key in keys)


def lock_rate_keys(session: Session, keys: list[str]) -> None:
    """Serialises, until the transaction ends, everyone counting and recording under these keys.

    On SQLite every write transaction is already exclusive (BEGIN IMMEDIATE); on PostgreSQL two
    sign-ins to one account could otherwise both count the failures before either adds its own.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):  # one order for everyone, so two requests never wait on each other
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": token_digest(key)},
        )


def last_failed_login(session: Session, key: str, since: dt.datetime) -> dt.datetime | None:
    return session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.key == token_digest(key), LoginAttempt.at >= since
        )
    )


def failed_logins_since(session: Session, key: str, since: dt.datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.key == token_digest(key), LoginAttempt.at >= since)
        )
        or 0
    )


def clear_failed_logins(session: Session, keys: list[str]) -> None:
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.key.in_([token_digest(k) for k in keys]))
    )


# Patients, drafts, assessments ---------------------------------------------------------------


def create_patient(
    session: Session, clinic_id: int | None, *, reference: str | None = None
) -> tuple[Patient, str]:
    """A new patient and the raw link token, which is shown once and stored only hashed."""
    raw = new_secret_token(LINK_TOKEN_PREFIX)
    patient = Patient(clinic_id=clinic_id, link_token_hash=token_digest(raw), reference=reference)
    session.add(patient)
    session.flush()
    return patient, raw


def patient_by_link(session: Session, raw_token: str) -> Patient | None:
    if not raw_token.startswith(LINK_TOKEN_PREFIX):
        return None
    return session.scalar(select(Patient).where(Patient.link_token_hash == token_digest(raw_token)))


def patient_by_id(session: Session, patient_id: str) -> Patient | None:
    return session.get(Patient, patient_id)


def list_patients(session: Session, clinic_id: int) -> list[Patient]:
    return list(
        session.scalars(
            select(Patient).where(Patient.clinic_id == clinic_id).order_by(Patient.created_at)
        )
    )


def save_draft(
    session: Session, patient: Patient, answers: dict[str, Any], step: str
) -> IntakeDraft:
    draft = session.scalar(select(IntakeDraft).where(IntakeDraft.patient_id == patient.id))
    if draft is None:
        draft = IntakeDraft(patient_id=patient.id, answers=answers, step=step)
        session.add(draft)
    else:
        draft.answers = answers
        draft.step = step
        draft.updated_at = utcnow()
    session.flush()
    return draft


def load_draft(session: Session, patient: Patient) -> IntakeDraft | None:
    return session.scalar(select(IntakeDraft).where(IntakeDraft.patient_id == patient.id))


def drafts_by_patient(session: Session, patient_ids: list[str]) -> dict[str, IntakeDraft]:
    """The saved questionnaire drafts of these patients, by patient id (none for those without)."""
    drafts = session.scalars(select(IntakeDraft).where(IntakeDraft.patient_id.in_(patient_ids)))
    return {draft.patient_id: draft for draft in drafts}


def save_assessment(
    session: Session, patient: Patient, intake: Intake, assessment: Assessment
) -> AssessmentRecord:
    level = assessment.triage.level
    record = AssessmentRecord(
        patient_id=patient.id,
        intake=intake.model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        level=level.value,
        level_rank=level.rank,
        unanswered_red_flags=len(assessment.triage.still_to_ask),
        engine_version=assessment.engine_version,
        knowledge_version=assessment.knowledge_version,
    )
    session.add(record)
    session.flush()
    return record


def list_assessments(session: Session, patient: Patient) -> list[AssessmentRecord]:
    """Oldest first."""
    return list(
        session.scalars(
            select(AssessmentRecord)
            .where(AssessmentRecord.patient_id == patient.id)
            .order_by(AssessmentRecord.created_at, AssessmentRecord.id)
        )
    )


def latest_assessment(session: Session, patient: Patient) -> AssessmentRecord | None:
    return session.scalar(
        select(AssessmentRecord)
        .where(AssessmentRecord.patient_id == patient.id)
        .order_by(AssessmentRecord.created_at.desc(), AssessmentRecord.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    level: Level | None
    unanswered_red_flags: int
    headline: str | None
    assessed_at: dt.datetime | None
    assessment_count: int


def worklist(session: Session, clinic_id: int) -> list[WorklistRow]:
    """The clinic's patients: most urgent first, then most unanswered red flags, then newest.

    Patients who have not completed an assessment yet come last, newest invitation first.
    """
    latest_id = (
        select(
            AssessmentRecord.patient_id,
            func.max(AssessmentRecord.id).label("latest_id"),
            func.count(AssessmentRecord.id).label("n"),
        )
        .group_by(AssessmentRecord.patient_id)
        .subquery()
    )
    rows = session.execute(
        select(Patient, AssessmentRecord, latest_id.c.n)
        .outerjoin(latest_id, latest_id.c.patient_id == Patient.id)
        .outerjoin(AssessmentRecord, AssessmentRecord.id == latest_id.c.latest_id)
        .where(Patient.clinic_id == clinic_id)
    ).all()
    result = [
        WorklistRow(
            patient=patient,
            level=Level(record.level) if record is not None else None,
            unanswered_red_flags=record.unanswered_red_flags if record is not None else 0,
            headline=record.assessment["triage"]["headline"] if record is not None else None,
            assessed_at=record.created_at if record is not None else None,
            assessment_count=count or 0,
        )
        for patient, record, count in rows
    ]
    result.sort(key=_worklist_key, reverse=True)
    return result


def _worklist_key(row: WorklistRow) -> tuple[int, int, int, float]:
    if row.level is None:
        return (0, -1, 0, row.patient.created_at.timestamp())
    if row.assessed_at is None:
        raise ValueError("row.assessed_at is missing")
    return (1, row.level.rank, row.unanswered_red_flags, row.assessed_at.timestamp())


# Notes, responses, decision aids ------------------------------------------------------------


def add_note(session: Session, patient: Patient, author: User | None, text: str) -> Note:
    text = text.strip()
    if not text:
        raise ValueError("text: must not be empty")
    note = Note(patient_id=patient.id, author_id=author.id if author else None, text=text)
    session.add(note)
    session.flush()
    return note


def list_notes(session: Session, patient: Patient) -> list[Note]:
    return list(
        session.scalars(
            select(Note).where(Note.patient_id == patient.id).order_by(Note.created_at, Note.id)
        )
    )


def record_response(
    session: Session,
    patient: Patient,
    *,
    instrument: str,
    answers: dict[str, Any],
    score: dict[str, Any],
    taken_on: dt.date,
) -> ResponseRecord:
    record = ResponseRecord(
        patient_id=patient.id,
        instrument=instrument,
        answers=answers,
        score=score,
        taken_on=taken_on,
    )
    session.add(record)
    session.flush()
    return record


def list_responses(
    session: Session, patient: Patient, instrument: str | None = None
) -> list[ResponseRecord]:
    query = select(ResponseRecord).where(ResponseRecord.patient_id == patient.id)
    if instrument is not None:
        query = query.where(ResponseRecord.instrument == instrument)
    return list(session.scalars(query.order_by(ResponseRecord.taken_on, ResponseRecord.id)))


def save_decision_aid_values(
    session: Session, patient: Patient, values: dict[str, Any], leaning: str | None
) -> DecisionAidRecord:
    record = DecisionAidRecord(patient_id=patient.id, values=values, leaning=leaning)
    session.add(record)
    session.flush()
    return record


def latest_decision_aid_values(session: Session, patient: Patient) -> DecisionAidRecord | None:
    return session.scalar(
        select(DecisionAidRecord)
        .where(DecisionAidRecord.patient_id == patient.id)
        .order_by(DecisionAidRecord.id.desc())
        .limit(1)
    )


# Export and deletion ------------------------------------------------------------------------


def export_patient(session: Session, patient: Patient) -> dict[str, Any]:
    """Everything stored about one patient, JSON-ready (the patient's copy of their data)."""
    draft = load_draft(session, patient)
    return {
        "export_format_version": EXPORT_FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "patient": {
            "id": patient.id,
            "clinic_id": patient.clinic_id,
            "reference": patient.reference,
            "created_at": patient.created_at.isoformat(),
        },
        "draft": None
        if draft is None
        else {
            "answers": draft.answers,
            "step": draft.step,
            "updated_at": draft.updated_at.isoformat(),
        },
        "assessments": [
            {
                "id": a.id,
                "created_at": a.created_at.isoformat(),
                "intake": a.intake,
                "assessment": a.assessment,
            }
            for a in list_assessments(session, patient)
        ],
        "responses": [
            {
                "id": r.id,
                "instrument": r.instrument,
                "taken_on": r.taken_on.isoformat(),
                "answers": r.answers,
                "score": r.score,
            }
            for r in list_responses(session, patient)
        ],
        "decision_aid_values": [
            {
                "id": d.id,
                "created_at": d.created_at.isoformat(),
                "values": d.values,
                "leaning": d.leaning,
            }
            for d in session.scalars(
                select(DecisionAidRecord)
                .where(DecisionAidRecord.patient_id == patient.id)
                .order_by(DecisionAidRecord.id)
            )
        ],
        "notes": [
            {"id": n.id, "created_at": n.created_at.isoformat(), "text": n.text}
            for n in list_notes(session, patient)
        ],
        "reminders": [
            {
                "email": c.email,
                "consent_at": c.consent_at.isoformat(),
                "consent_text": c.consent_text,
                "stopped_at": c.stopped_at.isoformat() if c.stopped_at else None,
            }
            for c in session.scalars(
                select(ReminderContact).where(ReminderContact.patient_id == patient.id)
            )
        ],
        "access_log": [
            {
                "at": e.at.isoformat(),
                "actor_kind": e.actor_kind,
                "action": e.action,
                "outcome": e.outcome,
            }
            for e in list_audit(session, patient_id=patient.id, limit=None)
        ],
    }


def delete_patient(session: Session, patient: Patient) -> None:
    """Removes every record about the patient. Audit events stay, holding no clinical content."""
    for table in (IntakeDraft, AssessmentRecord, ResponseRecord, DecisionAidRecord, Note):
        session.execute(delete(table).where(table.patient_id == patient.id))
    session.execute(delete(Patient).where(Patient.id == patient.id))
    session.expunge(patient)


# Audit ----------------------------------------------------------------------------------------


def record_audit(
    session: Session,
    *,
    actor_kind: str,
    actor_id: str | int | None,
    action: str,
    patient_id: str | None = None,
    clinic_id: int | None = None,
    route: str = "",
    outcome: str = "ok",
) -> AuditEvent:
    event = AuditEvent(
        actor_kind=actor_kind,
        actor_id=None if actor_id is None else str(actor_id),
        action=action,
        patient_id=patient_id,
        clinic_id=clinic_id,
        route=route[:200],
        outcome=outcome,
        at=utcnow(),
    )
    audit_chain.chain(session, event)
    session.add(event)
    session.flush()
    return event


def list_audit(
    session: Session,
    *,
    patient_id: str | None = None,
    clinic_id: int | None = None,
    before_id: int | None = None,
    limit: int | None = 100,
) -> list[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if clinic_id is not None:
        query = query.where(AuditEvent.clinic_id == clinic_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    query = query.order_by(AuditEvent.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
