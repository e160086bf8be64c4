"""The web app under test, its settings, and the people in it: two clinics, each with a clinician,
a patient and an API token, and an administrator (fixtures in tests/conftest.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from itsdangerous import TimestampSigner

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.settings import Settings
from spinepath.store import repository, sessions
from spinepath.store.db import Database
from spinepath.store.models import User
from spinepath.store.passwords import hash_password

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "spinepath_session"


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "data_dir": data_dir,
        "cookie_secure": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def create_test_app(settings: Settings) -> FastAPI:
    from spinepath.web.app import create_app

    return create_app(settings)


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@dataclass(frozen=True)
class LinkedPatient:
    id: str
    link_token: str


@dataclass(frozen=True)
class World:
    """Two clinics, each with a clinician, a patient and an API token, and an administrator."""

    clinic_a: int
    clinic_b: int
    clinician_a: Person
    clinician_b: Person
    admin: Person
    patient_a: LinkedPatient
    patient_b: LinkedPatient
    token_a: str
    token_b: str


_password_hash: list[str] = []


def password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose."""
    if not _password_hash:
        _password_hash.append(hash_password(PASSWORD))
    return _password_hash[0]


def add_user(database: Database, email: str, role: str, clinic_id: int | None) -> Person:
    with database.session() as session:
        user = User(email=email, password_hash=password_hash(), role=role, clinic_id=clinic_id)
        session.add(user)
        session.flush()
        return Person(id=user.id, email=email)


def make_world(database: Database) -> World:
    with database.session() as session:
        clinic_a = repository.create_clinic(session, "Clinic A").id
        clinic_b = repository.create_clinic(session, "Clinic B").id
        patient_a, link_a = repository.create_patient(session, clinic_a, reference="A1")
        patient_b, link_b = repository.create_patient(session, clinic_b, reference="B1")
        _t, token_a = repository.create_api_token(session, clinic_id=clinic_a, name="a")
        _t, token_b = repository.create_api_token(session, clinic_id=clinic_b, name="b")
        patients = (LinkedPatient(patient_a.id, link_a), LinkedPatient(patient_b.id, link_b))
    return World(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        clinician_a=add_user(database, "a@clinic-a.example", "clinician", clinic_a),
        clinician_b=add_user(database, "b@clinic-b.example", "clinician", clinic_b),
        admin=add_user(database, "admin@example.org", "admin", None),
        patient_a=patients[0],
        patient_b=patients[1],
        token_a=token_a,
        token_b=token_b,
    )


def signed_session_cookie(secret: str, token: str) -> str:
    """A session cookie carrying ``token``, exactly as the app's SessionMiddleware signs it."""
    data = base64.b64encode(json.dumps({"sid": token}).encode())
    return TimestampSigner(secret).sign(data).decode()


def session_cookie(
    database: Database, settings: Settings, user_id: int, lifetime_seconds: int | None = None
) -> str:
    """A live database session for the user, and its signed cookie, as signing in creates."""
    seconds = settings.session_max_age_seconds if lifetime_seconds is None else lifetime_seconds
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        token = sessions.start_session(session, user, lifetime=dt.timedelta(seconds=seconds))
    return signed_session_cookie(settings.secret_key_value(), token)


def save_assessment(database: Database, patient_id: str, intake: dict[str, object]) -> None:
    """Assesses ``intake`` with the engine and stores it for the patient, as a submission would."""
    model = Intake.model_validate(intake)
    with database.session() as session:
        patient = repository.patient_by_id(session, patient_id)
        assert patient is not None
        repository.save_assessment(session, patient, model, assess(model))
