"""spinepath's own database as a population data set: people, their one episode, assessments,
PROMs on the follow-up schedule, alerts; what the database lacks left empty; bad databases
refused; and the data set through FHIR and back unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import spinepath.cli.population_import  # noqa: F401 - registers the commands on the group
from population.test_fhir_bulk import assert_same_tables
from spinepath.cli.population_group import population
from spinepath.instruments import catalogue
from spinepath.instruments.scoring import score
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.population import from_store, tables
from spinepath.population.fhir_bulk_in import import_fhir_bulk
from spinepath.population.fhir_bulk_out import write_fhir_bulk
from spinepath.population.from_store import ALERTS, ALERTS_FILE, StoreError, import_store
from spinepath.population.intake_column import read_intake
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import Alert, AssessmentRecord
from support.cli import command_app
from support.intakes import data, region

D = dt.date
AS_OF = D(2025, 5, 1)
STARTBACK = {f"q{n}": n % 2 == 0 for n in range(1, 9)} | {"q9": "moderately"}


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _odi(answer: int) -> dict[str, Any]:
    return {item.code: answer for item in catalogue.get("odi").items}


def _seed(database: Database) -> dict[str, Any]:
    """Three patients of which the first has two assessments, PROMs and an alert; the second
    nothing; the third an intake the model refuses (stored before a change of the model)."""
    first = Intake.model_validate(
        data(sex="female", regions=[region(duration_weeks=6)], startback=STARTBACK)
    )
    second = Intake.model_validate(data(sex="male", regions=[region("neck"), region()]))
    with database.session() as session:
        clinic = repository.create_clinic(session, "North")
        p1, _ = repository.create_patient(session, clinic.id)
        p2, _ = repository.create_patient(session, None)
        p3, _ = repository.create_patient(session, clinic.id)
        for number, patient in enumerate((p1, p2, p3), 1):
            patient.created_at = _at(D(2025, 1, number))
        a1 = repository.save_assessment(session, p1, first, assess(first))
        a1.created_at = _at(D(2025, 1, 10))
        a2 = repository.save_assessment(session, p1, second, assess(second))
        a2.created_at = _at(D(2025, 3, 1))
        stale = AssessmentRecord(
            patient_id=p3.id, intake={"age": 40}, assessment={}, level="routine", level_rank=1,
            unanswered_red_flags=0, engine_version="old", knowledge_version="old",
            created_at=_at(D(2025, 2, 2)),
        )  # fmt: skip
        session.add(stale)
        for answers, day in ((_odi(2), D(2025, 1, 10)), (_odi(1), D(2025, 2, 20))):
            repository.record_response(
                session, p1, instrument="odi", answers=answers,
                score=score("odi", answers).model_dump(mode="json"), taken_on=day,
            )  # fmt: skip
        repository.record_response(
            session, p1, instrument="odi", answers=_odi(0),
            score=score("odi", _odi(0)).model_dump(mode="json"), taken_on=D(2025, 3, 20),
        )  # fmt: skip
        repository.record_response(
            session, p1, instrument="nrs_back", answers={}, score={"valid": False},
            taken_on=D(2025, 1, 15),
        )  # fmt: skip
        session.flush()
        session.add(
            Alert(
                clinic_id=clinic.id, patient_id=p1.id, kind="urgent_result", level="urgent",
                assessment_id=a1.id, findings={}, created_at=_at(D(2025, 1, 10)),
                seen_at=_at(D(2025, 1, 11)),
            )
        )  # fmt: skip
        session.flush()
        return {
            "clinic": str(clinic.id),
            "p1": p1.id,
            "p2": p2.id,
            "p3": p3.id,
            "a1": str(a1.id),
            "a2": str(a2.id),
            "stale": str(stale.id),
            "first": first,
            "second": second,
        }


@pytest.fixture
def seeded(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    ids = _seed(database)
    # Two patients a chunk: the third is read in a second chunk, as a large database is.
    monkeypatch.setattr(from_store, "PATIENTS_PER_CHUNK", 2)
    summary = import_store(database_url, tmp_path / "dataset", as_of=AS_OF, chunk_rows=2)
    ids["summary"] = summary
    ids["dataset"] = tmp_path / "dataset"
    return ids


def _table(directory: Path, table: str) -> list[tuple[Any, ...]]:
    return tables.scan(directory, table).collect().rows()


def test_people_are_the_patients_with_their_clinic_and_latest_sex(seeded: dict[str, Any]) -> None:
    assert _table(seeded["dataset"], "people") == [
        (seeded["p1"], seeded["clinic"], "male", None),
        (seeded["p2"], None, "unknown", None),
        (seeded["p3"], seeded["clinic"], "unknown", None),
    ]


def test_the_first_assessment_opens_the_one_episode(seeded: dict[str, Any]) -> None:
    # Six weeks of low back pain on 10 January: onset 29 November.
    episode = f"e{seeded['a1']}"
    assert _table(seeded["dataset"], "episodes") == [
        (seeded["p1"], episode, "low_back", D(2025, 1, 10), D(2024, 11, 29), None, None, None)
    ]
    found = tables.scan(seeded["dataset"], "assessments").collect()
    assert found.drop("intake").rows() == [
        (seeded["p1"], seeded["a1"], episode, D(2025, 1, 10)),
        (seeded["p1"], seeded["a2"], episode, D(2025, 3, 1)),
    ]
    assert [read_intake(v) for v in found["intake"]] == [seeded["first"], seeded["second"]]


def test_a_stored_intake_the_model_refuses_is_an_error_row(seeded: dict[str, Any]) -> None:
    with (seeded["dataset"] / "import-errors.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["file"], r["line"], r["field"]) for r in rows] == [
        ("assessments", seeded["stale"], "intake")
    ]
    assert "regions" in rows[0]["message"]
    assert seeded["summary"].errors == 1


def test_proms_follow_the_schedule_from_the_first_valid_score(seeded: dict[str, Any]) -> None:
    """By hand: ODI 40 % on 10 January is the baseline; 20 % on 20 February is the 6-week
    follow-up (due 21 February, within 14 days); nothing near 10 April, so on 1 May the 3-month
    one is due and not done; 12 months is not due yet; 20 March fits no time point. The NRS
    response was not scored, so it has no baseline and no time point."""
    p1 = seeded["p1"]
    assert sorted(_table(seeded["dataset"], "proms"), key=str) == sorted(
        [
            (p1, "odi", "baseline", D(2025, 1, 10), D(2025, 1, 10), 40.0),
            (p1, "odi", "6_weeks", D(2025, 2, 21), D(2025, 2, 20), 20.0),
            (p1, "odi", "3_months", D(2025, 4, 10), None, None),
            (p1, "odi", None, None, D(2025, 3, 20), 0.0),
            (p1, "nrs_back", None, None, D(2025, 1, 15), None),
        ],
        key=str,
    )


def test_startback_answered_is_a_risk_stratification(seeded: dict[str, Any]) -> None:
    assert _table(seeded["dataset"], "procedures") == [
        (seeded["p1"], D(2025, 1, 10), "risk_stratification", "http://loinc.org", "91349-1")
    ]


def test_what_the_database_does_not_hold_is_written_empty(seeded: dict[str, Any]) -> None:
    for table in ("conditions", "imaging", "medications", "referrals"):
        assert tables.scan(seeded["dataset"], table).collect().height == 0


def test_alerts_are_kept_beside_the_tables(seeded: dict[str, Any]) -> None:
    alerts = pl.read_parquet(seeded["dataset"] / ALERTS_FILE)
    assert alerts.schema == pl.Schema(ALERTS)
    assert alerts.rows() == [
        (seeded["p1"], seeded["clinic"], seeded["a1"], "urgent_result", "urgent",
         D(2025, 1, 10), D(2025, 1, 11), None)
    ]  # fmt: skip


def test_the_data_set_goes_through_fhir_and_back_unchanged(
    seeded: dict[str, Any], tmp_path: Path
) -> None:
    summary = write_fhir_bulk(seeded["dataset"], tmp_path / "fhir")
    assert (summary.errors, summary.warnings) == (0, 0)
    import_fhir_bulk(tmp_path / "fhir", tmp_path / "back")
    assert_same_tables(seeded["dataset"], tmp_path / "back")


def test_a_missing_or_foreign_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no SQLite database file"):
        import_store(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "out")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER)")
    connection.close()
    with pytest.raises(StoreError, match="not a spinepath database"):
        import_store(f"sqlite:///{foreign}", tmp_path / "out")
    with pytest.raises(StoreError, match="not a database URL"):
        import_store("nonsense", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _run(*args: str) -> Any:
    return CliRunner().invoke(command_app(population), ["population", *args])


def test_the_command_imports_the_database(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    _seed(database)
    result = _run(
        "import", "--from", "store", "--source", database_url, "--out", str(tmp_path / "out"),
        "--as-of", "2025-05-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rows per table: people 3, episodes 1, assessments 2" in result.stderr
    assert "1 records not read" in result.stderr
    assert len(_table(tmp_path / "out", "proms")) == 5


def test_the_command_refuses_a_database_it_cannot_read(tmp_path: Path) -> None:
    result = _run(
        "import", "--from", "store", "--source", f"sqlite:///{tmp_path / 'none.db'}",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--source" in result.stderr
    assert "no SQLite database file" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
