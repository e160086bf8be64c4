"""The intake model's checks as Polars expressions: one ``errors`` list per row of a population.

The checks are read from the pydantic model (required fields, choices, bounds, lengths,
patterns) plus its two custom rules (adults only, each region once), so they follow the model
when it changes. Values of the wrong JSON type never reach them: the NDJSON reader, given
``intake_schema``, refuses the file instead. What the columns cannot tell apart is an explicit
``null`` from an absent field, so a ``null`` given for a section or list that has a default (which
the model refuses) is read as absent here.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, Union, get_args, get_origin

import polars as pl
from pydantic import BaseModel

from spinepath.pathway.intake import MINIMUM_AGE, Intake

ERRORS = "errors"


@dataclass(frozen=True)
class _Shape:
    """A field's type with the wrappers (``Annotated``, ``| None``) taken off."""

    base: object
    nullable: bool
    constraints: tuple[object, ...]


def _shape(annotation: object, metadata: Iterable[object] = ()) -> _Shape:
    constraints = list(metadata)
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *extra = get_args(annotation)
            # Field(...) inside an Annotated alias carries its bounds on its own metadata.
            for item in extra:
                constraints += [item, *getattr(item, "metadata", ())]
            annotation = inner
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return _Shape(annotation, nullable, tuple(constraints))


def _bound(constraints: tuple[object, ...], name: str) -> object | None:
    for item in constraints:
        value: object | None = getattr(item, name, None)
        if value is not None:
            return value
    return None


def _scalar_checks(path: str, value: pl.Expr, shape: _Shape) -> list[tuple[pl.Expr, str]]:
    checks: list[tuple[pl.Expr, str]] = []
    if get_origin(shape.base) is Literal:
        choices = list(get_args(shape.base))
        checks.append((~value.is_in(choices), f"{path}: must be one of {', '.join(choices)}"))
    low = _bound(shape.constraints, "ge")
    high = _bound(shape.constraints, "le")
    if low is not None:
        checks.append((value < pl.lit(low), f"{path}: must be {low} or more"))
    if high is not None:
        checks.append((value > pl.lit(high), f"{path}: must be {high} or less"))
    longest = _bound(shape.constraints, "max_length")
    if longest is not None and shape.base is str:
        checks.append(
            (value.str.len_chars() > pl.lit(longest), f"{path}: at most {longest} characters")
        )
    pattern = _bound(shape.constraints, "pattern")
    if isinstance(pattern, str):
        checks.append((~value.str.contains(pattern), f"{path}: does not match {pattern}"))
    return checks


def _model_checks(
    prefix: str, model: type[BaseModel], parent: pl.Expr | None, present: pl.Expr
) -> list[tuple[pl.Expr, str]]:
    """Checks of a model's fields; ``parent`` is the struct (None: the row itself)."""
    checks: list[tuple[pl.Expr, str]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        value = pl.col(name) if parent is None else parent.struct.field(name)
        shape = _shape(info.annotation, info.metadata)
        if info.is_required():
            checks.append((present & value.is_null(), f"{path}: required"))
        checks += _value_checks(path, value, shape)
    return checks


def _value_checks(path: str, value: pl.Expr, shape: _Shape) -> list[tuple[pl.Expr, str]]:
    base = shape.base
    if isinstance(base, type) and issubclass(base, BaseModel):
        return _model_checks(f"{path}.", base, value, value.is_not_null())
    if get_origin(base) is not list:
        return _scalar_checks(path, value, shape)
    checks: list[tuple[pl.Expr, str]] = []
    shortest = _bound(shape.constraints, "min_length")
    longest = _bound(shape.constraints, "max_length")
    if shortest is not None:
        checks.append((value.list.len() < pl.lit(shortest), f"{path}: at least {shortest}"))
    if longest is not None:
        checks.append((value.list.len() > pl.lit(longest), f"{path}: at most {longest}"))
    item = _shape(get_args(base)[0])
    element = pl.element()
    inner = [(element.is_null(), ": must not be null"), *_value_checks("", element, item)]
    for bad, message in inner:
        # The check runs inside the list, so a failure names the list, not the position.
        any_bad = value.list.eval(bad.fill_null(False)).list.any()
        checks.append((any_bad, f"{path}[]{message}"))
    return checks


def intake_checks() -> list[tuple[pl.Expr, str]]:
    """(fails, message) pairs: ``fails`` is true on a row the intake model would refuse."""
    regions = pl.col("regions")
    names = regions.list.eval(pl.element().struct.field("region"))
    return [
        *_model_checks("", Intake, None, pl.lit(True)),
        (pl.col("age") < MINIMUM_AGE, f"age: must be {MINIMUM_AGE} or over"),
        (names.list.n_unique() < regions.list.len(), "regions: each region may be listed once"),
    ]


def errors_expr() -> pl.Expr:
    """A list of messages per row, empty when the row is a valid intake."""
    messages = [
        pl.when(fails.fill_null(False)).then(pl.lit(message)).otherwise(pl.lit(None, pl.String))
        for fails, message in intake_checks()
    ]
    return pl.concat_list(messages).list.drop_nulls().alias(ERRORS)


def with_errors(raw: pl.LazyFrame) -> pl.LazyFrame:
    return raw.with_columns(errors_expr())
