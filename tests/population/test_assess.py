"""`spinepath population assess`: the whole pathway over a data set or intake NDJSON.

Every decision row must equal what the per-person engine decides for that intake, whatever the
chunk size or number of worker processes; refused intakes are reported naming the field; bad
input exits 2 and writes nothing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal
from typer.testing import Result

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.population import tables
from spinepath.population.care_plan import CareSettings
from spinepath.population.generate import people
from spinepath.population.generate_dataset import write_dataset
from spinepath.population.measures import compute_measures
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.stages import decided_rows, engine_stages, without_nulls


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dataset")
    write_dataset(directory, 300, 11, settings=CareSettings(clinics=4, year=2025), workers=1)
    return directory


def _run(*args: str) -> Result:
    return cli_runner(PLAIN_WIDE).invoke(spinepath_app(), ["population", "assess", *args])


def _expected(intakes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [engine_stages(assess(Intake.model_validate(i))) for i in intakes]


def _decided(path: Path) -> list[dict[str, Any]]:
    return decided_rows(pl.read_parquet(path))


def test_every_row_equals_the_per_person_engine(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "pathway.parquet"
    result = _run("--dataset", str(dataset), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "300 assessments" in result.output
    assert "rows/s" in result.output
    written = pl.read_parquet(out)
    assert written.schema == pl.Schema(tables.PATHWAY)
    source = tables.scan(dataset, "assessments").collect()
    assert written["assessment_id"].to_list() == source["assessment_id"].to_list()
    assert written["person_id"].to_list() == source["person_id"].to_list()
    intakes = [without_nulls(i) for i in source["intake"].to_list()]
    assert _decided(out) == _expected(intakes)


def test_chunks_and_worker_processes_do_not_change_the_rows(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = tmp_path / "one.parquet"
    many = tmp_path / "many.parquet"
    handoff = tmp_path / "temp"
    handoff.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(handoff))
    assert _run("--dataset", str(dataset), "--out", str(one), "--workers", "1").exit_code == 0
    result = _run("--dataset", str(dataset), "--out", str(many), "--chunk", "37", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(one).equals(pl.read_parquet(many))
    # The workers' hand-off files are gone, and the file holds plain Arrow strings and lists
    # for any reader, not Polars' own string layout.
    assert list(handoff.iterdir()) == []
    schema = pq.read_schema(many)
    assert schema.field("level").type == pa.string()
    assert schema.field("care_plan").type == pa.list_(pa.string())


def test_duckdb_gives_the_same_rows_as_polars(dataset: Path, tmp_path: Path) -> None:
    polars_out = tmp_path / "polars.parquet"
    duckdb_out = tmp_path / "duckdb.parquet"
    assert (
        _run("--dataset", str(dataset), "--out", str(polars_out), "--workers", "1").exit_code == 0
    )
    result = _run("--dataset", str(dataset), "--out", str(duckdb_out), "--engine", "duckdb")
    assert result.exit_code == 0, result.output
    expected = pl.read_parquet(polars_out)
    found = pl.read_parquet(duckdb_out).sort("assessment_id")
    assert_frame_equal(found, expected.sort("assessment_id"))


def test_intake_ndjson_is_assessed_and_refused_lines_reported(tmp_path: Path) -> None:
    rows = list(people(60, 5))
    broken = json.loads(json.dumps(rows[3]))
    broken["age"] = 12
    lines = [*rows[:3], broken, *rows[4:]]
    source = tmp_path / "intakes.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    out = tmp_path / "pathway.parquet"
    refused = tmp_path / "refused.parquet"
    result = _run(
        "--intakes", str(source), "--out", str(out), "--rejected", str(refused), "--chunk", "25"
    )
    assert result.exit_code == 0, result.output
    assert "1 assessments refused; the first, line-4: age:" in result.output
    assert pl.read_parquet(refused).to_dicts() == [
        {"person_id": "line-4", "assessment_id": "line-4", "errors": ["age: must be 16 or over"]}
    ]
    written = pl.read_parquet(out)
    assert written["person_id"].to_list() == [f"line-{n}" for n in range(1, 61) if n != 4]
    assert _decided(out) == _expected(rows[:3] + rows[4:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give one of --dataset DIR or --intakes FILE"),
        (["--dataset", "D", "--intakes", "I"], "give one of --dataset DIR or --intakes FILE"),
        (["--dataset", "D", "--chunk", "0"], "--chunk must be 1 or more, not 0"),
        (["--dataset", "D", "--workers", "-1"], "--workers must be 0"),
        (["--dataset", "missing"], "--dataset missing: missing: no assessments.parquet"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "D").mkdir()
    (tmp_path / "missing").mkdir()
    result = _run(*args, "--out", "out.parquet")
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out.parquet").exists()


def test_a_value_of_the_wrong_type_stops_the_run_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "intakes.ndjson"
    row = next(iter(people(1, 1)))
    row["age"] = "forty"
    source.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = tmp_path / "pathway.parquet"
    result = _run("--intakes", str(source), "--out", str(out))
    assert result.exit_code == 2
    assert "cannot read the input" in result.output
    assert not out.exists()


def test_the_output_may_not_be_the_input(dataset: Path) -> None:
    before = (dataset / "assessments.parquet").read_bytes()
    result = _run("--dataset", str(dataset), "--out", str(dataset / "assessments.parquet"))
    assert result.exit_code == 2
    assert (dataset / "assessments.parquet").read_bytes() == before


def test_the_measures_are_the_same_from_the_per_person_engine(
    dataset: Path, tmp_path: Path
) -> None:
    """The measures read the pathway's decisions; computed from the per-person engine's
    decisions instead, every measure, clinic and person row must come out the same."""
    columnar = tmp_path / "columnar.parquet"
    assert _run("--dataset", str(dataset), "--out", str(columnar), "--workers", "1").exit_code == 0
    source = tables.scan(dataset, "assessments").collect()
    per_person = pl.DataFrame(
        [
            {
                "person_id": row["person_id"],
                "assessment_id": row["assessment_id"],
                "assessed_on": row["assessed_on"],
                **engine_stages(assess(Intake.model_validate(without_nulls(row["intake"])))),
            }
            for row in source.iter_rows(named=True)
        ],
        schema=dict(tables.PATHWAY),
    ).select(list(tables.PATHWAY))
    engine_path = tmp_path / "engine.parquet"
    per_person.write_parquet(engine_path)
    from_columnar = compute_measures(dataset, columnar, tmp_path / "columnar-measures")
    from_engine = compute_measures(dataset, engine_path, tmp_path / "engine-measures")
    assert from_columnar.results.height > 0
    assert_frame_equal(from_columnar.results, from_engine.results)
    assert_frame_equal(from_columnar.read_people(), from_engine.read_people())
