"""Vectorised scoring of many ODI/NDI responses at once (Polars), for population analytics.

Input: a frame with one integer column per item code (extra columns are ignored). A missing
answer is ``null`` or the ``missing`` sentinel (default -1). The arithmetic mirrors
:func:`spinepath.instruments.scoring.score` operation for operation, so both give identical
floats; a differential test keeps them equal.
"""

from __future__ import annotations

import polars as pl

from spinepath.instruments import catalogue
from spinepath.instruments.errors import InvalidAnswerError
from spinepath.instruments.models import InstrumentDefinition, OrdinalResponse

MISSING = -1
_BATCH_METHODS = ("percent_of_answered", "prorated_sum")


def _ordinal_range(definition: InstrumentDefinition) -> tuple[int, int]:
    responses = {i.response for i in definition.items}
    if len(responses) != 1:
        raise ValueError(f"{definition.code}: items must share one response scale")
    (response,) = responses
    if not isinstance(response, OrdinalResponse):
        raise ValueError(f"{definition.code}: batch scoring needs ordinal items")
    return response.min, response.max


def _check_columns(
    definition: InstrumentDefinition, frame: pl.DataFrame, low: int, high: int, missing: int
) -> None:
    for code in definition.item_codes:
        if code not in frame.columns:
            raise InvalidAnswerError(definition.code, code, "column missing from the frame")
        dtype = frame.schema[code]
        if not dtype.is_integer():
            raise InvalidAnswerError(
                definition.code, code, f"expected an integer column, got {dtype}"
            )
    bad = frame.select(
        [
            pl.col(c).is_not_null() & (pl.col(c) != missing) & ~pl.col(c).is_between(low, high)
            for c in definition.item_codes
        ]
    )
    for code in definition.item_codes:
        column = bad.get_column(code)
        if column.any():
            row = int(column.arg_true()[0])
            value = frame.get_column(code)[row]
            raise InvalidAnswerError(
                definition.code, code, f"row {row}: {value} is out of range {low}-{high}"
            )


def score_frame(
    instrument: str | InstrumentDefinition, frame: pl.DataFrame, *, missing: int = MISSING
) -> pl.DataFrame:
    """Scores every row: ``answered``, ``total``, ``percent``, ``score``, ``valid``, ``band``.

    Invalid rows (too many items missing) have ``valid = false`` and null scores and band.
    """
    definition = catalogue.get(instrument) if isinstance(instrument, str) else instrument
    method = definition.scoring.method
    if method not in _BATCH_METHODS:
        raise ValueError(f"{definition.code}: batch scoring supports {', '.join(_BATCH_METHODS)}")
    low, high = _ordinal_range(definition)
    _check_columns(definition, frame, low, high, missing)
    n_items = len(definition.items)
    items = [
        pl.when(pl.col(c) == missing).then(None).otherwise(pl.col(c)).cast(pl.Int64)
        for c in definition.item_codes
    ]
    answered = pl.sum_horizontal([item.is_not_null().cast(pl.Int64) for item in items])
    total = pl.sum_horizontal(items)
    valid = (n_items - answered) <= definition.scoring.max_missing
    if method == "percent_of_answered":
        percent = (total * 100) / (high * answered)
        total_out = total.cast(pl.Float64)
        score = percent
    else:
        prorated = (total * n_items) / answered
        percent = prorated * (100 / (high * n_items))
        total_out = prorated
        score = prorated
    scored = frame.lazy().select(
        answered.alias("answered"),
        pl.when(valid).then(total_out).alias("total"),
        pl.when(valid).then(percent).alias("percent"),
        pl.when(valid).then(score).alias("score"),
        valid.alias("valid"),
    )
    return scored.with_columns(_band_expression(definition)).collect()


def _band_expression(definition: InstrumentDefinition) -> pl.Expr:
    banded = pl.col(
        "percent" if definition.bands and definition.bands.applies_to == "percent" else "score"
    )
    if definition.bands is None:
        return pl.lit(None, dtype=pl.String).alias("band")
    expression: pl.Expr = pl.lit(None, dtype=pl.String)
    for band in reversed(definition.bands.bands):
        expression = pl.when(banded <= band.upper).then(pl.lit(band.code)).otherwise(expression)
    return pl.when(pl.col("valid")).then(expression).alias("band")
