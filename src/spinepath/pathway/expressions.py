"""Conditions as Polars expressions: the population backend of the condition language.

``kleene_expr`` is Kleene evaluation over a fact table (Polars' boolean operators follow the
same tables as ``spinepath.pathway.kleene``); ``exact_expr`` is the population twin of
``spinepath.pathway.exact.Exact``, giving the same answer for every row. Both are the engine-
neutral column plans of ``spinepath.pathway.column_plan`` run through the Polars backend.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from spinepath.pathway.column_plan import exact, kleene
from spinepath.pathway.conditions import Condition
from spinepath.pathway.exact import Exact
from spinepath.pathway.kleene import FactValue
from spinepath.pathway.polars_backend import to_polars


def kleene_expr(
    condition: Condition,
    tried: Mapping[str, FactValue] | None = None,
    answered: Mapping[str, FactValue] | None = None,
) -> pl.Expr:
    """Kleene evaluation over a fact table.

    ``tried`` fills unanswered values while ``is unanswered`` still sees them unanswered
    (exact evaluation); ``answered`` fills them as if the person had answered.
    """
    return to_polars(kleene(condition, tried, answered))


def exact_expr(evaluator: Exact, fixed: Mapping[str, FactValue] | None = None) -> pl.Expr:
    """The population twin of ``Exact``, giving the same answer for every row.

    ``fixed`` answers unanswered facts for every row (what the engine tries for "still to ask").
    """
    return to_polars(exact(evaluator, fixed))
