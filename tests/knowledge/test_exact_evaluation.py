"""Exact three-valued evaluation: checked against brute-force enumeration of every completion."""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath import knowledge as kb
from spinepath.pathway.compiled import compiled
from spinepath.pathway.conditions import Condition, parse
from spinepath.pathway.exact import BOOL, Domain, Exact
from spinepath.pathway.expressions import exact_expr
from spinepath.pathway.kleene import Tri

# Small domains so brute force stays cheap: two yes/no facts, an enum and a bounded number.
DOMAINS: dict[str, Domain] = {
    "a": BOOL,
    "b": BOOL,
    "side": Domain("enum", ("none", "left", "right", "both")),
    "n": Domain("int", low=0, high=20),
}
ALL_VALUES: dict[str, tuple[Any, ...]] = {
    "a": (True, False),
    "b": (True, False),
    "side": ("none", "left", "right", "both"),
    "n": tuple(range(21)),
}
ATOMS = [
    "a",
    "not a",
    "b",
    "not b",
    "side == both",
    "side in [left, right]",
    "side != none",
    "n >= 6",
    "n < 6",
    "n > 12",
    "n == 0",
    "a is unanswered",
    "not n is unanswered",
]


def _spec(depth: int) -> st.SearchStrategy[Any]:
    atom = st.sampled_from(ATOMS)
    if depth == 0:
        return atom
    child = _spec(depth - 1)
    return st.one_of(
        atom,
        st.fixed_dictionaries({"all": st.lists(child, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(child, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": child}),
        st.builds(
            lambda children, k: {"at_least": min(k, len(children)), "of": children},
            st.lists(child, min_size=1, max_size=3),
            st.integers(1, 3),
        ),
    )


def brute_force(condition: Condition, facts: dict[str, Any]) -> Tri:
    """Yes (no) when yes (no) for every completion of the unanswered facts; state atoms fixed."""
    unknown = [name for name in sorted(condition.facts()) if facts.get(name) is None]
    outcomes = set()
    for values in itertools.product(*(ALL_VALUES[name] for name in unknown)):
        completed = {**facts, **dict(zip(unknown, values, strict=True))}
        outcomes.add(_evaluate_completed(condition, completed, facts))
    if outcomes == {True}:
        return True
    if outcomes == {False}:
        return False
    return None


def _evaluate_completed(
    condition: Condition, completed: dict[str, Any], answered: dict[str, Any]
) -> bool:
    # With every fact answered, Kleene is plain Boolean logic; `is unanswered` reads the answers
    # the person actually gave.
    if condition.kind == "atom" and condition.op == "unanswered":
        return (answered.get(condition.fact or "") is None) != condition.negate
    if condition.kind == "atom":
        result = condition.evaluate(completed)
        assert result is not None
        return result
    results = [_evaluate_completed(c, completed, answered) for c in condition.children]
    if condition.kind == "all":
        return all(results)
    if condition.kind == "any":
        return any(results)
    if condition.kind == "not":
        return not results[0]
    return sum(results) >= condition.threshold


fact_values = st.fixed_dictionaries(
    {
        "a": st.sampled_from([True, False, None]),
        "b": st.sampled_from([True, False, None]),
        "side": st.sampled_from(["none", "left", "right", "both", None]),
        "n": st.sampled_from([0, 5, 6, 7, 12, 13, None]),
    }
)


@settings(max_examples=400, deadline=None, database=None)
@given(_spec(3), fact_values)
def test_it_agrees_with_brute_force_enumeration_of_every_completion(
    spec: Any, facts: dict[str, Any]
) -> None:
    condition = parse(spec)
    assert Exact(condition, DOMAINS)(facts) is brute_force(condition, facts)


@settings(max_examples=150, deadline=None, database=None)
@given(_spec(3), st.lists(fact_values, min_size=1, max_size=6))
def test_its_polars_twin_gives_the_same_answer_row_for_row(
    spec: Any, rows: list[dict[str, Any]]
) -> None:
    evaluator = Exact(parse(spec), DOMAINS)
    frame = pl.DataFrame(
        rows, schema={"a": pl.Boolean, "b": pl.Boolean, "side": pl.String, "n": pl.Int64}
    )
    column = frame.select(exact_expr(evaluator).alias("out"))["out"].to_list()
    assert column == [evaluator(row) for row in rows]


def test_a_duration_criterion_holds_whatever_an_unrelated_question_says() -> None:
    # 14 weeks satisfies "6 weeks of radicular pain, or 12 weeks of claudication" either way.
    condition = parse({"any": [{"all": ["not a", "n >= 6"]}, {"all": ["a", "n >= 12"]}]})
    facts = {"a": None, "n": 14}
    assert condition.evaluate(facts) is None  # Kleene cannot tell
    assert Exact(condition, DOMAINS)(facts) is True


def test_it_keeps_unknown_when_the_answer_would_decide() -> None:
    condition = parse({"any": [{"all": ["not a", "n >= 6"]}, {"all": ["a", "n >= 12"]}]})
    assert Exact(condition, DOMAINS)({"a": None, "n": 8}) is None


@pytest.mark.parametrize("rule", compiled(kb.default()).triage_rules, ids=lambda r: r.entry.id)
def test_every_knowledge_base_rule_reads_only_answers_after_inlining(rule: Any) -> None:
    derived = {d.id for d in kb.default().derived}
    assert not set(rule.reads) & derived
