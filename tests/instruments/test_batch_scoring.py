"""The vectorised ODI/NDI path gives exactly the per-response results."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.instruments.errors import InvalidAnswerError
from spinepath.instruments.scoring import score
from spinepath.population.scores import MISSING, score_frame

from .answers import NDI_ITEMS, ODI_SECTIONS, spread

cell = st.one_of(st.integers(min_value=0, max_value=5), st.just(MISSING), st.none())


def frames(codes: tuple[str, ...]) -> st.SearchStrategy[list[dict[str, int | None]]]:
    row = st.fixed_dictionaries(dict.fromkeys(codes, cell))
    return st.lists(row, min_size=1, max_size=40)


def _per_response(instrument: str, rows: list[dict[str, int | None]]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for row in rows:
        answers = {c: (None if v == MISSING else v) for c, v in row.items()}
        r = score(instrument, answers)
        out.append(
            (
                r.items_answered,
                r.total,
                r.percent,
                r.score,
                r.valid,
                r.band.code if r.band else None,
            )
        )
    return out


def _batch(
    instrument: str, rows: list[dict[str, int | None]], codes: tuple[str, ...]
) -> list[tuple[object, ...]]:
    frame = pl.DataFrame(rows, schema=dict.fromkeys(codes, pl.Int8))
    scored = score_frame(instrument, frame)
    columns = ["answered", "total", "percent", "score", "valid", "band"]
    return [tuple(r) for r in scored.select(columns).iter_rows()]


@settings(max_examples=150, deadline=None)
@given(frames(ODI_SECTIONS))
def test_vectorised_odi_equals_per_response_scoring(rows: list[dict[str, int | None]]) -> None:
    assert _batch("odi", rows, ODI_SECTIONS) == _per_response("odi", rows)


@settings(max_examples=150, deadline=None)
@given(frames(NDI_ITEMS))
def test_vectorised_ndi_equals_per_response_scoring(rows: list[dict[str, int | None]]) -> None:
    assert _batch("ndi", rows, NDI_ITEMS) == _per_response("ndi", rows)


def test_vectorised_odi_reproduces_the_published_worked_examples() -> None:
    full = spread(ODI_SECTIONS, 16)
    one_missing = {**spread(ODI_SECTIONS[:9], 16), "travelling": MISSING}
    scored = score_frame("odi", pl.DataFrame([full, one_missing]))
    assert scored["percent"][0] == 32.0
    assert scored["percent"][1] == pytest.approx(35.5556, abs=1e-4)


def test_vectorised_scoring_ignores_extra_columns() -> None:
    frame = pl.DataFrame([{**spread(ODI_SECTIONS, 16), "patient_id": 7}])
    assert score_frame("odi", frame)["percent"][0] == 32.0


def test_vectorised_scoring_names_the_column_with_an_out_of_range_value() -> None:
    rows = [spread(ODI_SECTIONS, 10), {**spread(ODI_SECTIONS, 10), "walking": 9}]
    with pytest.raises(InvalidAnswerError, match="row 1: 9 is out of range") as caught:
        score_frame("odi", pl.DataFrame(rows))
    assert caught.value.item == "walking"


def test_vectorised_scoring_names_a_missing_column() -> None:
    frame = pl.DataFrame([spread(ODI_SECTIONS, 10)]).drop("sitting")
    with pytest.raises(InvalidAnswerError) as caught:
        score_frame("odi", frame)
    assert caught.value.item == "sitting"


def test_vectorised_scoring_rejects_a_non_integer_column() -> None:
    frame = pl.DataFrame([spread(ODI_SECTIONS, 10)]).with_columns(
        pl.col("lifting").cast(pl.Float64)
    )
    with pytest.raises(InvalidAnswerError, match="integer column") as caught:
        score_frame("odi", frame)
    assert caught.value.item == "lifting"


def test_vectorised_scoring_refuses_instruments_it_does_not_support() -> None:
    with pytest.raises(ValueError, match="batch scoring supports"):
        score_frame("rmdq", pl.DataFrame({"item_1": [1]}))
