"""One plan, three engines: Polars, DuckDB and Spark (``local[2]``) give the same decision rows.

The people are a generated cohort (many unanswered questions, every subgroup) plus every example
intake; the Polars rows are themselves checked against the per-person engine elsewhere
(tests/population/test_assess.py, tests/engine/test_columnar_ndjson.py), so here each engine is
compared with Polars and, for a sample, with the per-person engine directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from spinepath import knowledge as kb
from spinepath.pathway.columnar import evaluate_lazy
from spinepath.pathway.engine import assess
from spinepath.pathway.fact_columns import fact_frame, intake_schema
from spinepath.pathway.intake import Intake
from spinepath.population import engines
from spinepath.population.generate import people
from support.files import example_paths
from support.stages import decided_rows, engine_stages

KEEP = ["person_id"]


def _intakes() -> list[dict[str, Any]]:
    examples = [json.loads(path.read_text(encoding="utf-8")) for path in example_paths()]
    return [*people(400, 23), *examples]


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = _intakes()
    directory = tmp_path_factory.mktemp("facts")
    source = directory / "intakes.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    raw = (
        pl.scan_ndjson(source, schema=intake_schema())
        .with_row_index("row")
        .with_columns(pl.format("p{}", pl.col("row")).alias("person_id"))
    )
    frame = fact_frame(raw, kb.default().fact_terms, keep=["person_id"]).collect()
    path = directory / "facts.parquet"
    frame.write_parquet(path)
    return path


@pytest.fixture(scope="module")
def polars_rows(facts: Path) -> pl.DataFrame:
    lazy = evaluate_lazy(pl.scan_parquet(facts), keep=KEEP)
    return lazy.collect(engine="in-memory").sort("person_id")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = engines.spark_session("local[2]")
    yield session
    session.stop()


def _same(expected: pl.DataFrame, found: pl.DataFrame) -> None:
    found = found.sort("person_id").cast(expected.schema)
    assert_frame_equal(found, expected)


def test_polars_agrees_with_the_per_person_engine(polars_rows: pl.DataFrame) -> None:
    rows = _intakes()
    order = polars_rows["person_id"].to_list()
    expected = [engine_stages(assess(Intake.model_validate(rows[int(p[1:])]))) for p in order]
    assert decided_rows(polars_rows) == expected


def test_duckdb_gives_the_same_rows(facts: Path, polars_rows: pl.DataFrame) -> None:
    _same(polars_rows, engines.duckdb_decisions(facts, KEEP))


def test_spark_gives_the_same_rows(spark: Any, facts: Path, polars_rows: pl.DataFrame) -> None:
    found = pl.DataFrame(engines.spark_decisions(spark, str(facts), KEEP).toArrow())
    _same(polars_rows, found)


def test_spark_writes_the_same_rows_from_its_executors(
    spark: Any, facts: Path, polars_rows: pl.DataFrame, tmp_path: Path
) -> None:
    written = tmp_path / "decisions"
    engines.spark_write_decisions(spark, str(facts), str(written), KEEP)
    found = pl.read_parquet(sorted(written.glob("part-*.parquet")))
    _same(polars_rows, found)
