"""The columnar population assessment (spinepath.pathway.columnar) agrees with the engine."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.pathway.assessment import Assessment
from spinepath.pathway.columnar import assess_frame
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.files import example_paths
from support.intakes import make, region
from support.stages import engine_stages

from .strategies import intake_data

EXAMPLES = example_paths()


DECISIONS = ("level", "concerns", "pattern", "candidacy", "imaging_indicated")


def _engine_row(a: Assessment) -> dict[str, Any]:
    row = engine_stages(a)
    return {
        name: row[name]
        for name in ("level", "concerns", "pattern", "candidacy", "imaging_indicated")
    }


def _frame_rows(intakes: list[Intake]) -> list[dict[str, Any]]:
    frame = assess_frame(intakes)
    assert frame.height == len(intakes)
    rows = frame.select("level", "concerns", "pattern", "candidacy", "imaging_indicated").to_dicts()
    for row in rows:
        row["concerns"] = sorted(row["concerns"])
    return rows


def _check(intakes: list[Intake]) -> None:
    for index, (row, intake) in enumerate(zip(_frame_rows(intakes), intakes, strict=True)):
        assert row == _engine_row(assess(intake)), f"row {index}: {intake.model_dump_json()}"


def test_it_has_example_intakes_to_compare() -> None:
    assert EXAMPLES


def test_it_agrees_with_the_engine_on_every_example_intake() -> None:
    _check([Intake.model_validate_json(path.read_text(encoding="utf-8")) for path in EXAMPLES])


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"cauda_equina": {"saddle_numbness": True, "onset_days": None}},
        {"cauda_equina": {"saddle_numbness": None}},
        {"regions": [region("upper_back")], "history": {"cancer": True}},
        {"radiation": {"leg": "right", "leg_below_knee": True}},
        {"neurology": {"leg_weakness": None, "progressing": None}},
    ],
)
def test_it_agrees_with_the_engine_on_hand_written_intakes(changes: dict[str, Any]) -> None:
    _check([make(**changes)])


@settings(max_examples=8, deadline=None, database=None)
@given(st.lists(intake_data(), min_size=1, max_size=10))
def test_it_agrees_with_the_engine_on_generated_populations(data: list[dict[str, Any]]) -> None:
    _check([Intake.model_validate(d) for d in data])
