"""The condition language: Kleene three-valued logic, parse errors, and the Polars twin."""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.pathway.conditions import Condition, ConditionError, parse
from spinepath.pathway.expressions import kleene_expr

Tri = bool | None
TRI: tuple[Tri, ...] = (True, False, None)


def _kleene_and(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _kleene_or(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


PAIRS = list(itertools.product(TRI, TRI))


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_it_follows_the_kleene_truth_table_for_all(a: Tri, b: Tri) -> None:
    assert parse({"all": ["a", "b"]}).evaluate({"a": a, "b": b}) is _kleene_and(a, b)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_it_follows_the_kleene_truth_table_for_any(a: Tri, b: Tri) -> None:
    assert parse({"any": ["a", "b"]}).evaluate({"a": a, "b": b}) is _kleene_or(a, b)


@pytest.mark.parametrize(("a", "expected"), [(True, False), (False, True), (None, None)])
def test_it_keeps_unknown_unknown_under_not(a: Tri, expected: Tri) -> None:
    assert parse({"not": "a"}).evaluate({"a": a}) is expected
    assert parse("not a").evaluate({"a": a}) is expected


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_it_counts_only_a_definite_yes_in_none_true(a: Tri, b: Tri) -> None:
    assert parse({"none_true": ["a", "b"]}).evaluate({"a": a, "b": b}) is (
        a is not True and b is not True
    )


@pytest.mark.parametrize("values", list(itertools.product(TRI, repeat=3)))
def test_it_says_at_least_is_unknown_only_while_unknowns_could_reach_the_threshold(
    values: tuple[Tri, Tri, Tri],
) -> None:
    yes = sum(v is True for v in values)
    unknown = sum(v is None for v in values)
    expected: Tri = True if yes >= 2 else (False if yes + unknown < 2 else None)
    condition = parse({"at_least": 2, "of": ["a", "b", "c"]})
    assert condition.evaluate(dict(zip("abc", values, strict=True))) is expected


@pytest.mark.parametrize(
    ("value", "expected", "negated"), [(None, True, False), (0, False, True), (False, False, True)]
)
def test_it_answers_is_unanswered_definitely(value: Any, expected: bool, negated: bool) -> None:
    assert parse("x is unanswered").evaluate({"x": value}) is expected
    assert parse("not x is unanswered").evaluate({"x": value}) is negated


def test_it_treats_a_missing_fact_as_unanswered() -> None:
    assert parse("x is unanswered").evaluate({}) is True
    assert parse("x").evaluate({}) is None


@pytest.mark.parametrize("text", ["x > 5", "x < 5", "x >= 5", "x <= 5", "x == 5", "x != 5"])
def test_it_makes_a_comparison_with_an_unanswered_fact_unknown(text: str) -> None:
    assert parse(text).evaluate({"x": None}) is None
    assert parse(f"not {text}").evaluate({"x": None}) is None


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("age > 70", 70, False),
        ("age > 70", 71, True),
        ("cauda_equina.onset_days < 14", 13, True),
        ("cauda_equina.onset_days < 14", 14, False),
        ("age >= 0", 0, True),
        ("neurology.leg_weakness == both", "both", True),
        ("neurology.leg_weakness != none", "none", False),
        ("history.trauma in [minor, major]", "major", True),
        ("history.trauma in [minor, major]", "none", False),
        ("history.trauma in [minor, major]", None, None),
        ("flag == true", True, True),
        ("flag == false", True, False),
        ("health.bmi >= 30", 29.9, False),
        ("health.bmi >= 30", 30.0, True),
    ],
)
def test_it_compares_answered_facts(text: str, value: Any, expected: Tri) -> None:
    fact = text.split()[0]
    assert parse(text).evaluate({fact: value}) is expected


def test_it_lists_the_facts_a_condition_reads() -> None:
    condition = parse({"all": ["a", {"any": ["b > 1", {"not": "c is unanswered"}]}]})
    assert condition.facts() == frozenset({"a", "b", "c"})


