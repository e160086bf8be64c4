"""The measures run out of core: DuckDB within a memory limit, spilling inside the output
directory, writing the per-person table and the gaps lists with ``COPY``. What they write must
be exactly what the in-memory way of computing them gave (kept below as the reference: every
measure's rows fetched into Polars, concatenated, counted and written from memory), in the order
the documentation gives."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from spinepath.pathway.assessment import Level
from spinepath.population import tables
from spinepath.population.care_plan import CareSettings
from spinepath.population.generate_dataset import write_dataset
from spinepath.population.measures import (
    ALL_CLINICS,
    MEASURES,
    PERSON_RESULTS,
    MeasureResults,
    compute_measures,
    memory,
    proms,
    summary,
    write_measures,
)
from spinepath.population.measures.casemix import (
    INSTRUMENT_LEVELS,
    SEX_LEVELS,
    Adjustment,
    design,
    predicted,
)
from spinepath.population.measures.compute import PEOPLE_FILE, WORK_DIR
from spinepath.population.measures.dataset import open_dataset
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.measures.episodes import create_helper_tables
from spinepath.population.measures.survival import km_quantiles

GENERATED = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
CARE_PLAN_ITEMS = (
    "CP-KEEP-ACTIVE",
    "CP-EXERCISE",
    "CP-RFD",
    "CP-EPIDURAL-SCIATICA",
    "CP-COMBINED-PROGRAMME",
)


def _pathway(dataset: Path, path: Path) -> None:
    """Decisions for every assessment, drawn at random (seeded) so that every measure has people
    in and out of its numerator; which decisions they are does not matter here."""
    draw = random.Random(5)  # noqa: S311  (test data, not secrets)
    # The people seen by a surgeon are due a referral, so that the waits have events.
    seen = set(
        tables.scan(dataset, "procedures")
        .filter(pl.col("kind") == "surgical_opinion")
        .collect()
        .get_column("person_id")
        .to_list()
    )
    assessments = tables.scan(dataset, "assessments").select(
        "person_id", "assessment_id", "assessed_on"
    )
    rows = [
        {
            **row,
            "level": draw.choice([level.value for level in Level]),
            "concerns": draw.choice([[], [], ["RF-CANCER"]]),
            "pattern": draw.choice(["non_specific", "non_specific", "radicular"]),
            "candidacy": "not_candidate",
            "referral_due": row["person_id"] in seen or draw.random() < 0.05,
            "imaging_indicated": draw.random() < 0.1,
            "startback_group": draw.choice([None, "low", "medium", "high"]),
            "still_to_ask": [],
            "care_plan": draw.sample(CARE_PLAN_ITEMS, draw.randint(0, 3)),
            "not_recommended": [],
            "review_after_weeks": None,
        }
        for row in assessments.collect().iter_rows(named=True)
    ]
    pl.DataFrame(rows, schema=dict(tables.PATHWAY)).write_parquet(path)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("generated")
    dataset = directory / "dataset"
    dataset.mkdir()
    write_dataset(dataset, 1500, 3, settings=CareSettings(clinics=5, year=2024), workers=1)
    # Some people without a clinic, so that the order "no clinic last" is exercised.
    people = tables.table_path(dataset, "people")
    frame = pl.read_parquet(people)
    no_clinic = pl.Series(range(frame.height)) % 29 == 0
    frame.with_columns(
        clinic_id=pl.when(no_clinic).then(None).otherwise(pl.col("clinic_id"))
    ).write_parquet(people)
    # A generated neck-pain patient has an NDI and no low back episode to time the pain from,
    # so "duration unknown" would be the same column as "NDI" and the case-mix model could not
    # be fitted; recording a third of them as ODI lets it be, so its numbers are compared too.
    proms_path = tables.table_path(dataset, "proms")
    relabelled = (pl.col("instrument") == "ndi") & (pl.col("person_id").hash(1) % 3 == 0)
    pl.read_parquet(proms_path).with_columns(
        instrument=pl.when(relabelled).then(pl.lit("odi")).otherwise(pl.col("instrument"))
    ).write_parquet(proms_path)
    pathway = directory / "pathway.parquet"
    _pathway(dataset, pathway)
    return dataset, pathway


@pytest.fixture(scope="module")
def written(
    inputs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[MeasureResults, Path]:
    out = tmp_path_factory.mktemp("measures") / "results"
    found = compute_measures(*inputs, out)
    write_measures(found, out, generated=GENERATED)
    return found, out


# --- the reference: the in-memory computation the measures used before ---------------------


def _reference_rows(con: duckdb.DuckDBPyConnection, measure: Measure) -> pl.DataFrame:
    sql = f"""
