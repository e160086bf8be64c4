"""Column plans (``spinepath.pathway.column_plan``) as Polars expressions.

Also home to the two steps every engine runs in Python, once per distinct case rather than once
per person: exact evaluation where Kleene logic is not enough (``decide_cases``), and turning
flags into lists of names (``name_lists``). The DuckDB and Spark backends call the same
functions from their vectorised user-defined functions.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, cast

import polars as pl

from spinepath.pathway.column_plan import (
    Cast,
    Col,
    ExactCase,
    IsIn,
    Lit,
    Names,
    Node,
    Only,
    Op,
    When,
    columns_read,
    kleene,
)
from spinepath.pathway.exact import ANOTHER_ANSWER
from spinepath.pathway.kleene import FactValue

POLARS_TYPES: Mapping[str, pl.DataType] = {
    "bool": pl.Boolean(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "names": pl.List(pl.String()),
}

_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
}

NEEDED = "__spinepath_needed"
KLEENE = "__spinepath_kleene"
_EXACT = "__spinepath_exact"


def to_polars(node: Node) -> pl.Expr:
    if isinstance(node, Col):
        return pl.col(node.name)
    if isinstance(node, Lit):
        return pl.lit(node.value, dtype=POLARS_TYPES[node.dtype])
    if isinstance(node, Op):
        return _op(node)
    if isinstance(node, IsIn):
        arg = to_polars(node.arg)
        # is_in maps null to null only when told to; keep unknown unknown.
        return pl.when(arg.is_null()).then(None).otherwise(arg.is_in(node.values))
    if isinstance(node, When):
        first, *rest = node.branches
        chain: Any = pl.when(to_polars(first[0])).then(to_polars(first[1]))
        for condition, value in rest:
            chain = chain.when(to_polars(condition)).then(to_polars(value))
        return cast(pl.Expr, chain.otherwise(to_polars(node.otherwise)))
    if isinstance(node, Cast):
        return to_polars(node.arg).cast(POLARS_TYPES[node.dtype])
    if isinstance(node, Names):
        return _names(node)
    if isinstance(node, Only):
        return _only(node)
    return _exact_case(node)


_MASK = "__spinepath_mask"


def _run(query: pl.LazyFrame) -> pl.DataFrame:
    """A query inside a step of the plan, run by the in-memory engine. Polars' default, the
    streaming engine, takes milliseconds to start each of the hundreds of such queries a chunk
    runs: on a million people, over a second of the whole run."""
    return query.collect(engine="in-memory")


def _only(node: Only) -> pl.Expr:
    """Works the value out on the masked rows only: a filter, then a scatter back."""
    reads = sorted(columns_read(node.value))
    dtype = POLARS_TYPES[node.dtype]
    value = to_polars(node.value)

    def per_batch(rows: pl.Series) -> pl.Series:
        frame = rows.struct.unnest()
        mask = frame.get_column(_MASK).fill_null(False)
        if not mask.any():
            return pl.repeat(None, frame.height, dtype=dtype, eager=True)
        picked = _run(frame.lazy().filter(mask).select(value.cast(dtype))).to_series()
        empty = pl.Series(picked.name, [None], dtype=dtype).extend_constant(None, frame.height - 1)
        return empty.scatter(mask.arg_true(), picked)

    if not reads:
        return pl.when(to_polars(node.mask)).then(value)
    columns = [to_polars(node.mask).alias(_MASK), *reads]
    return pl.struct(columns).map_batches(per_batch, return_dtype=dtype)


def _op(node: Op) -> pl.Expr:
    args = [to_polars(a) for a in node.args]
    op = node.op
    if op == "and":
        return pl.all_horizontal(args)
    if op == "or":
        return pl.any_horizontal(args)
    if op == "not":
        return ~args[0]
    if op == "is_null":
        return args[0].is_null()
    if op == "fill_null":
        return args[0].fill_null(args[1])
    if op == "max":
        return pl.max_horizontal(args)
    if op == "sum":
        return pl.sum_horizontal(a.cast(pl.Int64) for a in args)
    if op == "has_bit":
        return (args[0] & args[1]) != 0
    return cast(pl.Expr, _COMPARE[op](args[0], args[1]))


# --- exact evaluation, once per distinct case ----------------------------------------------------


def canonical(name: str, constants: frozenset[FactValue]) -> pl.Expr:
    """A stand-in for each answer that compares with the condition's constants as it does.

    A condition reads a fact only through comparisons with its constants, so every value between
    two neighbouring constants (or beyond the last) gives the same result: the many ages and
    durations of a population fall into a handful of classes."""
    column = pl.col(name)
    numbers = sorted(c for c in constants if isinstance(c, int | float) and not isinstance(c, bool))
    words = sorted(str(c) for c in constants if isinstance(c, str))
    if numbers:
        chain: Any = pl.when(column < numbers[0]).then(pl.lit(numbers[0] - 1.0))
        for low, high in itertools.pairwise(numbers):
            chain = chain.when(column == low).then(pl.lit(float(low)))
            chain = chain.when(column < high).then(pl.lit((low + high) / 2))
        last = numbers[-1]
        chain = chain.when(column == last).then(pl.lit(float(last)))
        return cast(pl.Expr, chain.when(column > last).then(pl.lit(last + 1.0)).alias(name))
    if words:
        return (
            pl.when(column.is_null() | column.is_in(words))
            .then(column)
            .otherwise(pl.lit(ANOTHER_ANSWER))
            .alias(name)
        )
    return column


def decide_cases(node: ExactCase, frame: pl.DataFrame) -> pl.Series:
    """The exact value for each row of ``frame`` (columns ``NEEDED``, ``KLEENE`` and the facts
    the condition reads): Kleene's where it is enough; for the many rows that left the same few
    shared facts unanswered, their values tried as expressions (``ExactCase.tried_for``); else
    the per-person evaluator's, once for each distinct class of answers."""
    out = frame.get_column(KLEENE).cast(pl.Boolean).clone()
    needed = frame.get_column(NEEDED).cast(pl.Boolean).fill_null(False)
    if not needed.any():
        return out
    pattern = pl.sum_horizontal(
        pl.col(n).is_null().cast(pl.Int64) * (1 << bit) for bit, n in enumerate(node.shared)
    )
    rows = frame.with_row_index(_ROW).filter(needed).with_columns(pattern.alias(_PATTERN))
    by_pattern = rows.get_column(_PATTERN).value_counts()
    rare: list[int] = []
    for mask, count in by_pattern.iter_rows():
        unanswered = tuple(n for bit, n in enumerate(node.shared) if mask >> bit & 1)
        if count < _MANY or node.combinations(unanswered) > _FEW_TRIES:
            rare.append(mask)
            continue
        group = rows.filter(pl.col(_PATTERN) == mask)
        decided = _run(group.lazy().select(_tried_expr(node, unanswered)))
        out = out.scatter(group.get_column(_ROW), decided.to_series())
    others = rows.filter(pl.col(_PATTERN).is_in(rare))
    if others.height:
        # Two answers that disagree prove "unknown" without the per-person evaluator.
        low, high = _probe_exprs(node)
        probes = _run(others.lazy().select(low.alias("low"), high.alias("high")))
        split = (probes["low"] != probes["high"]).fill_null(False)
        out = out.scatter(others.filter(split).get_column(_ROW), None)
        rest = others.filter(~split)
        if rest.height:
            out = out.scatter(rest.get_column(_ROW), _by_distinct_case(node, rest))
    return out


