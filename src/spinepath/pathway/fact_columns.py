"""The fact table derived column by column from intake JSON, the columnar twin of ``flatten``.

``fact_frame`` reads the nested intake columns that ``pl.scan_ndjson`` yields (sections as
structs, ``regions``, ``treatments_tried`` and ``imaging`` as lists of structs) and writes every
fact ``flatten`` writes, with the same names, types and three-valued meaning (null = unknown), so
a million intakes never become a million Python objects. A test checks it row for row against
``flatten`` through the rules.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Literal, Union, get_args, get_origin

import polars as pl
from pydantic import BaseModel

from spinepath.pathway.exact import Domain
from spinepath.pathway.facts import (
    _FINDINGS,
    _HEALTH_FLAGS,
    _NOT_BETTER,
    _PAIN_FLAGS,
    _REGION_FIELDS,
    _REGIONS,
    _SECTIONS,
    _TREATMENTS,
    FactTerms,
    fact_domains,
)
from spinepath.pathway.intake import Intake

# Kleene "or" over a list as one reduction: yes ranks above unknown above no, and the empty list
# (no answers at all) is a definite no, exactly as ``kleene.any_true`` of nothing.
_YES, _UNKNOWN, _NO = 2, 1, 0
_BOTHERSOME = ("very_much", "extremely")


def _dtype(domain: Domain) -> pl.DataType:
    if domain.kind == "bool":
        return pl.Boolean()
    if domain.kind == "int":
        return pl.Int64()
    if domain.kind == "float":
        return pl.Float64()
    return pl.String()


def fact_schema() -> dict[str, pl.DataType]:
    """Column types of the fact table, from the fact registry (never from data)."""
    return {name: _dtype(domain) for name, domain in fact_domains().items()}


def _polars_type(annotation: object) -> pl.DataType:
    if get_origin(annotation) is Annotated:
        return _polars_type(get_args(annotation)[0])
    origin = get_origin(annotation)
    if origin is Literal:
        return pl.String()
    if origin is list:
        return pl.List(_polars_type(get_args(annotation)[0]))
    if origin is Union or origin is types.UnionType:
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _polars_type(inner[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pl.Struct(model_schema(annotation))
    if annotation is bool:
        return pl.Boolean()
    if annotation is int:
        return pl.Int64()
    if annotation is float:
        return pl.Float64()
    return pl.String()


def model_schema(model: type[BaseModel]) -> dict[str, pl.DataType]:
    """Polars column types of a pydantic model's fields, nested models as structs."""
    return {name: _polars_type(field.annotation) for name, field in model.model_fields.items()}


@cache
def intake_schema() -> pl.Schema:
    """The NDJSON read schema of an intake, from the model itself.

    An explicit schema makes every column exist even when no row in the file answers it, and
    makes the reader refuse a value of the wrong JSON type (``"5"`` for a number) as the strict
    model does, instead of inferring a type from the first rows.
    """
    return pl.Schema(model_schema(Intake))


def _tri_rank(answer: pl.Expr) -> pl.Expr:
    return answer.cast(pl.Int8).mul(_YES).fill_null(_UNKNOWN)


def _from_rank(rank: pl.Expr) -> pl.Expr:
    return (
        pl.when(rank == _YES)
        .then(pl.lit(True))
        .when(rank == _UNKNOWN)
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(pl.lit(False))
    )


def _any_true(items: pl.Expr, answer: pl.Expr, where: pl.Expr | None = None) -> pl.Expr:
    """Kleene "or" of ``answer`` over the list elements (optionally only those ``where``)."""
    ranked = _tri_rank(answer)
    if where is not None:
        ranked = ranked.filter(where)
    return _from_rank(items.list.eval(ranked).list.max())


def _field(name: str) -> pl.Expr:
    return pl.element().struct.field(name)


def _max_of(items: pl.Expr, value: str, where: pl.Expr | None = None) -> pl.Expr:
    picked = _field(value) if where is None else _field(value).filter(where)
    return items.list.eval(picked).list.max()


_STAGED = "__spinepath_staged."
"""Prefix of the columns worked out before the facts: each is read by several facts, and a
list evaluated once per fact that reads it costs several times more."""


def _region_pain(region: str) -> pl.Expr:
    return pl.col(f"{_STAGED}pain.{region}")


_FOUND = pl.col(f"{_STAGED}imaging.findings")


def _staged_exprs() -> list[pl.Expr]:
    regions = pl.col("regions")
    found = [
        regions.list.eval(pl.element().filter(_field("region") == region))
        .list.last()
        .alias(f"{_STAGED}pain.{region}")
        for region in _REGIONS
    ]
    findings = pl.col("imaging").list.eval(_field("finding"))
    return [*found, findings.alias(_FOUND.meta.output_name())]


def _over_regions(field: str) -> list[pl.Expr]:
    """A field of each region's pain (null for a region the person did not report)."""
    return [_region_pain(r).struct.field(field) for r in _REGIONS]


def _any_region(values: list[pl.Expr]) -> pl.Expr:
    """Kleene "or" over the regions reported (each region is listed at most once, which the
    intake model enforces before facts are made): unreported regions count as no."""
    reported = [
        pl.when(_region_pain(r).is_not_null()).then(v).otherwise(pl.lit(False))
        for r, v in zip(_REGIONS, values, strict=True)
    ]
    return pl.any_horizontal(reported)