SELECT '{measure.id}' AS measure_id, pe.clinic_id, m.person_id, m.index_date,
       m.exclusion_reason IS NULL AS in_denominator,
       m.exclusion_reason IS NOT NULL AS excluded,
       m.exclusion_reason,
       coalesce(m.in_numerator, FALSE) AND m.exclusion_reason IS NULL AS in_numerator,
       m.event_date, CAST(m.days AS INTEGER) AS days, m.detail
FROM ({measure.sql}) m LEFT JOIN people pe ON pe.person_id = m.person_id
ORDER BY pe.clinic_id NULLS LAST, m.person_id
"""  # noqa: S608
    found: pl.DataFrame = con.sql(sql).pl()
    return found.select(pl.col(name).cast(dtype) for name, dtype in PERSON_RESULTS.items())


def _reference_adjustments(people: pl.DataFrame, covariates: pl.DataFrame) -> dict[str, Adjustment]:
    frame = (
        people.filter(pl.col("in_denominator"))
        .select("person_id", "clinic_id", "in_numerator")
        .join(covariates, on="person_id", how="inner")
    )
    frame = frame.with_columns(
        *[(pl.col("sex") == level).alias(level) for level in SEX_LEVELS],
        *[(pl.col("instrument") == level).alias(level) for level in INSTRUMENT_LEVELS],
    )
    outcome = frame.get_column("in_numerator").cast(pl.Float64).to_numpy()
    probabilities = predicted(outcome, design(frame))
    assert probabilities is not None
    overall = float(outcome.mean())
    groups = (
        frame.select("clinic_id", "in_numerator")
        .with_columns(pl.Series("p", probabilities))
        .filter(pl.col("clinic_id").is_not_null())
        .group_by("clinic_id")
        .agg(pl.col("p").sum().alias("expected"), pl.col("in_numerator").sum().alias("observed"))
    )
    rows = [(ALL_CLINICS, float(np.sum(probabilities)), float(outcome.sum()))]
    rows += [(r["clinic_id"], r["expected"], r["observed"]) for r in groups.iter_rows(named=True)]
    return {c: Adjustment(e, o / e * overall) for c, e, o in rows if e > 0}


def _reference_waits(people: pl.DataFrame, clinics: list[str]) -> dict[str, list[float | None]]:
    found = {}
    for clinic in [ALL_CLINICS, *clinics]:
        chosen = people if clinic == ALL_CLINICS else people.filter(pl.col("clinic_id") == clinic)
        days = chosen.get_column("days").fill_null(0).to_list()
        seen = chosen.get_column("event_date").is_not_null().to_list()
        found[clinic] = km_quantiles(days, seen)
    return found


def _reference_gaps(measure: Measure, people: pl.DataFrame) -> bytes:
    chosen = people.filter(
        (pl.col("measure_id") == measure.id)
        & pl.col("in_denominator")
        & (pl.col("in_numerator") != measure.numerator_is_good)
    )
    reason = pl.lit(measure.gap)
    with_detail = pl.concat_str([reason, pl.lit(": "), pl.col("detail")])
    frame = chosen.sort("clinic_id", "person_id", nulls_last=True).select(
        "clinic_id",
        "person_id",
        "index_date",
        pl.when(pl.col("detail").is_null()).then(reason).otherwise(with_detail).alias("reason"),
    )
    return frame.write_csv().encode("utf-8")


@pytest.fixture(scope="module")
def reference(inputs: tuple[Path, Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-person table and the results as the in-memory computation gave them."""
    con = duckdb.connect()
    try:
        open_dataset(con, *inputs)
        create_helper_tables(con)
        frames = {m.id: _reference_rows(con, m) for m in MEASURES}
        covariates = con.sql(proms.COVARIATES_SQL).pl()
        people = pl.concat(list(frames.values()), how="vertical")
        con.register("person_results", people.to_arrow())
        found = summary.counts(con, "person_results")
    finally:
        con.close()
    rows: list[dict[str, Any]] = []
    for measure in MEASURES:
        counts = found.get(measure.id, [])
        clinics = [r["clinic_id"] for r in counts[1:]]
        adjustments = (
            _reference_adjustments(frames[measure.id], covariates)
            if measure.kind is Kind.CASE_MIX
            else None
        )
        waits = (
            _reference_waits(frames[measure.id], clinics)
            if measure.kind is Kind.TIME_TO_EVENT
            else None
        )
        rows += summary.measure_rows(measure, counts, adjustments, waits)
    return people, summary.results_frame(rows)


