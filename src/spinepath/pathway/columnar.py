"""Population assessment with Polars: the pathway's column plan over a fact table.

The plan (``spinepath.pathway.population_plan``) is the vectorised twin of
``spinepath.pathway.engine``; this module runs it with Polars, the in-process default, and reads
intake NDJSON straight into it. A test checks it row for row against the per-person engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import polars as pl

from spinepath import knowledge as kb
from spinepath.knowledge import KnowledgeBase
from spinepath.pathway.bulk_validation import ERRORS, with_errors
from spinepath.pathway.compiled import compiled
from spinepath.pathway.fact_columns import fact_frame, fact_schema, intake_schema
from spinepath.pathway.facts import Facts, flatten
from spinepath.pathway.intake import Intake
from spinepath.pathway.polars_backend import to_polars
from spinepath.pathway.population_plan import population_plan
from spinepath.pathway.shared_columns import shared_plan


def facts_frame(records: Iterable[Facts]) -> pl.DataFrame:
    """A population fact table with the declared column types."""
    return pl.DataFrame(list(records), schema=fact_schema(), orient="row")


def evaluate_frame(facts: pl.DataFrame, knowledge: KnowledgeBase | None = None) -> pl.DataFrame:
    """Add decision columns to a fact table (one row per person)."""
    return evaluate_lazy(facts.lazy(), knowledge).collect(engine="in-memory")


def evaluate_lazy(
    facts: pl.LazyFrame, knowledge: KnowledgeBase | None = None, keep: Sequence[str] = ()
) -> pl.LazyFrame:
    """The decision columns of a lazy fact table, after the ``keep`` columns carried through.

    Collect it with the in-memory engine: the streaming engine hands the Python steps small
    batches, which costs several times more."""
    steps, outputs = _polars_plan(knowledge or kb.default())
    df = facts
    for step in steps:
        df = df.with_columns(step)
    return df.select(*keep, *outputs)


def _polars_plan(knowledge: KnowledgeBase) -> tuple[list[list[pl.Expr]], list[pl.Expr]]:
    """The plan's steps and outputs as Polars expressions, built once per knowledge base."""
    plan = population_plan(compiled(knowledge))
    found = plan.backend_cache.get("polars")
    if found is None:
        shared_steps, shared_outputs = shared_plan(plan)
        steps = [[to_polars(node).alias(name) for name, node in step] for step in shared_steps]
        outputs = [to_polars(node).alias(name) for name, node in shared_outputs]
        found = plan.backend_cache["polars"] = (steps, outputs)
    return cast(tuple[list[list[pl.Expr]], list[pl.Expr]], found)


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
    facts = fact_frame(valid, knowledge.fact_terms, keep=[LINE])
    assessed, rejected = pl.collect_all(
        [
            evaluate_lazy(facts, knowledge, keep=[LINE]),
            raw.filter(pl.col(ERRORS).list.len() > 0).select(LINE, ERRORS),
        ]
    )
    return PopulationAssessment(assessed=assessed, rejected=rejected)
