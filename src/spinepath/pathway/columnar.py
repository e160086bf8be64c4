"""Population assessment: the compiled knowledge base as Polars expressions.

This is the vectorised twin of ``spinepath.pathway.engine``: the same compiled conditions, the same
order, the same exact three-valued logic (``spinepath.pathway.exact``), over a fact table instead of
one fact record. It yields the decision columns (level, concerns, pattern, candidacy, imaging)
without per-person explanations; a test checks it row for row against the per-person engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from spinepath import knowledge as kb
from spinepath.knowledge import KnowledgeBase
from spinepath.pathway.assessment import Level
from spinepath.pathway.bulk_validation import ERRORS, with_errors
from spinepath.pathway.compiled import CompiledKnowledge, compiled
from spinepath.pathway.engine import answer_options
from spinepath.pathway.expressions import exact_expr
from spinepath.pathway.fact_columns import fact_exprs, fact_schema, intake_schema
from spinepath.pathway.facts import Facts, flatten
from spinepath.pathway.intake import Intake

_RANK_TO_LEVEL = {level.rank: level.value for level in Level}


def facts_frame(records: Iterable[Facts]) -> pl.DataFrame:
    """A population fact table with the declared column types."""
    return pl.DataFrame(list(records), schema=fact_schema(), orient="row")


def _fired(expr: pl.Expr) -> pl.Expr:
    # A rule acts only on a definite yes; unknown is handled by the unanswered-question floor.
    return expr.fill_null(False)


def _first_match(rules: list[tuple[pl.Expr, str]]) -> Any:
    first, *rest = rules
    chain: Any = pl.when(_fired(first[0])).then(pl.lit(first[1]))
    for condition, value in rest:
        chain = chain.when(_fired(condition)).then(pl.lit(value))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def _floor(knowledge: CompiledKnowledge, rule_rank: pl.Expr) -> pl.Expr:
    """The engine's floor: an unanswered question one answer to which would raise the level."""
    raise_to: dict[int, list[pl.Expr]] = {}
    rules = knowledge.triage_rules
    for question, ask_if in knowledge.questions:
        name = question.fact
        asked = pl.col(name).is_null()
        if ask_if is not None:
            asked = asked & exact_expr(ask_if).fill_null(True)
        for _answer, value in answer_options(knowledge, name):
            for index in knowledge.triage_reading.get(name, []):
                rule = rules[index]
                fires = exact_expr(rule.check, {name: value}).fill_null(False)
                raise_to.setdefault(rule.entry.level.rank, []).append(asked & fires)
    floor = knowledge.knowledge.levels.unanswered_floor
    emergency = Level.EMERGENCY.rank
    could_emergency = pl.any_horizontal(raise_to.get(emergency, [pl.lit(False)]))
    could_raise = pl.any_horizontal(
        [pl.any_horizontal(exprs) & (pl.lit(rank) > rule_rank) for rank, exprs in raise_to.items()]
        or [pl.lit(False)]
    )
    return (
        pl.when(could_emergency & (pl.lit(emergency) > rule_rank))
        .then(pl.lit(floor.emergency.rank))
        .when(could_raise)
        .then(pl.lit(floor.red_flag.rank))
        .otherwise(pl.lit(None, dtype=pl.Int64))
    )


def evaluate_frame(facts: pl.DataFrame, knowledge: KnowledgeBase | None = None) -> pl.DataFrame:
    """Add decision columns to a fact table (one row per person)."""
    return evaluate_lazy(facts.lazy(), knowledge).collect()


