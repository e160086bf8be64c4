"""Tables of spinepath. Clinical documents (intake, assessment, answers) are stored as JSON.

Audit events keep no foreign key to the patient, so that deleting a patient's data keeps the
record that it happened. Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Role = Literal["clinician", "admin"]
ActorKind = Literal["anonymous", "patient", "clinician", "admin", "api_token", "system"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


ROW_ID_MAX = 2**31 - 1
"""The largest integer id a table's ``Integer`` key can hold on every backend (PostgreSQL's int4):
a query parameter above it is refused as a 422, never sent to the database."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_patient_id() -> str:
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime,
        dict[str, Any]: JsonDocument,
    }


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), default="clinician")
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    clinic: Mapped[Clinic | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_patient_id)
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="RESTRICT"), index=True
    )
    link_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(
        String(100), doc="A label the clinic chose (e.g. initials); never the link token."
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IntakeDraft(Base):
    __tablename__ = "intake_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    answers: Mapped[dict[str, Any]]
    step: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssessmentRecord(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_patient_created", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    intake: Mapped[dict[str, Any]]
    assessment: Mapped[dict[str, Any]]
    level: Mapped[str] = mapped_column(String(20))
    level_rank: Mapped[int] = mapped_column(Integer)
    unanswered_red_flags: Mapped[int] = mapped_column(Integer)
    engine_version: Mapped[str] = mapped_column(String(40))
    knowledge_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ResponseRecord(Base):
    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_patient_taken", "patient_id", "taken_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]]
    score: Mapped[dict[str, Any]]
    taken_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DecisionAidRecord(Base):
    __tablename__ = "decision_aids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict[str, Any]]
    leaning: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class UserSession(Base):
    """A clinician's signed-in session. The cookie carries a random token; only its hash is
    stored, so the table cannot be used to sign in. Ending a session revokes the row, which
    ends it for every copy of the cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Events that are rate-limited, by hashed key: failed sign-ins and new patients started.
    Kept in the database so that every worker shares the counts."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


# Care loop: alerts, their delivery, follow-up reminders -------------------------------------


class AlertChannel(Base):
    """Where a clinic's alerts go: an e-mail address or a webhook URL (HMAC-signed with
    ``secret``). ``include_reference`` puts the clinic's own label for the patient in the
    message; otherwise a message carries no patient detail beyond the urgency and a link."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    include_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """A patient of a clinic needs attention: the questionnaire stopped at the emergency screen,
    or an assessment came out urgent or emergency. Written in the same transaction as what
    raised it; ``seen`` and ``actioned`` record who acknowledged it and when."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_clinic_open", "clinic_id", "actioned_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(20))
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )
    findings: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime | None]
    seen_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actioned_at: Mapped[dt.datetime | None]
    actioned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OutboxMessage(Base):
    """A message to deliver (alert e-mail or webhook, reminder e-mail), written in the
    transaction that made it necessary and delivered later by ``spinepath worker``.

    A worker claims a message until ``claimed_until``; if it dies mid-delivery the claim lapses
    and another worker sends it again, so delivery is at least once and every message carries
    ``idempotency_key`` for the receiver to drop repeats."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_ready", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(2000))
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkerLease(Base):
    """A named job only one worker may run at a time (the reminder schedule; on SQLite also
    the outbox), held until ``expires_at`` unless renewed."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime]


class ReminderContact(Base):
    """A patient's e-mail address for follow-up reminders, with the consent they gave.

    The private link is stored sealed (AES-GCM under a key derived from the secret key): the
    reminder has to carry it, and the link is otherwise stored only as a hash."""

    __tablename__ = "reminder_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str] = mapped_column(String(320))
    sealed_link: Mapped[str] = mapped_column(String(500))
    consent_at: Mapped[dt.datetime]
    consent_text: Mapped[str] = mapped_column(String(500))
    stopped_at: Mapped[dt.datetime | None]


# CDS Hooks: tokens already used, and what clinicians did with the cards -----------------------


class CdsTokenSeen(Base):
    """The ``jti`` of every CDS Hooks JWT accepted, kept until it expires, so that a token
    cannot be replayed (a unique key: two workers cannot both accept one)."""

    __tablename__ = "cds_tokens_seen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issuer: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class CdsFeedback(Base):
    """A card accepted or overridden in the EHR, as its CDS client reported it."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    card_uuid: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    accepted_suggestions: Mapped[dict[str, Any]]
    override_reason: Mapped[dict[str, Any]]
    outcome_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who read or changed which patient's data, and every sign-in and sign-out.

    Append-only (triggers forbid UPDATE, DELETE and re-using an id) and hash-chained: each row's
    ``row_hash`` covers its fields and the previous row's hash (``store.audit_chain``), so
    ``spinepath audit verify`` finds any row changed, deleted or moved."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    patient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    clinic_id: Mapped[int | None] = mapped_column(Integer, index=True)
    route: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="")


# Enrolment ------------------------------------------------------------------------------------


class ClinicJoinCode(Base):
    """A code that attaches self-started patients to a clinic (``/join/{code}``).

    Kept as it is, not hashed: the clinic prints it on posters and must be able to show it again.
    It grants nothing but the right to send this clinic new answers, and a clinician can revoke it
    and make a new one at any time. At most one code of a clinic is live (not revoked)."""

    __tablename__ = "clinic_join_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class PatientLinkState(Base):
    """When a patient's private link was last re-issued or revoked by their clinic.

    No row: the link is the one made at invitation or start. Revoking replaces the stored hash
    with that of a token nobody was given, so the old link simply stops matching."""

    __tablename__ = "patient_links"

    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    reissued_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
