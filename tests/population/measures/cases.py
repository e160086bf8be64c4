"""Many small cases in one data set: each case is one person, built by its own function, so a
measure runs once per test module instead of once per case."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from population.measures.builders import PERIOD_END, PERIOD_START, Dataset, run

Build = Callable[[Dataset, str], object]


@dataclass(frozen=True)
class Case:
    """One person (id ``name``) built by ``build``, and what the test expects of them."""

    name: str
    build: Build
    expected: Any = None


def run_cases(
    cases: Iterable[Case],
    directory: Path,
    *measure_ids: str,
    start: date = PERIOD_START,
    end: date = PERIOD_END,
) -> pl.DataFrame:
    """The per-person rows of the measures over one data set holding every case."""
    dataset = Dataset()
    for case in cases:
        case.build(dataset, case.name)
    return run(dataset, directory, *measure_ids, start=start, end=end).read_people()


def row(people: pl.DataFrame, measure_id: str, person_id: str) -> dict[str, Any] | None:
    """A person's row of one measure, or none when they are not in its initial population."""
    found = people.filter(
        (pl.col("measure_id") == measure_id) & (pl.col("person_id") == person_id)
    ).to_dicts()
    assert len(found) <= 1
    return found[0] if found else None
