"""Population assessment: the knowledge base's conditions compiled to Polars expressions.

This is the vectorised twin of ``spinepath.engine``: the same conditions, the same order, the
same three-valued logic, over a fact table instead of one fact record. It yields the decision
columns (level, concerns, pattern, candidacy, imaging) without per-person explanations; a test
checks it row for row against the per-person engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from spinepath import kb
from spinepath.assessment import Level
from spinepath.facts import facts_frame, flatten
from spinepath.intake import Intake
from spinepath.kb import KnowledgeBase

_RANK_TO_LEVEL = {level.rank: level.value for level in Level}


def _fired(expr: pl.Expr) -> pl.Expr:
    # A rule acts only on a definite yes; unknown is handled by the unanswered-question floor.
    return expr.fill_null(False)


def _first_match(rules: list[tuple[pl.Expr, str]]) -> Any:
    first, *rest = rules
    chain: Any = pl.when(_fired(first[0])).then(pl.lit(first[1]))
    for condition, value in rest:
        chain = chain.when(_fired(condition)).then(pl.lit(value))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def evaluate_frame(facts: pl.DataFrame, knowledge: KnowledgeBase | None = None) -> pl.DataFrame:
    """Add decision columns to a fact table (one row per person)."""
    knowledge = knowledge or kb.default()
    df = facts.lazy()
    for derived in knowledge.derived:
        df = df.with_columns(derived.when.to_polars().alias(derived.id))
    for pattern in knowledge.patterns.types:
        df = df.with_columns(pattern.when.to_polars().alias(f"pattern.{pattern.id}"))

    rule_columns = []
    for rule in knowledge.red_flags:
        name = f"rule.{rule.id}"
        df = df.with_columns(_fired(rule.when.to_polars()).alias(name))
        rule_columns.append((rule, name))
    concern_exprs = []
    for code in knowledge.concerns:
        ranks = [
            pl.when(pl.col(name)).then(pl.lit(rule.level.rank)).otherwise(pl.lit(-1))
            for rule, name in rule_columns
            if rule.concern == code
        ]
        rank = pl.max_horizontal(ranks) if ranks else pl.lit(-1)
        concern_exprs += [rank.alias(f"concern.{code}.rank"), (rank >= 0).alias(f"concern.{code}")]
    df = df.with_columns(concern_exprs)

    candidates = [
        pl.when(pl.col(name)).then(pl.lit(rule.level.rank)).otherwise(pl.lit(None))
        for rule, name in rule_columns
    ]
    candidates += [
        pl.when(_fired(rule.when.to_polars())).then(pl.lit(rule.level.rank)).otherwise(pl.lit(None))
        for rule in knowledge.levels.rules
    ]
    floor = knowledge.levels.unanswered_floor
    unanswered: dict[str, list[pl.Expr]] = {"emergency": [], "red_flag": []}
    for question in knowledge.questions:
        asked = pl.col(question.fact).is_null()
        if question.ask_if is not None:
            asked = asked & question.ask_if.to_polars().fill_null(True)
        unanswered[question.screen].append(asked)
    any_emergency = pl.any_horizontal(unanswered["emergency"])
    any_unanswered = pl.any_horizontal([*unanswered["emergency"], *unanswered["red_flag"]])
    candidates.append(
        pl.when(any_emergency)
        .then(pl.lit(floor.emergency.rank))
        .when(any_unanswered)
        .then(pl.lit(floor.red_flag.rank))
        .otherwise(pl.lit(None))
    )
    df = df.with_columns(
        pl.max_horizontal(candidates).fill_null(Level.ROUTINE.rank).alias("triage.rank")
    )

    for criterion in knowledge.surgery.criteria:
        df = df.with_columns(criterion.when.to_polars().alias(f"criterion.{criterion.code}"))
    df = df.with_columns(
        _first_match(
            [(s.when.to_polars(), s.status.value) for s in knowledge.surgery.statuses]
        ).alias("surgical.status")
    )
    df = df.with_columns(
        (pl.col("surgical.status") == "refer_surgical_opinion").alias("surgical.referral_due")
    )
    df = df.with_columns(
        _first_match(
            [(r.when.to_polars(), "true" if r.indicated else "false") for r in knowledge.imaging]
        ).alias("imaging.indicated_text")
    )
    pattern_order = [p.id for p in knowledge.patterns.types]
    primary: Any = pl.when(_fired(pl.col(f"pattern.{pattern_order[0]}"))).then(
        pl.lit(pattern_order[0])
    )
    for pattern_id in pattern_order[1:]:
        primary = primary.when(_fired(pl.col(f"pattern.{pattern_id}"))).then(pl.lit(pattern_id))
    concern_list = pl.concat_list(
        [
            pl.when(pl.col(f"concern.{code}")).then(pl.lit(code)).otherwise(pl.lit(None))
            for code in knowledge.concerns
        ]
    ).list.drop_nulls()
    return df.select(
        pl.col("triage.rank").replace_strict(_RANK_TO_LEVEL, return_dtype=pl.String).alias("level"),
        concern_list.alias("concerns"),
        primary.otherwise(pl.lit("non_specific")).alias("pattern"),
        pl.col("surgical.status").alias("candidacy"),
        (pl.col("imaging.indicated_text") == "true").alias("imaging_indicated"),
    ).collect()


def assess_frame(intakes: Iterable[Intake], knowledge: KnowledgeBase | None = None) -> pl.DataFrame:
    """Decision columns for many intakes at once."""
    return evaluate_frame(facts_frame(flatten(i) for i in intakes), knowledge)
