"""Database contents for backup, restore and fault tests: a seeded world, the rows of every
table, and a check that the audit log's hash chain is intact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store import audit_chain, repository, sessions
from spinepath.store.db import Database
from spinepath.store.models import Base
from support.intakes import low_back_pain, sciatica_intake
from support.web import TEST_SECRET, make_world


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment the web commands read, for a test database and data directory."""
    return {
        "SPINEPATH_ENVIRONMENT": "test",
        "SPINEPATH_SECRET_KEY": TEST_SECRET,
        "SPINEPATH_DATABASE_URL": database_url,
        "SPINEPATH_DATA_DIR": str(data_dir),
        "COLUMNS": "240",
    }


def seed(database: Database) -> None:
    """Two clinics with their people, patients with assessments, answers, notes and a decision
    aid, sessions, a failed sign-in, and audit rows."""
    world = make_world(database)
    with database.session() as session:
        for patient_id, raw in ((world.patient_a.id, low_back_pain()), (world.patient_b.id, {})):
            patient = repository.patient_by_id(session, patient_id)
            assert patient is not None
            intake = Intake.model_validate(raw or sciatica_intake())
            repository.save_assessment(session, patient, intake, assess(intake))
            repository.save_draft(session, patient, {"age": 50}, "pain")
            repository.add_note(session, patient, None, f"note about {patient.reference}")
            repository.save_decision_aid_values(session, patient, {"surgery": 3}, "surgery")
            repository.record_response(
                session, patient, instrument="nrs", answers={"nrs": 6}, score={"total": 6},
                taken_on=dt.date(2026, 1, 5),
            )  # fmt: skip
            repository.record_audit(
                session, actor_kind="clinician", actor_id=world.clinician_a.id, action="read",
                patient_id=patient.id, clinic_id=patient.clinic_id, route="GET /api/v1/patients",
            )  # fmt: skip
        user = repository.user_by_email(session, world.clinician_a.email)
        sessions.start_session(session, user, lifetime=dt.timedelta(hours=1))
        repository.record_failed_login(session, ["someone@example.org"])


def write_one(database: Database, number: int) -> None:
    """What the app does all day: a new patient and an audit row, in one transaction."""
    with database.session() as session:
        patient, _link = repository.create_patient(session, None, reference=f"W{number}")
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="write", patient_id=patient.id
        )


def contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, the schema revision's too, in key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in connection.execute(query)]
        revision = connection.execute(text("SELECT version_num FROM alembic_version"))
        tables["alembic_version"] = [tuple(row) for row in revision]
    return tables


def assert_chain_intact(database: Database) -> None:
    with database.session() as session:
        result = audit_chain.verify(session)
    assert result.intact, result.problems
    assert result.rows > 0
