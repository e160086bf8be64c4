"""Enrolment: clinic join codes, attaching self-started patients, re-issuing and revoking links.

Each function takes the caller's ``Session``; the caller owns the transaction and the audit row.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spinepath.store.models import Clinic, ClinicJoinCode, Patient, PatientLinkState, utcnow
from spinepath.store.passwords import new_secret_token, token_digest
from spinepath.store.repository import LINK_TOKEN_PREFIX

JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 symbols with nothing to confuse when read aloud or off a poster: no 0/O, no 1/I."""
JOIN_CODE_LENGTH = 8
"""40 bits: far beyond guessing at the rate-limited pace of wrong codes."""
_SEPARATORS = str.maketrans("", "", " -")


class AlreadyInClinicError(ValueError):
    """The patient already belongs to a clinic: a code never moves them to another."""


def normalise_code(raw: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None when it cannot be one."""
    code = raw.translate(_SEPARATORS).upper()
    if len(code) != JOIN_CODE_LENGTH or any(c not in JOIN_CODE_ALPHABET for c in code):
        return None
    return code


def display_code(code: str) -> str:
    """``ABCD2345`` as ``ABCD-2345``: two halves are easier to read out and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _random_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def live_join_code(session: Session, clinic_id: int) -> ClinicJoinCode | None:
    return session.scalar(
        select(ClinicJoinCode).where(
            ClinicJoinCode.clinic_id == clinic_id, ClinicJoinCode.revoked_at.is_(None)
        )
    )


def revoke_join_code(session: Session, clinic_id: int) -> bool:
    """Turns the clinic's live code off; False when it had none."""
    result = session.execute(
        update(ClinicJoinCode)
        .where(ClinicJoinCode.clinic_id == clinic_id, ClinicJoinCode.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.flush()
    return bool(getattr(result, "rowcount", 0))


def new_join_code(session: Session, clinic_id: int, created_by: int | None) -> ClinicJoinCode:
    """A fresh code for the clinic; its previous code stops working."""
    revoke_join_code(session, clinic_id)
    code = _random_code()
    while session.scalar(select(ClinicJoinCode.id).where(ClinicJoinCode.code == code)):
        code = _random_code()  # a collision in 2**40 is rare, but a revoked code is never reused
    join_code = ClinicJoinCode(clinic_id=clinic_id, code=code, created_by=created_by)
    session.add(join_code)
    session.flush()
    return join_code


def clinic_for_code(session: Session, raw: str) -> Clinic | None:
    """The clinic whose live code this is; None for a malformed, unknown or revoked code."""
    code = normalise_code(raw)
    if code is None:
        return None
    return session.scalar(
        select(Clinic)
        .join(ClinicJoinCode, ClinicJoinCode.clinic_id == Clinic.id)
        .where(ClinicJoinCode.code == code, ClinicJoinCode.revoked_at.is_(None))
    )


def clinic_of(session: Session, patient: Patient) -> Clinic | None:
    return session.get(Clinic, patient.clinic_id) if patient.clinic_id is not None else None


def attach_to_clinic(session: Session, patient: Patient, clinic_id: int) -> None:
    """Gives a patient without a clinic to this one.

    A single conditional UPDATE, so two codes entered at once cannot both win, and a patient who
    already belongs to a clinic is never moved (``AlreadyInClinicError``).
    """
    result = session.execute(
        update(Patient)
        .where(Patient.id == patient.id, Patient.clinic_id.is_(None))
        .values(clinic_id=clinic_id)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise AlreadyInClinicError("this patient already belongs to a clinic")
    session.refresh(patient)


def _state(session: Session, patient: Patient) -> PatientLinkState:
    state = session.get(PatientLinkState, patient.id)
    if state is None:
        state = PatientLinkState(patient_id=patient.id)
        session.add(state)
    return state


def link_state(session: Session, patient: Patient) -> PatientLinkState | None:
    return session.get(PatientLinkState, patient.id)


def reissue_link(session: Session, patient: Patient) -> str:
    """A new private link for the patient, returned raw (shown once); the old one stops working."""
    raw = new_secret_token(LINK_TOKEN_PREFIX)
    patient.link_token_hash = token_digest(raw)
    state = _state(session, patient)
    state.reissued_at = utcnow()
    state.revoked_at = None
    session.flush()
    return raw


def revoke_link(session: Session, patient: Patient) -> None:
    """The patient's link stops working: its stored hash becomes that of a token nobody has."""
    patient.link_token_hash = token_digest(new_secret_token(LINK_TOKEN_PREFIX))
    _state(session, patient).revoked_at = utcnow()
    session.flush()
