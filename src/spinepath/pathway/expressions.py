"""Conditions as Polars expressions: the population backend of the condition language.

``kleene_expr`` is Kleene evaluation over a fact table (Polars' boolean operators follow the
same tables as ``spinepath.pathway.kleene``); ``exact_expr`` is the population twin of
``spinepath.pathway.exact.Exact``, giving the same answer for every row.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import cast

import polars as pl

from spinepath.pathway.conditions import COMPARISONS, Condition
from spinepath.pathway.exact import EXPRESSION_COMBINATIONS, Exact
from spinepath.pathway.kleene import FactValue, Tri


def kleene_expr(
    condition: Condition,
    tried: Mapping[str, FactValue] | None = None,
    answered: Mapping[str, FactValue] | None = None,
) -> pl.Expr:
    """Kleene evaluation over a fact table.

    ``tried`` fills unanswered values while ``is unanswered`` still sees them unanswered
    (exact evaluation); ``answered`` fills them as if the person had answered.
    """
    tried = {**(tried or {}), **(answered or {})}
    answered = answered or {}
    kind = condition.kind
    if kind == "const":
        return pl.lit(bool(condition.value), dtype=pl.Boolean)
    if kind == "atom":
        if condition.fact is None:
            raise ValueError("condition.fact is missing")
        column = pl.col(condition.fact)
        if condition.op == "unanswered":
            if condition.fact in answered:
                return pl.lit(condition.negate, dtype=pl.Boolean)
            expr = column.is_null()
            return ~expr if condition.negate else expr
        if condition.fact in tried:
            column = pl.when(column.is_null()).then(pl.lit(tried[condition.fact])).otherwise(column)
        if condition.op is None:
            expr = column.cast(pl.Boolean)
        elif condition.op == "in":
            if not isinstance(condition.value, tuple):
                raise TypeError(f"expected tuple, got {type(condition.value).__name__}")
            # is_in maps null to null only when told to; keep unknown unknown.
            expr = pl.when(column.is_null()).then(None).otherwise(column.is_in(condition.value))
        else:
            expr = cast(pl.Expr, COMPARISONS[condition.op](column, pl.lit(condition.value)))
        return ~expr if condition.negate else expr
    return _combined_expr(condition, tried, answered)


def _combined_expr(
    condition: Condition, tried: Mapping[str, FactValue], answered: Mapping[str, FactValue]
) -> pl.Expr:
    """``kleene_expr`` of a condition built from other conditions."""
    kind = condition.kind
    if kind == "all":
        return pl.all_horizontal([kleene_expr(c, tried, answered) for c in condition.children])
    if kind == "any":
        return pl.any_horizontal([kleene_expr(c, tried, answered) for c in condition.children])
    if kind == "not":
        return ~kleene_expr(condition.children[0], tried, answered)
    if kind == "none_true":
        # Reads the answers as they stand: tried values do not apply.
        parts = [kleene_expr(c, None, answered).fill_null(False) for c in condition.children]
        return ~pl.any_horizontal(parts)
    parts = [kleene_expr(c, tried, answered) for c in condition.children]
    yes = pl.sum_horizontal([p.fill_null(False).cast(pl.Int32) for p in parts])
    unknown = pl.sum_horizontal([p.is_null().cast(pl.Int32) for p in parts])
    return (
        pl.when(yes >= condition.threshold)
        .then(pl.lit(True))
        .when(yes + unknown < condition.threshold)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


def exact_expr(evaluator: Exact, fixed: Mapping[str, FactValue] | None = None) -> pl.Expr:
    """The population twin of ``Exact``, giving the same answer for every row.

    ``fixed`` answers unanswered facts for every row (what the engine tries for "still to ask").
    """
    fixed = dict(fixed or {})
    condition = evaluator.condition
    unrolled = kleene_expr(condition, None, fixed)
    shared = [name for name in evaluator.shared if name not in fixed]
    if not shared:
        return unrolled
    values = evaluator.representatives()
    if evaluator.combinations() > EXPRESSION_COMBINATIONS:
        # Only rows that Kleene leaves unknown with a shared fact unanswered need the per-person
        # evaluator; the others pass through the Python loop untouched.
        needed = unrolled.is_null() & pl.any_horizontal([pl.col(n).is_null() for n in shared])
        columns = [needed.alias("\x00needed"), unrolled.alias("\x00kleene"), *evaluator.facts]

        def per_row(rows: pl.Series) -> pl.Series:
            needed_rows = rows.struct.field("\x00needed").fill_null(False)
            out: list[Tri] = rows.struct.field("\x00kleene").to_list()
            if not needed_rows.any():
                return pl.Series(out, dtype=pl.Boolean)
            # Only the rows that need it are turned into Python: the rest stay columnar.
            positions = needed_rows.arg_true().to_list()
            for position, row in zip(positions, rows.filter(needed_rows).to_list(), strict=True):
                answers = dict(row)
                answers.update((k, v) for k, v in fixed.items() if row.get(k) is None)
                out[position] = evaluator(answers)
            return pl.Series(out, dtype=pl.Boolean)

        return pl.struct(columns).map_batches(per_row, return_dtype=pl.Boolean)
    outcomes = [
        kleene_expr(condition, dict(zip(shared, combination, strict=True)), fixed)
        for combination in itertools.product(*(values[n] for n in shared))
    ]
    every_yes = pl.all_horizontal([o.fill_null(False) for o in outcomes])
    every_no = pl.all_horizontal([(~o).fill_null(False) for o in outcomes])
    return (
        pl.when(every_yes)
        .then(pl.lit(True))
        .when(every_no)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