# --- the same outputs ----------------------------------------------------------------------


def test_the_per_person_table_is_the_one_computed_in_memory(
    written: tuple[MeasureResults, Path], reference: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    people = pl.read_parquet(written[1] / PEOPLE_FILE)
    assert people.height > 10_000  # every measure has people
    assert people.schema == pl.Schema(PERSON_RESULTS)
    assert_frame_equal(people, reference[0], check_exact=True)


def test_the_results_are_the_ones_computed_in_memory(
    written: tuple[MeasureResults, Path], reference: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    results = written[0].results
    totals = {
        r["measure_id"]: r for r in results.filter(pl.col("clinic_id") == ALL_CLINICS).to_dicts()
    }
    # The waits and the case-mix model are compared on numbers, not on nulls.
    assert totals["time-to-surgical-opinion"]["p25_days"] is not None
    assert totals["prom-mcid-responders"]["expected"] is not None
    assert_frame_equal(results, reference[1], check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    assert_frame_equal(pl.read_parquet(written[1] / "measures.parquet"), results)


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.id)
def test_each_gaps_list_is_byte_for_byte_the_one_written_from_memory(
    written: tuple[MeasureResults, Path],
    reference: tuple[pl.DataFrame, pl.DataFrame],
    measure: Measure,
) -> None:
    found = (written[1] / "gaps" / f"{measure.id}.csv").read_bytes()
    assert found == _reference_gaps(measure, reference[0])


# --- the documented order ------------------------------------------------------------------


def _sorted_by_clinic_then_person(frame: pl.DataFrame) -> bool:
    keys = list(zip(frame["clinic_id"], frame["person_id"], strict=True))
    return keys == sorted(keys, key=lambda k: (k[0] is None, k[0] or "", k[1]))


def test_the_per_person_table_goes_measure_by_measure_by_clinic_then_person(
    written: tuple[MeasureResults, Path],
) -> None:
    people = written[0].read_people()
    order = people.get_column("measure_id").unique(maintain_order=True).to_list()
    assert order == [m.id for m in MEASURES]
    for measure in MEASURES:
        rows = people.filter(pl.col("measure_id") == measure.id)
        assert rows.get_column("clinic_id").null_count() > 0
        assert _sorted_by_clinic_then_person(rows), measure.id


def test_each_gaps_list_goes_by_clinic_then_person_with_no_clinic_last(
    written: tuple[MeasureResults, Path],
) -> None:
    listed = 0
    for measure in MEASURES:
        gaps = pl.read_csv(written[1] / "gaps" / f"{measure.id}.csv", infer_schema=False)
        assert gaps.columns == ["clinic_id", "person_id", "index_date", "reason"]
        assert _sorted_by_clinic_then_person(gaps), measure.id
        listed += gaps.height
    assert listed > 1000


# --- memory limit and spill directory ------------------------------------------------------

GIB = 1024**3


@pytest.mark.parametrize(
    ("machine", "limit"),
    [(64 * GIB, 4 * GIB), (8 * GIB, 2 * GIB), (GIB, GIB // 2), (None, 4 * GIB)],
)
def test_the_memory_limit_is_a_quarter_of_the_machine_within_bounds(
    monkeypatch: pytest.MonkeyPatch, machine: int | None, limit: int
) -> None:
    monkeypatch.setattr(memory, "physical_memory", lambda: machine)
    assert memory.memory_limit() == limit


@pytest.mark.parametrize(
    ("limit", "cpus", "threads"),
    [(4 * GIB, 2, 2), (4 * GIB, 16, 4), (GIB, 8, 1), (GIB * 6 // 10, 8, 1), (3 * GIB, 1, 1)],
)
def test_duckdb_runs_a_thread_per_gib_at_most(limit: int, cpus: int, threads: int) -> None:
    assert memory.threads(limit, cpus) == threads


def test_the_machines_memory_is_read() -> None:
    found = memory.physical_memory()
    assert found is not None
    assert found > 256 * 1024**2


def test_a_connection_has_the_limit_and_a_spill_directory_removed_after(tmp_path: Path) -> None:
    with memory.connect(tmp_path, limit=3 * GIB) as con:
        limit, spill, ordered, threads = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('preserve_insertion_order'), current_setting('threads')"
        ).fetchall()[0]
        assert limit == "3.0 GiB"
        assert threads == memory.threads(3 * GIB)
        assert Path(spill).parent == tmp_path
        assert Path(spill).name.startswith(memory.SPILL_PREFIX)
        assert Path(spill).is_dir()
        assert ordered is False  # the outputs are sorted with ORDER BY instead
    assert not Path(spill).exists()
    assert list(tmp_path.iterdir()) == []


def test_work_past_the_limit_spills_into_the_directory(tmp_path: Path) -> None:
    (tmp_path / "spill").mkdir()
    sorted_file = tmp_path / "sorted.parquet"
    with memory.connect(tmp_path / "spill", limit=64 * 1024**2) as con:
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
        # About 150 MB of rows, then a sort of them: both past the 64 MiB limit.
        con.execute(
            "CREATE TABLE t AS SELECT hash(range) AS k, repeat('x', 40) AS pad FROM range(3000000)"
        )
        spilled = list(spill.iterdir())
        con.execute(f"COPY (SELECT k FROM t ORDER BY k) TO '{sorted_file}' (FORMAT parquet)")  # noqa: S608
    assert spilled
    assert not spill.exists()
    keys = pl.read_parquet(sorted_file).get_column("k")
    assert keys.len() == 3_000_000
    assert keys.is_sorted()


def test_compute_spills_inside_the_output_and_leaves_only_the_per_person_table(
    inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: list[tuple[Any, ...]] = []
    connect = memory.connect

    @contextlib.contextmanager
    def recording(
        spill_parent: Path | None = None, *, limit: int | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(spill_parent, limit=limit) as con:
            yield con
            query = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            settings.append(con.execute(query).fetchall()[0])

    monkeypatch.setattr(memory, "connect", recording)
    monkeypatch.setattr(memory, "memory_limit", lambda: 2 * GIB)
    out = tmp_path / "results"
    compute_measures(*inputs, out, measures=MEASURES[:2])
    [(limit, spill)] = settings
    assert limit == "2.0 GiB"
    assert Path(spill).parent == out / WORK_DIR
    assert [p.name for p in out.iterdir()] == [PEOPLE_FILE]