def _probe_exprs(node: ExactCase) -> tuple[pl.Expr, pl.Expr]:
    """Kleene's answer with every unanswered fact the condition reads given its first possible
    value, and with every one given its last: where the two differ, the exact answer is unknown
    (each is a possible set of answers)."""
    found = node.backend_cache.get("probes")
    if found is None:
        evaluator = node.evaluator
        values = {n: evaluator.values_of(n) for n in evaluator.facts if n not in evaluator.state}
        condition = evaluator.condition
        low = kleene(condition, {n: v[0] for n, v in values.items()}, node.fixed)
        high = kleene(condition, {n: v[-1] for n, v in values.items()}, node.fixed)
        found = node.backend_cache["probes"] = (to_polars(low), to_polars(high))
    return cast(tuple[pl.Expr, pl.Expr], found)


def _tried_expr(node: ExactCase, unanswered: tuple[str, ...]) -> pl.Expr:
    key = ("polars", unanswered)
    found = node.backend_cache.get(key)
    if found is None:
        found = node.backend_cache[key] = to_polars(node.tried_for(unanswered)).cast(pl.Boolean)
    return cast(pl.Expr, found)


# From this many rows that left the same shared facts unanswered, with at most this many value
# combinations to try, expressions beat the per-person evaluator (measured on generated cohorts:
# trying more combinations as expressions costs more than it saves).
_MANY = 1024
_FEW_TRIES = 8
_PATTERN = "__spinepath_pattern"
_ROW = "__spinepath_row"