def evaluate_lazy(
    facts: pl.LazyFrame, knowledge: KnowledgeBase | None = None, keep: Sequence[str] = ()
) -> pl.LazyFrame:
    """The decision columns of a lazy fact table, after the ``keep`` columns carried through."""
    built = compiled(knowledge or kb.default())
    df = facts
    for derived in built.derived:
        df = df.with_columns(exact_expr(derived.check).alias(derived.entry))
    for pattern in built.patterns:
        df = df.with_columns(exact_expr(pattern.check).alias(f"pattern.{pattern.entry}"))

    rule_columns = []
    for rule in built.red_flags:
        column = f"rule.{rule.entry.id}"
        df = df.with_columns(_fired(exact_expr(rule.check)).alias(column))
        rule_columns.append((rule.entry, column))
    concern_exprs = []
    for code in built.knowledge.concerns:
        ranks = [
            pl.when(pl.col(column)).then(pl.lit(entry.level.rank)).otherwise(pl.lit(-1))
            for entry, column in rule_columns
            if entry.concern == code
        ]
        rank = pl.max_horizontal(ranks) if ranks else pl.lit(-1)
        concern_exprs += [rank.alias(f"concern.{code}.rank"), (rank >= 0).alias(f"concern.{code}")]
    df = df.with_columns(concern_exprs)

    candidates = [
        pl.when(pl.col(column)).then(pl.lit(entry.level.rank)).otherwise(pl.lit(None))
        for entry, column in rule_columns
    ]
    candidates += [
        pl.when(_fired(exact_expr(rule.check))).then(pl.lit(rule.entry.level.rank))
        for rule in built.level_rules
    ]
    df = df.with_columns(
        pl.max_horizontal(candidates).fill_null(Level.ROUTINE.rank).alias("rule.rank")
    )
    df = df.with_columns(
        pl.max_horizontal(pl.col("rule.rank"), _floor(built, pl.col("rule.rank"))).alias(
            "triage.rank"
        )
    )

    for criterion in built.criteria:
        df = df.with_columns(exact_expr(criterion.check).alias(f"criterion.{criterion.entry.code}"))
    df = df.with_columns(
        _first_match([(exact_expr(s.check), s.entry.status.value) for s in built.statuses]).alias(
            "surgical.status"
        )
    )
    df = df.with_columns(
        (pl.col("surgical.status") == "refer_surgical_opinion").alias("surgical.referral_due")
    )
    df = df.with_columns(
        _first_match(
            [(exact_expr(r.check), "true" if r.entry.indicated else "false") for r in built.imaging]
        ).alias("imaging.indicated_text")
    )
    pattern_order = [pattern.entry for pattern in built.patterns]
    primary: Any = pl.when(_fired(pl.col(f"pattern.{pattern_order[0]}"))).then(
        pl.lit(pattern_order[0])
    )
    for pattern_id in pattern_order[1:]:
        primary = primary.when(_fired(pl.col(f"pattern.{pattern_id}"))).then(pl.lit(pattern_id))
    concern_list = pl.concat_list(
        [
            pl.when(pl.col(f"concern.{code}")).then(pl.lit(code)).otherwise(pl.lit(None))
            for code in built.knowledge.concerns
        ]
    ).list.drop_nulls()
    return df.select(
        *keep,
        pl.col("triage.rank").replace_strict(_RANK_TO_LEVEL, return_dtype=pl.String).alias("level"),
        concern_list.alias("concerns"),
        primary.otherwise(pl.lit("non_specific")).alias("pattern"),
        pl.col("surgical.status").alias("candidacy"),
        (pl.col("imaging.indicated_text") == "true").alias("imaging_indicated"),
    )


def assess_frame(intakes: Iterable[Intake], knowledge: KnowledgeBase | None = None) -> pl.DataFrame:
    """Decision columns for many intakes at once."""
    knowledge = knowledge or kb.default()
    terms = knowledge.fact_terms
    return evaluate_frame(facts_frame(flatten(i, terms) for i in intakes), knowledge)


LINE = "line"


@dataclass(frozen=True)
class PopulationAssessment:
    """Decision columns of the valid intakes in a file, and the refused lines with the reasons."""

    assessed: pl.DataFrame
    """``line`` (1-based line of the file) then the decision columns of ``assess_frame``."""
    rejected: pl.DataFrame
    """``line`` and ``errors`` (messages naming the field) of every intake the model refuses."""


def assess_ndjson(
    source: str | Path, knowledge: KnowledgeBase | None = None
) -> PopulationAssessment:
    """Assess a file of intake JSON, one intake a line, without building an ``Intake`` per line.

    The file is read against the intake model's schema, checked by expressions
    (``bulk_validation``), turned into facts by expressions (``fact_columns``) and run through
    the same compiled rules as ``assess_frame``. A value of the wrong JSON type anywhere makes the
    reader raise ``polars.exceptions.ComputeError`` for the whole file.
    """
    knowledge = knowledge or kb.default()
    raw = with_errors(pl.scan_ndjson(source, schema=intake_schema()).with_row_index(LINE, offset=1))
    valid = raw.filter(pl.col(ERRORS).list.len() == 0)
    facts = valid.select(pl.col(LINE), *fact_exprs(knowledge.fact_terms))
    assessed, rejected = pl.collect_all(
        [
            evaluate_lazy(facts, knowledge, keep=[LINE]),
            raw.filter(pl.col(ERRORS).list.len() > 0).select(LINE, ERRORS),
        ]
    )
    return PopulationAssessment(assessed=assessed, rejected=rejected)
