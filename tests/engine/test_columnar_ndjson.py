"""Intake JSON read column by column (assess_ndjson) agrees with the per-person path.

The fact table from ``fact_columns`` must equal ``flatten`` row for row, the decisions must equal
the engine's, and the ``errors`` column must refuse exactly the rows the intake model refuses.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from spinepath import knowledge as kb
from spinepath.pathway.bulk_validation import with_errors
from spinepath.pathway.columnar import assess_frame, assess_ndjson, facts_frame
from spinepath.pathway.engine import assess
from spinepath.pathway.fact_columns import fact_frame, intake_schema
from spinepath.pathway.facts import flatten
from spinepath.pathway.intake import Intake
from support.files import example_paths
from support.stages import STAGES, decided_rows, engine_stages, without_nulls

from .strategies import intake_data

DECISIONS = ["level", "concerns", "pattern", "candidacy", "imaging_indicated"]


def _write(directory: Path, rows: list[dict[str, Any]]) -> Path:
    path = directory / "intakes.ndjson"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _raw(path: Path) -> pl.LazyFrame:
    return pl.scan_ndjson(path, schema=intake_schema())


def _check_population(rows: list[dict[str, Any]]) -> None:
    intakes = [Intake.model_validate(row) for row in rows]
    terms = kb.default().fact_terms
    expected_facts = facts_frame(flatten(i, terms) for i in intakes)
    expected = assess_frame(intakes)
    engine = [assess(i) for i in intakes]
    with tempfile.TemporaryDirectory() as directory:
        for written in (rows, [without_nulls(row) for row in rows]):
            path = _write(Path(directory), written)
            assert_frame_equal(fact_frame(_raw(path), terms).collect(), expected_facts)
            result = assess_ndjson(path)
            assert result.rejected.height == 0, result.rejected.to_dicts()
            assert result.assessed["line"].to_list() == list(range(1, len(rows) + 1))
            assert_frame_equal(result.assessed.select(STAGES), expected.select(STAGES))
            for index, (row, a) in enumerate(
                zip(decided_rows(result.assessed), engine, strict=True)
            ):
                assert row == engine_stages(a), f"line {index + 1}: {rows[index]}"


@settings(max_examples=15, deadline=None, database=None)
@given(st.lists(intake_data(), min_size=1, max_size=12))
def test_it_agrees_with_flatten_and_the_engine_on_generated_populations(
    rows: list[dict[str, Any]],
) -> None:
    _check_population(rows)


def test_it_agrees_on_every_example_intake() -> None:
    rows = [json.loads(path.read_text(encoding="utf-8")) for path in example_paths()]
    assert rows
    _check_population(rows)


def test_it_derives_bmi_and_treatment_facts_like_flatten() -> None:
    base = {"age": 40, "regions": [{"region": "low_back", "duration_weeks": 30, "intensity": 6}]}
    rows = [
        {**base, "health": {"height_cm": 170.0, "weight_kg": 80.5}},
        {**base, "health": {"height_cm": 170, "weight_kg": 80, "bmi": 22.0}},
        {
            **base,
            "treatments_tried": [
                {"type": "physiotherapy", "weeks": 8, "response": "none"},
                {"type": "physiotherapy", "weeks": 12},
                {"type": "nsaid", "weeks": 3, "response": "good"},
            ],
            "imaging": [
                {"modality": "mri", "finding": "disc_herniation", "matches_symptoms": None},
                {"modality": "xray", "finding": "normal", "level": "L4-L5"},
            ],
        },
        {**base, "imaging": [{"modality": "ct", "finding": "normal"}]},
    ]
    _check_population(rows)


def _valid() -> dict[str, Any]:
    return {
        "age": 50,
        "regions": [{"region": "low_back", "duration_weeks": 3, "intensity": 5}],
        "startback": {**{f"q{n}": False for n in range(1, 9)}, "q9": "slightly"},
        "treatments_tried": [{"type": "heat", "weeks": 1}],
        "imaging": [{"modality": "mri", "finding": "normal"}],
        "priorities": ["sleep"],
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
INVALID: dict[str, Callable[[dict[str, Any]], None]] = {
    "child": _set("age", 15),
    "too old": _set("age", 121),
    "no age": _set("age", _DELETE),
    "null age": _set("age", None),
    "no regions": _set("regions", _DELETE),
    "empty regions": _set("regions", []),
    "four regions": _set("regions", [{"region": "neck", "duration_weeks": 1, "intensity": 1}] * 4),
    "repeated region": _set(
        "regions", [{"region": "neck", "duration_weeks": 1, "intensity": 1}] * 2
    ),
    "null region": _set("regions", [None]),
    "unknown region": _set("regions.0.region", "hip"),
    "no intensity": _set("regions.0.intensity", _DELETE),
    "intensity 11": _set("regions.0.intensity", 11),
    "negative weeks": _set("regions.0.duration_weeks", -1),
    "bad onset": _set("regions.0.onset", "slow"),
    "bad sex": _set("sex", "unknown"),
    "bad version": _set("intake_version", "2"),
    "bad side": _set("radiation.leg", "middle"),
    "onset days": _set("cauda_equina.onset_days", 40000),
    "bad trauma": _set("history.trauma", "severe"),
    "partial startback": _set("startback.q3", _DELETE),
    "bad startback": _set("startback.q9", "a_lot"),
    "bad treatment": _set("treatments_tried.0.type", "surgery"),
    "treatment weeks": _set("treatments_tried.0.weeks", 6000),
    "no treatment weeks": _set("treatments_tried.0.weeks", _DELETE),
    "bad response": _set("treatments_tried.0.response", "great"),
    "many treatments": _set("treatments_tried", [{"type": "heat", "weeks": 1}] * 41),
    "bad modality": _set("imaging.0.modality", "pet"),
    "no finding": _set("imaging.0.finding", _DELETE),
    "bad level": _set("imaging.0.level", "L6"),
    "imaging weeks": _set("imaging.0.weeks_ago", -2),
    "odi": _set("outcomes.odi_percent", 101),
    "rmdq": _set("outcomes.rmdq", 25),
    "height": _set("health.height_cm", 99.5),
    "bmi": _set("health.bmi", 101.0),
    "smoking": _set("health.smoking", "sometimes"),
    "work": _set("work_status", "busy"),
    "priority": _set("priorities", ["sleep", "money"]),
    "null priority": _set("priorities", [None]),
    "long note": _set("what_matters_note", "x" * 1001),
}
VALID: dict[str, Callable[[dict[str, Any]], None]] = {
    "as is": _set("age", 50),
    "age 16": _set("age", 16),
    "age 120": _set("age", 120),
    "three regions": _set(
        "regions",
        [
            {"region": name, "duration_weeks": 0, "intensity": 0}
            for name in ("neck", "upper_back", "low_back")
        ],
    ),
    "level range": _set("imaging.0.level", "L4-S1"),
    "note of 1000": _set("what_matters_note", "é" * 1000),
    "bmi bounds": _set("health.bmi", 10),
    "no startback": _set("startback", None),
    "null answers": _set("radiation.leg", None),
    "forty treatments": _set("treatments_tried", [{"type": "heat", "weeks": 5200}] * 40),
}


def _errors(rows: list[dict[str, Any]]) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), rows)
        errors: list[list[str]] = with_errors(_raw(path)).collect()["errors"].to_list()
        return errors


def _mutated(changes: dict[str, Callable[[dict[str, Any]], None]]) -> list[dict[str, Any]]:
    rows = []
    for change in changes.values():
        data = copy.deepcopy(_valid())
        change(data)
        rows.append(data)
    return rows


def _refused(data: dict[str, Any]) -> bool:
    try:
        Intake.model_validate_json(json.dumps(data))
    except ValidationError:
        return True
    return False


def test_every_row_the_model_refuses_has_errors() -> None:
    rows = _mutated(INVALID)
    assert all(_refused(row) for row in rows)
    for name, errors in zip(INVALID, _errors(rows), strict=True):
        assert errors, name


def test_no_row_the_model_accepts_has_errors() -> None:
    rows = _mutated(VALID)
    assert not any(_refused(row) for row in rows)
    assert _errors(rows) == [[] for _ in rows]


def test_errors_name_the_field() -> None:
    rows = _mutated({"child": INVALID["child"], "empty regions": INVALID["empty regions"]})
    assert _errors(rows) == [["age: must be 16 or over"], ["regions: at least 1"]]


@settings(max_examples=25, deadline=None, database=None)
@given(intake_data(), st.lists(st.sampled_from(sorted(INVALID)), max_size=3))
def test_errors_agree_with_the_model_on_mutated_intakes(
    data: dict[str, Any], mutations: list[str]
) -> None:
    for name in mutations:
        try:
            INVALID[name](data)
        except (KeyError, IndexError, TypeError):
            # The generated intake lacks the list element this mutation edits.
            continue
    assert bool(_errors([data])[0]) == _refused(data)


def test_invalid_rows_are_reported_and_left_out(tmp_path: Path) -> None:
    rows = [_valid(), *_mutated({"child": INVALID["child"]}), _valid()]
    result = assess_ndjson(_write(tmp_path, rows))
    assert result.assessed["line"].to_list() == [1, 3]
    assert result.rejected.to_dicts() == [{"line": 2, "errors": ["age: must be 16 or over"]}]


def test_a_value_of_the_wrong_type_refuses_the_file(tmp_path: Path) -> None:
    rows = [{**_valid(), "age": "50"}]
    with pytest.raises(pl.exceptions.ComputeError):
        assess_ndjson(_write(tmp_path, rows))
