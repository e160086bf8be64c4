"""Repository functions on both databases: links, worklist order, export and deletion."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from spinepath.pathway.assessment import Level
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import (
    AssessmentRecord,
    AuditEvent,
    Clinic,
    DecisionAidRecord,
    IntakeDraft,
    Note,
    Patient,
    ResponseRecord,
)
from spinepath.store.passwords import token_digest


def _clinic(session: Session, name: str = "Clinic") -> Clinic:
    return repository.create_clinic(session, name)


def _record(
    session: Session, patient: Patient, level: Level, unanswered: int, at: dt.datetime
) -> None:
    session.add(
        AssessmentRecord(
            patient_id=patient.id,
            intake={},
            assessment={"triage": {"headline": level.value}},
            level=level.value,
            level_rank=level.rank,
            unanswered_red_flags=unanswered,
            engine_version="test",
            knowledge_version="test",
            created_at=at,
        )
    )
    session.flush()


def test_a_link_token_is_stored_only_as_its_digest(database: Database) -> None:
    with database.session() as session:
        patient, raw = repository.create_patient(session, None)
        assert patient.link_token_hash == token_digest(raw)
        assert raw not in patient.link_token_hash
        found = repository.patient_by_link(session, raw)
        assert found is not None
        assert found.id == patient.id
        assert repository.patient_by_link(session, raw + "x") is None
        assert repository.patient_by_link(session, patient.link_token_hash) is None


def test_a_draft_is_saved_and_resumed(database: Database) -> None:
    with database.session() as session:
        patient, _raw = repository.create_patient(session, None)
        repository.save_draft(session, patient, {"age": "40"}, "about")
        repository.save_draft(session, patient, {"age": "41"}, "where")
    with database.session() as session:
        draft = repository.load_draft(session, patient)
        assert draft is not None
        assert (draft.answers, draft.step) == ({"age": "41"}, "where")


levels = st.sampled_from(list(Level))
rows = st.lists(
    st.tuples(levels, st.integers(0, 5), st.integers(0, 10_000)), min_size=1, max_size=8
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows, waiting=st.integers(0, 2))
def test_the_worklist_is_ordered_by_urgency_then_unanswered_red_flags_then_newest(
    database: Database, rows: list[tuple[Level, int, int]], waiting: int
) -> None:
    session = database.new_session()
    try:
        clinic = _clinic(session)
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for level, unanswered, minutes in rows:
            patient, _raw = repository.create_patient(session, clinic.id)
            _record(session, patient, level, unanswered, start + dt.timedelta(minutes=minutes))
        for _ in range(waiting):
            repository.create_patient(session, clinic.id)
        worklist = repository.worklist(session, clinic.id)
        assessed = [row for row in worklist if row.level is not None]
        keys = [
            (row.level.rank, row.unanswered_red_flags, row.assessed_at)
            for row in assessed
            if row.level is not None
        ]
        assert keys == sorted(keys, reverse=True)
        assert len(assessed) == len(rows)
        # Patients still answering come after everyone assessed.
        assert [row.level for row in worklist[len(assessed) :]] == [None] * waiting
    finally:
        session.rollback()
        session.close()


def test_the_worklist_shows_only_the_latest_assessment(database: Database) -> None:
    with database.session() as session:
        clinic = _clinic(session)
        patient, _raw = repository.create_patient(session, clinic.id)
        early = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        _record(session, patient, Level.EMERGENCY, 0, early)
        _record(session, patient, Level.ROUTINE, 1, early + dt.timedelta(days=7))
        (row,) = repository.worklist(session, clinic.id)
        assert (row.level, row.unanswered_red_flags, row.assessment_count) == (Level.ROUTINE, 1, 2)


def test_deleting_a_patient_keeps_no_clinical_content(database: Database) -> None:
    with database.session() as session:
        clinic = _clinic(session)
        patient, raw = repository.create_patient(session, clinic.id, reference="JS")
        _record(session, patient, Level.SOON, 2, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        repository.add_note(session, patient, None, "private remark")
        repository.save_draft(session, patient, {"what_matters_note": "my garden"}, "about")
        repository.save_decision_aid_values(session, patient, {"leaning": "unsure"}, "unsure")
        repository.record_response(
            session,
            patient,
            instrument="nrs_back",
            answers={"intensity": 5},
            score={"score": 5},
            taken_on=dt.date(2026, 1, 2),
        )
        repository.record_audit(
            session, actor_kind="patient", actor_id=patient.id, action="read", patient_id=patient.id
        )
        patient_id = patient.id
        repository.delete_patient(session, patient)
    with database.session() as session:
        assert repository.patient_by_link(session, raw) is None
        assert repository.patient_by_id(session, patient_id) is None
        for table in (AssessmentRecord, IntakeDraft, Note, ResponseRecord, DecisionAidRecord):
            assert session.query(table).count() == 0, table
        events = session.query(AuditEvent).all()
        assert [e.patient_id for e in events] == [patient_id]
        dumped = repr([(e.action, e.route, e.outcome, e.actor_id) for e in events])
        for content in ("private remark", "my garden", "JS", "unsure"):
            assert content not in dumped


def test_an_export_is_json_ready(database: Database) -> None:
    import json

    with database.session() as session:
        clinic = _clinic(session)
        patient, _raw = repository.create_patient(session, clinic.id)
        _record(session, patient, Level.SOON, 2, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        repository.add_note(session, patient, None, "note")
        export = repository.export_patient(session, patient)
    assert json.loads(json.dumps(export)) == export
    assert [a["assessment"]["triage"]["headline"] for a in export["assessments"]] == ["soon"]
