"""`spinepath population measures`: the results directory written all or nothing, and bad input
refused with exit status 2 and one line naming the file and the column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import Result

from population.measures.builders import Dataset
from spinepath.cli import population_measures
from spinepath.cli.population_group import population
from spinepath.population import tables
from spinepath.population.measures import MEASURES, MeasureResults
from support.cli import cli_runner, command_app
from support.memory_limits import recording_limits

# Importing the command's module registers `measures` on the group, with no other command module.
APP: typer.Typer = command_app(population)
COMMAND = population_measures.measures_command


def _dataset(tmp_path: Path) -> tuple[Path, Path]:
    ds = Dataset()
    ds.person("p1", clinic="A").episode("p1", date(2024, 6, 1))
    ds.person("p2", clinic="B").episode("p2", date(2024, 6, 1))
    ds.image("p1", date(2024, 6, 2))
    return ds.write(tmp_path)


def _invoke(dataset: Path, pathway: Path, out: Path, *extra: str) -> Result:
    args = [
        "population",
        "measures",
        "--dataset",
        str(dataset),
        "--pathway",
        str(pathway),
        "--out",
        str(out),
        *extra,
    ]
    return cli_runner().invoke(APP, args)


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_writes_every_output(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    out = tmp_path / "results"
    result = _invoke(
        dataset, pathway, out, "--period-start", "2024-01-01", "--period-end", "2024-12-31"
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "measures.parquet",
        "measures.csv",
        "measure-people.parquet",
        "measure-reports.json",
        "gaps",
    }
    assert len(list((out / "gaps").iterdir())) == len(MEASURES)
    assert "rows/s" in result.stderr
    assert "period 2024-01-01 to 2024-12-31" in result.stderr
    imaging = pl.read_parquet(out / "measures.parquet").filter(
        (pl.col("measure_id") == "lbp-imaging") & (pl.col("clinic_id") == "ALL")
    )
    assert imaging.get_column("numerator").to_list() == [1]
    assert _leftovers(tmp_path) == []


def test_the_period_defaults_to_the_dates_in_the_data(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    result = _invoke(dataset, pathway, tmp_path / "results")
    assert result.exit_code == 0, result.output
    # The first diagnosis (1 June) to the latest date of any row (the image on 2 June).
    assert "period 2024-06-01 to 2024-06-02" in result.stderr


def _refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    tables.table_path(dataset, "imaging").unlink()
    out = tmp_path / "results"
    _refused(_invoke(dataset, pathway, out), "imaging.parquet")
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_a_missing_column_is_named_with_its_file(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    path = tables.table_path(dataset, "imaging")
    pl.read_parquet(path).drop("modality").write_parquet(path)
    _refused(_invoke(dataset, pathway, tmp_path / "results"), "imaging.parquet", "modality")


def test_a_column_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    path = tables.table_path(dataset, "episodes")
    episodes = pl.read_parquet(path).with_columns(pl.col("diagnosis_date").cast(pl.String))
    episodes.write_parquet(path)
    _refused(_invoke(dataset, pathway, tmp_path / "results"), "episodes.parquet", "diagnosis_date")


def test_an_unknown_value_is_named_with_its_column(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    path = tables.table_path(dataset, "episodes")
    pl.read_parquet(path).with_columns(region=pl.lit("lower_back")).write_parquet(path)
    _refused(
        _invoke(dataset, pathway, tmp_path / "results"),
        "episodes.parquet",
        "region",
        "'lower_back'",
    )


def test_a_person_twice_in_people_is_refused(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    path = tables.table_path(dataset, "people")
    people = pl.read_parquet(path)
    pl.concat([people, people.head(1)]).write_parquet(path)
    _refused(_invoke(dataset, pathway, tmp_path / "results"), "people.parquet", "'p1'")


def test_a_pathway_file_without_a_column_is_named(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    pl.read_parquet(pathway).drop("referral_due").write_parquet(pathway)
    _refused(_invoke(dataset, pathway, tmp_path / "results"), str(pathway), "referral_due")


def test_a_missing_pathway_file_is_named(tmp_path: Path) -> None:
    dataset, _ = _dataset(tmp_path)
    missing = tmp_path / "nowhere.parquet"
    _refused(_invoke(dataset, missing, tmp_path / "results"), str(missing))


def test_a_file_that_is_not_parquet_is_named(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    tables.table_path(dataset, "proms").write_text("not parquet", encoding="utf-8")
    _refused(_invoke(dataset, pathway, tmp_path / "results"), "proms.parquet")


@pytest.mark.parametrize("existing", ["file", "full-directory"])
def test_an_out_that_would_lose_data_is_refused(tmp_path: Path, existing: str) -> None:
    dataset, pathway = _dataset(tmp_path)
    out = tmp_path / "results"
    if existing == "file":
        out.write_text("keep me", encoding="utf-8")
    else:
        out.mkdir()
        (out / "keep.txt").write_text("keep me", encoding="utf-8")
    _refused(_invoke(dataset, pathway, out), "--out")
    assert (out.read_text() if existing == "file" else (out / "keep.txt").read_text()) == "keep me"


def test_an_empty_out_directory_is_filled(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    out = tmp_path / "results"
    out.mkdir()
    assert _invoke(dataset, pathway, out).exit_code == 0
    assert (out / "measures.csv").is_file()


def test_an_out_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    _refused(_invoke(dataset, pathway, tmp_path / "missing" / "results"), "--out")


def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    dataset, pathway = _dataset(tmp_path)
    result = _invoke(
        dataset,
        pathway,
        tmp_path / "results",
        "--period-start",
        "2024-12-31",
        "--period-end",
        "2024-01-01",
    )
    _refused(result, "--period-start")


def test_a_failure_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, pathway = _dataset(tmp_path)
    from spinepath.population import measures

    def half_written(found: MeasureResults, out_dir: Path, **_: object) -> None:
        (out_dir / "measures.csv").write_text("partial", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(measures, "write_measures", half_written)
    out = tmp_path / "results"
    _refused(_invoke(dataset, pathway, out), "--out", "no space left on device")
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_the_memory_limit_reaches_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, pathway = _dataset(tmp_path)
    limits = recording_limits(monkeypatch)
    out = tmp_path / "results"
    result = _invoke(dataset, pathway, out, "--memory-limit", "0.5")
    assert result.exit_code == 0, result.output
    assert limits == [512 * 1024**2] * 2  # computing, then writing the gaps lists
    assert sorted(p.name for p in out.iterdir()) == [
        "gaps",
        "measure-people.parquet",
        "measure-reports.json",
        "measures.csv",
        "measures.parquet",
    ]


def test_without_a_memory_limit_the_default_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, pathway = _dataset(tmp_path)
    limits = recording_limits(monkeypatch)
    assert _invoke(dataset, pathway, tmp_path / "results").exit_code == 0
    assert limits == [None, None]  # memory.connect then takes memory.memory_limit()


@pytest.mark.parametrize("value", ["0.1", "0", "-2", "nan"])
def test_a_memory_limit_too_small_is_refused(tmp_path: Path, value: str) -> None:
    dataset, pathway = _dataset(tmp_path)
    out = tmp_path / "results"
    _refused(_invoke(dataset, pathway, out, "--memory-limit", value), "--memory-limit", "0.25")
    assert not out.exists()


def test_running_out_of_memory_says_to_give_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from spinepath.population import measures

    def starved(*_: object, **__: object) -> None:
        raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(measures, "compute_measures", starved)
    dataset, pathway = _dataset(tmp_path)
    out = tmp_path / "results"
    result = _invoke(dataset, pathway, out, "--memory-limit", "0.5")
    _refused(result, "ran out of memory within its limit of 0.50 GiB", "--memory-limit")
    assert not out.exists()
    assert _leftovers(tmp_path) == []