def _by_distinct_case(node: ExactCase, rows: pl.DataFrame) -> pl.Series:
    facts = list(node.facts)
    cases = rows.select(canonical(name, node.constants.get(name, frozenset())) for name in facts)
    distinct = cases.unique()
    answers = []
    for row in distinct.iter_rows(named=True):
        row.update((k, v) for k, v in node.fixed.items() if row.get(k) is None)
        answers.append(node.evaluator(row))
    lookup = distinct.with_columns(pl.Series(_EXACT, answers, dtype=pl.Boolean))
    decided = cases.join(lookup, on=facts, how="left", nulls_equal=True, maintain_order="left")
    return decided.get_column(_EXACT)


def _exact_case(node: ExactCase) -> pl.Expr:
    columns = [
        to_polars(node.needed).alias(NEEDED),
        to_polars(node.kleene).alias(KLEENE),
        *node.facts,
    ]

    def per_batch(rows: pl.Series) -> pl.Series:
        return decide_cases(node, rows.struct.unnest())

    return pl.struct(columns).map_batches(per_batch, return_dtype=pl.Boolean)


# --- lists of names -------------------------------------------------------------------------------

MASK_BITS = 63
"""Flags per number (a signed 64-bit integer, which every engine has)."""


def flag_mask(flags: Sequence[pl.Expr]) -> pl.Expr:
    return pl.sum_horizontal(
        pl.when(flag).then(pl.lit(1 << bit, dtype=pl.Int64)).otherwise(pl.lit(0, pl.Int64))
        for bit, flag in enumerate(flags)
    )


def name_lists(names: Sequence[str], masks: pl.Series) -> pl.Series:
    """Each number's set bits as the list of the names at those positions, worked out once per
    distinct number (visiting only the bits that are set) and joined back.

    The lists are made by splitting joined text: building a list column from Python lists is
    several times slower."""
    distinct = masks.unique()
    joined: list[str | None] = []
    for number in distinct.to_list():
        found = []
        while number:
            low = number & -number
            found.append(names[low.bit_length() - 1])
            number ^= low
        joined.append(_SEPARATOR.join(found) if found else None)
    lists = (
        pl.Series("names", joined, pl.String)
        .str.split(_SEPARATOR)
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    lookup = pl.DataFrame([distinct.alias("mask"), lists])
    picked = masks.alias("mask").to_frame().join(lookup, on="mask", maintain_order="left")
    return picked.get_column("names")


_SEPARATOR = "\x1f"
"""Between names while the lists are made (no fact or item id holds it)."""


def _names(node: Names) -> pl.Expr:
    """Building a list per row from many flags is slow in bulk, and most rows share one of a few
    combinations: so the flags become the bits of a number, and each distinct number becomes
    its list once."""
    if not node.names:
        return pl.lit([], dtype=pl.List(pl.String))
    parts = []
    for start in range(0, len(node.names), MASK_BITS):
        names = node.names[start : start + MASK_BITS]
        mask = flag_mask([to_polars(f) for f in node.flags[start : start + MASK_BITS]])
        parts.append(mask.map_batches(partial(name_lists, names), return_dtype=pl.List(pl.String)))
    return parts[0] if len(parts) == 1 else pl.concat_list(parts)
