"""Invariants of every result: numerator <= denominator <= initial population, rates within
[0, 1], an inverted rate and its rate summing to 1, intervals holding the rate, ``ALL`` counting
everyone; on random per-person tables and on random data sets run end to end."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from population.measures.builders import Dataset, run
from spinepath.population import tables
from spinepath.population.measures import ALL_CLINICS, MEASURES, PERSON_RESULTS, summary
from spinepath.population.measures.definitions import Measure

CLINICS = st.sampled_from(["C1", "C2", "C3", None])
CONNECTION = duckdb.connect()  # one for every example: opening one costs more than the query


def check_rows(measure: Measure, rows: list[dict[str, Any]], people: pl.DataFrame) -> None:
    total = rows[0]
    assert total["clinic_id"] == ALL_CLINICS
    assert total["initial_population"] == people.filter(pl.col("measure_id") == measure.id).height
    assert total["centile"] is None
    clinics = rows[1:]
    for field in ("initial_population", "denominator", "numerator"):
        assert sum(r[field] for r in clinics) <= total[field]
    for r in rows:
        assert 0 <= r["numerator"] <= r["denominator"] <= r["initial_population"]
        assert r["initial_population"] == r["denominator"] + r["exclusions"]
        assert (r["rate"] is None) is (r["denominator"] == 0)
        if r["rate"] is None:
            continue
        assert 0.0 <= r["rate"] <= 1.0
        assert 0.0 <= r["reported_rate"] <= 1.0
        expected = 1.0 - r["rate"] if measure.inverted else r["rate"]
        assert r["reported_rate"] == pytest.approx(expected)
        assert r["ci_low"] <= r["reported_rate"] + 1e-12
        assert r["reported_rate"] <= r["ci_high"] + 1e-12
        assert r["higher_is_better"] is measure.higher_is_better
        if r["centile"] is not None:
            assert 0.0 <= r["centile"] <= 100.0


@st.composite
def person_tables(draw: st.DrawFn) -> tuple[Measure, pl.DataFrame]:
    measure = draw(st.sampled_from(MEASURES))
    count = draw(st.integers(min_value=0, max_value=40))
    rows = []
    for n in range(count):
        excluded = draw(st.booleans())
        event = draw(st.booleans())
        rows.append(
            {
                "measure_id": measure.id,
                "clinic_id": draw(CLINICS),
                "person_id": f"p{n}",
                "index_date": date(2024, 1, 1),
                "in_denominator": not excluded,
                "excluded": excluded,
                "exclusion_reason": "x" if excluded else None,
                "in_numerator": event and not excluded,
                "event_date": date(2024, 2, 1) if event else None,
                "days": draw(st.integers(min_value=0, max_value=400)),
                "detail": None,
            }
        )
    return measure, pl.DataFrame(rows, schema=dict(PERSON_RESULTS))


@settings(max_examples=60, deadline=None)
@given(person_tables())
def test_results_from_any_per_person_table(drawn: tuple[Measure, pl.DataFrame]) -> None:
    measure, people = drawn
    CONNECTION.register("person_results", people.to_arrow())
    try:
        found = summary.counts(CONNECTION, "person_results").get(measure.id, [])
        waits = summary.waits(CONNECTION, "person_results")
    finally:
        CONNECTION.unregister("person_results")
    rows = summary.measure_rows(measure, found, waits=waits)
    check_rows(measure, rows, people)


# --- end to end on random data sets --------------------------------------------------------------

DAYS = st.integers(min_value=-400, max_value=400)
START = date(2024, 1, 1)


def _day(offset: int) -> date:
    return START + timedelta(days=offset)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    ds = Dataset()
    for n in range(draw(st.integers(min_value=1, max_value=8))):
        pid = f"p{n}"
        birth = draw(st.sampled_from([date(1940, 1, 1), date(1980, 6, 1), date(2007, 5, 5), None]))
        ds.person(pid, clinic=draw(CLINICS), birth=birth)
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            onset = draw(st.none() | DAYS.map(_day))
            episode = ds.episode(
                pid,
                _day(draw(DAYS)),
                onset=onset,
                region=draw(st.sampled_from(["low_back", "low_back", "neck"])),
            )
            if draw(st.booleans()):
                ds.assessment(
                    pid,
                    _day(draw(DAYS)),
                    episode_id=episode,
                    pattern=draw(st.sampled_from(["non_specific", "radicular"])),
                    referral_due=draw(st.booleans()),
                    startback=draw(st.sampled_from([None, "low", "high"])),
                    care_plan=draw(
                        st.lists(
                            st.sampled_from(
                                ["CP-KEEP-ACTIVE", "CP-EXERCISE", "CP-RFD", "CP-EPIDURAL-SCIATICA"]
                            )
                        )
                    ),
                )
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            day = _day(draw(DAYS))
            match draw(st.integers(min_value=0, max_value=4)):
                case 0:
                    ds.image(pid, day, modality=draw(st.sampled_from(["xray", "mri"])))
                case 1:
                    ds.medication(pid, day, draw(st.sampled_from(tables.DRUG_CLASSES)))
                case 2:
                    ds.procedure(pid, day, draw(st.sampled_from(tables.PROCEDURE_KINDS)))
                case 3:
                    ds.condition(pid, draw(st.sampled_from(tables.CONDITION_CATEGORIES)), day)
                case _:
                    completed = draw(st.booleans())
                    ds.prom(
                        pid,
                        draw(st.sampled_from(tables.TIMEPOINTS)),
                        day,
                        instrument=draw(st.sampled_from(["odi", "ndi"])),
                        completed=day if completed else None,
                        score=float(draw(st.integers(0, 50))) if completed else None,
                    )
    return ds


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(datasets())
def test_every_measure_on_random_data_sets(tmp_path: Path, ds: Dataset) -> None:
    directory = tmp_path / str(abs(hash(repr(ds.rows))))
    found = run(ds, directory)
    people = found.read_people()
    assert people.filter(pl.col("in_numerator") & ~pl.col("in_denominator")).is_empty()
    assert (people.get_column("excluded") != people.get_column("in_denominator")).all()
    for measure in MEASURES:
        rows = found.results.filter(pl.col("measure_id") == measure.id).to_dicts()
        check_rows(measure, rows, people)