def _region_exprs() -> list[pl.Expr]:
    out: list[pl.Expr] = []
    for region in _REGIONS:
        pain = _region_pain(region)
        out.append(pain.is_not_null().alias(f"pain.{region}"))
        out += [pain.struct.field(name).alias(f"pain.{region}.{name}") for name in _REGION_FIELDS]
    duration = pl.max_horizontal(_over_regions("duration_weeks"))
    sudden = [
        pl.when(_region_pain(r).struct.field("onset").is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(_region_pain(r).struct.field("onset") == "sudden")
        for r in _REGIONS
    ]
    out += [
        pl.max_horizontal(_over_regions("intensity")).alias("pain.max_intensity"),
        duration.alias("pain.duration_weeks"),
        (pl.col("age") - duration // 52).alias("pain.onset_age"),
        _any_region(sudden).alias("pain.sudden_onset"),
    ]
    out += [_any_region(_over_regions(flag)).alias(f"pain.{flag}") for flag in _PAIN_FLAGS]
    return out


def _treatment_exprs(terms: FactTerms) -> list[pl.Expr]:
    tried = pl.col("treatments_tried")
    out = [
        _max_of(tried, "weeks", _field("type") == kind)
        .fill_null(0)
        .alias(f"treatment.{kind}.weeks")
        for kind in _TREATMENTS
    ]
    active = _field("type").is_in(sorted(terms.conservative_care))
    response = _field("response")
    # Improvement is the same three-way reduction: a good response anywhere is yes, only
    # responses that are not better is no, and an unstated response leaves it unknown.
    improved = (
        pl.when(response == "good")
        .then(pl.lit(_YES))
        .when(response.is_in(sorted(_NOT_BETTER)))
        .then(pl.lit(_NO))
        .otherwise(pl.lit(_UNKNOWN))
        .cast(pl.Int8)
    )
    out += [
        _max_of(tried, "weeks", active).fill_null(0).alias("conservative.weeks"),
        _from_rank(tried.list.eval(improved.filter(active)).list.max()).alias(
            "conservative.improved"
        ),
        _max_of(tried, "weeks").fill_null(0).alias("treatment.any_weeks"),
    ]
    return out


def _imaging_exprs(terms: FactTerms) -> list[pl.Expr]:
    imaging = pl.col("imaging")
    done = imaging.list.len().fill_null(0) > 0
    matches = _field("matches_symptoms")
    lesion = _field("finding").is_in(sorted(terms.surgical_lesions))
    out = [
        done.alias("imaging.done"),
        pl.when(done)
        .then(_any_true(imaging, matches, lesion))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
        .alias("imaging.concordant"),
    ]
    for finding in _FINDINGS:
        found = _FOUND.list.contains(finding)
        out += [
            found.fill_null(False).alias(f"imaging.{finding}"),
            _any_true(imaging, matches, _field("finding") == finding).alias(
                f"imaging.{finding}.matches"
            ),
        ]
    return out


def _health_exprs() -> list[pl.Expr]:
    health = pl.col("health")
    height = health.struct.field("height_cm")
    # Python's round() rounds the float's exact binary value; ties at one decimal from a
    # quotient are vanishingly rare and both sides round half to even.
    derived = (health.struct.field("weight_kg") / (height / 100) ** 2).round(1)
    return [
        health.struct.field("smoking").alias("health.smoking"),
        health.struct.field("bmi").fill_null(derived).alias("health.bmi"),
        *(health.struct.field(name).alias(f"health.{name}") for name in _HEALTH_FLAGS),
    ]


def _startback_exprs() -> list[pl.Expr]:
    answers = pl.col("startback")
    agree = [answers.struct.field(f"q{n}").cast(pl.Int64) for n in range(1, 9)]
    bothersome = answers.struct.field("q9").is_in(_BOTHERSOME).cast(pl.Int64)
    total = pl.sum_horizontal(*agree, bothersome)
    psychosocial = pl.sum_horizontal(*agree[4:], bothersome)
    present = answers.is_not_null()
    risk = (
        pl.when(psychosocial >= 4)
        .then(pl.lit("high"))
        .when(total <= 3)
        .then(pl.lit("low"))
        .otherwise(pl.lit("medium"))
    )
    return [
        pl.when(present).then(total).alias("startback.total"),
        pl.when(present).then(psychosocial).alias("startback.psychosocial"),
        pl.when(present).then(risk).alias("startback.risk"),
    ]


def _fact_exprs(terms: FactTerms) -> list[pl.Expr]:
    """One expression per fact, in ``fact_domains`` order, cast to the fact table's types;
    they read the columns of ``_staged_exprs`` too."""
    by_name: dict[str, pl.Expr] = {
        "age": pl.col("age"),
        "sex": pl.col("sex"),
        "work_status": pl.col("work_status"),
    }
    for prefix, model in _SECTIONS:
        for name in model.model_fields:
            by_name[f"{prefix}.{name}"] = pl.col(prefix).struct.field(name)
    for expr in [
        *_region_exprs(),
        *_treatment_exprs(terms),
        *_imaging_exprs(terms),
        *_health_exprs(),
        *_startback_exprs(),
    ]:
        by_name[expr.meta.output_name()] = expr
    for name in ("odi_percent", "rmdq", "ndi_percent"):
        by_name[f"outcomes.{name}"] = pl.col("outcomes").struct.field(name)
    schema = fact_schema()
    missing = set(fact_domains()) - set(by_name)
    if missing:
        raise RuntimeError(f"facts without a column derivation: {sorted(missing)}")
    return [by_name[name].cast(schema[name]).alias(name) for name in fact_domains()]


def fact_frame(raw: pl.LazyFrame, terms: FactTerms, keep: Sequence[str] = ()) -> pl.LazyFrame:
    """The fact table of intakes read with ``intake_schema`` (one row per intake, same order),
    after the ``keep`` columns carried through."""
    return raw.with_columns(_staged_exprs()).select(*keep, *_fact_exprs(terms))