@pytest.mark.parametrize(
    ("spec", "place"),
    [
        ("age ==", "rule.when"),
        ("Age > 5", "rule.when"),
        ({"all": []}, "rule.when"),
        ({"all": ["a", "b >"]}, "rule.when.all[1]"),
        ({"any": ["a", {"not": "??"}]}, "rule.when.any[1].not"),
        ({"at_least": 3, "of": ["a", "b"]}, "rule.when"),
        ({"at_least": 0, "of": ["a"]}, "rule.when"),
        ({"at_least": 1, "of": ["a", "b c d"]}, "rule.when.of[1]"),
        ({"most": ["a"]}, "rule.when"),
        ({"all": ["a"], "any": ["b"]}, "rule.when"),
        (5, "rule.when"),
        ("x in minor", "rule.when"),
    ],
)
def test_it_names_the_place_of_a_parse_error(spec: object, place: str) -> None:
    with pytest.raises(ConditionError) as raised:
        parse(spec, where="rule.when")
    assert str(raised.value).startswith(f"{place}:")


# --- the Polars twin agrees with per-person evaluation -------------------------------------------

BOOL_FACTS = ("b1", "b2", "b3")
INT_FACTS = ("n1", "n2")
STR_FACTS = ("s1",)
SIDES = ("none", "left", "right", "both")
SCHEMA: dict[str, pl.DataType] = {
    **{name: pl.Boolean() for name in BOOL_FACTS},
    **{name: pl.Int64() for name in INT_FACTS},
    **{name: pl.String() for name in STR_FACTS},
}

_neg = st.sampled_from(["", "not "])
_bool_atom = st.builds(lambda n, f: f"{n}{f}", _neg, st.sampled_from(BOOL_FACTS))
_unanswered_atom = st.builds(
    lambda n, f: f"{n}{f} is unanswered", _neg, st.sampled_from(sorted(SCHEMA))
)
_int_atom = st.builds(
    lambda n, f, op, v: f"{n}{f} {op} {v}",
    _neg,
    st.sampled_from(INT_FACTS),
    st.sampled_from(["==", "!=", ">", "<", ">=", "<="]),
    st.integers(-2, 12),
)
_str_atom = st.one_of(
    st.builds(
        lambda n, f, op, v: f"{n}{f} {op} {v}",
        _neg,
        st.sampled_from(STR_FACTS),
        st.sampled_from(["==", "!="]),
        st.sampled_from(SIDES),
    ),
    st.builds(
        lambda n, f, vs: f"{n}{f} in [{', '.join(vs)}]",
        _neg,
        st.sampled_from(STR_FACTS),
        st.lists(st.sampled_from(SIDES), min_size=1, max_size=3, unique=True),
    ),
)
_atom = st.one_of(_bool_atom, _unanswered_atom, _int_atom, _str_atom)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        lists.map(lambda c: {"all": c}),
        lists.map(lambda c: {"any": c}),
        lists.map(lambda c: {"none_true": c}),
        children.map(lambda c: {"not": c}),
        st.lists(children, min_size=1, max_size=4).flatmap(
            lambda c: st.integers(1, len(c)).map(lambda k: {"at_least": k, "of": c})
        ),
    )


condition_specs = st.recursive(_atom, _extend, max_leaves=8)
fact_values = st.fixed_dictionaries(
    {
        **{name: st.sampled_from([True, False, None]) for name in BOOL_FACTS},
        **{name: st.one_of(st.none(), st.integers(0, 10)) for name in INT_FACTS},
        **{name: st.one_of(st.none(), st.sampled_from(SIDES)) for name in STR_FACTS},
    }
)


@settings(max_examples=150, deadline=None, database=None)
@given(condition_specs, st.lists(fact_values, min_size=1, max_size=6))
def test_it_evaluates_the_same_per_person_and_over_a_polars_frame(
    spec: object, rows: list[dict[str, Any]]
) -> None:
    condition: Condition = parse(spec)
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    column = frame.select(kleene_expr(condition).alias("result"))["result"].to_list()
    assert column == [condition.evaluate(row) for row in rows]


def test_otherwise_is_yes_whatever_was_answered() -> None:
    condition = parse("otherwise")
    assert condition.facts() == frozenset()
    assert condition.evaluate({}) is True
    assert condition.evaluate({"age": None}) is True
    frame = pl.DataFrame({"age": [None, 40]}, schema={"age": pl.Int64})
    column = frame.with_columns(kleene_expr(condition).alias("r"))["r"]
    assert column.to_list() == [True, True]
