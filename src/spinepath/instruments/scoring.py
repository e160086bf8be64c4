"""Pure scoring: item answers -> score, band and validity, exactly as published.

Answers are a mapping from item code to value. ``None`` (or an absent item) means "not
answered". Values are checked strictly: an ordinal or numeric item takes a whole number (not a
boolean, not a string), a boolean item takes ``true``/``false``, a choice item takes one of its
option codes. Anything else raises :class:`InvalidAnswerError` naming the item.

A response that is well-formed but has too many items missing is *not* an error: it gives a
result with ``valid = False`` and the reason, because that is a fact about the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from spinepath.instruments import catalogue, startback
from spinepath.instruments.errors import InvalidAnswerError
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    InstrumentDefinition,
    NumericResponse,
    OrdinalResponse,
)

Answer = int | bool | str | None


class BandResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    source_term: str | None = None


class ScoreResult(BaseModel):
    """The scored response. ``score`` is the instrument's primary score (see ``score_kind``)."""

    model_config = ConfigDict(frozen=True)

    instrument: str
    version: str
    valid: bool
    reason: str | None = None
    score: float | None = None
    score_kind: str
    score_unit: str
    total: float | None = None
    percent: float | None = None
    band: BandResult | None = None
    subscores: dict[str, int] = {}
    items_answered: int
    items_expected: int
    items_missing: list[str] = []
    rule: str
    missing_rule: str
    licence_notice: str


def _check_value(definition: InstrumentDefinition, code: str, value: object) -> Answer:
    name = definition.code
    if value is None:
        return None
    response = definition.item(code).response
    if isinstance(response, OrdinalResponse | NumericResponse):
        # bool is a subclass of int: reject it explicitly so `true` is never read as 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswerError(
                name, code, f"expected a whole number {response.min}-{response.max}, got {value!r}"
            )
        if not response.min <= value <= response.max:
            raise InvalidAnswerError(
                name, code, f"{value} is out of range {response.min}-{response.max}"
            )
        return value
    if isinstance(response, BooleanResponse):
        if not isinstance(value, bool):
            raise InvalidAnswerError(
                name, code, f"expected true ({response.true_means}) or false, got {value!r}"
            )
        return value
    if not isinstance(response, ChoiceResponse):
        raise TypeError(f"expected ChoiceResponse, got {type(response).__name__}")
    codes = [o.code for o in response.options]
    if not isinstance(value, str) or value not in codes:
        raise InvalidAnswerError(name, code, f"expected one of {', '.join(codes)}, got {value!r}")
    return value


def validate_answers(
    definition: InstrumentDefinition, answers: Mapping[str, object]
) -> dict[str, Answer]:
    """Checks every answer and returns one entry per item (``None`` where not answered)."""
    if not isinstance(answers, Mapping):
        raise InvalidAnswerError(definition.code, "answers", "expected a mapping of item -> answer")
    known = definition.item_codes
    for code in answers:
        if not isinstance(code, str) or code not in known:
            raise InvalidAnswerError(
                definition.code, str(code), f"unknown item; expected one of {', '.join(known)}"
            )
    return {code: _check_value(definition, code, answers.get(code)) for code in known}


def band_for(definition: InstrumentDefinition, value: float) -> BandResult | None:
    if definition.bands is None:
        return None
    for band in definition.bands.bands:
        if band.upper is not None and value <= band.upper:
            return BandResult(code=band.code, label=band.label, source_term=band.source_term)
    return None


def _band_by_code(definition: InstrumentDefinition, code: str) -> BandResult:
    if definition.bands is None:
        raise ValueError("definition.bands is missing")
    for band in definition.bands.bands:
        if band.code == code:
            return BandResult(code=band.code, label=band.label, source_term=band.source_term)
    raise KeyError(code)


def _ordinal_max(definition: InstrumentDefinition) -> int:
    maxima = {cast(OrdinalResponse | NumericResponse, i.response).max for i in definition.items}
    if len(maxima) != 1:
        raise ValueError(f"{definition.code}: items must share one maximum")
    return maxima.pop()


def score(instrument: str | InstrumentDefinition, answers: Mapping[str, object]) -> ScoreResult:
    """Scores one response. Raises :class:`InvalidAnswerError` for unscorable answers."""
    definition = catalogue.get(instrument) if isinstance(instrument, str) else instrument
    checked = validate_answers(definition, answers)
    scoring = definition.scoring
    answered = {c: v for c, v in checked.items() if v is not None}
    missing = [c for c, v in checked.items() if v is None]
    base: dict[str, Any] = {
        "instrument": definition.code,
        "version": definition.version,
        "score_kind": scoring.primary,
        "score_unit": scoring.unit,
        "items_answered": len(answered),
        "items_expected": len(definition.items),
        "rule": scoring.rule,
        "missing_rule": scoring.missing_rule,
        "licence_notice": definition.licence.notice,
    }
    if scoring.method == "count_true":
        # A tick-only form has no "missing" state: an unticked statement scores 0.
        total = sum(1 for v in answered.values() if v is True)
        return ScoreResult(
            valid=True, score=total, total=total, band=band_for(definition, total), **base
        )
    if len(missing) > scoring.max_missing:
        reason = (
            f"{len(missing)} of {len(definition.items)} items not answered "
            f"({', '.join(missing)}); at most {scoring.max_missing} may be missing"
        )
        return ScoreResult(valid=False, reason=reason, items_missing=missing, **base)
    if scoring.method == "startback":
        return _score_startback(definition, answered, base)
    values = [cast(int, v) for v in answered.values()]
    n_items = len(definition.items)
    if scoring.method == "percent_of_answered":
        total = sum(values)
        percent = total * 100 / (_ordinal_max(definition) * len(values))
        return ScoreResult(
            valid=True,
            score=percent,
            total=total,
            percent=percent,
            band=band_for(definition, percent),
            items_missing=missing,
            **base,
        )
    if scoring.method == "prorated_sum":
        # Adding the mean of the answered items once per missing item == sum x n / answered.
        prorated = sum(values) * n_items / len(values)
        percent = prorated * (100 / (_ordinal_max(definition) * n_items))
        return ScoreResult(
            valid=True,
            score=prorated,
            total=prorated,
            percent=percent,
            band=band_for(definition, prorated),
            items_missing=missing,
            **base,
        )
    if scoring.method == "single_item":
        (value,) = values
        return ScoreResult(
            valid=True, score=value, total=value, band=band_for(definition, value), **base
        )
    if scoring.method == "mean":
        mean = sum(values) / len(values)
        return ScoreResult(
            valid=True, score=mean, total=sum(values), band=band_for(definition, mean), **base
        )
    raise ValueError(f"{definition.code}: unsupported scoring method {scoring.method}")


def _score_startback(
    definition: InstrumentDefinition, answered: Mapping[str, Answer], base: dict[str, Any]
) -> ScoreResult:
    # The one STarT Back implementation lives in startback.py; this only adapts the mapping.
    parsed = startback.StartBackAnswers.model_validate(answered)
    result = startback.score(parsed)
    return ScoreResult.model_validate(
        {
            **base,
            "valid": True,
            "score": result.total,
            "total": result.total,
            "band": _band_by_code(definition, result.risk_group),
            "subscores": {"psychosocial": result.psychosocial},
        }
    )
