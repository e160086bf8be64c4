"""Shared parts of the column plan become columns of their own, and nothing else changes."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from spinepath import knowledge as kb
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
)
from spinepath.pathway.compiled import compiled
from spinepath.pathway.polars_backend import to_polars
from spinepath.pathway.population_plan import Columns, population_plan
from spinepath.pathway.shared_columns import SHARED, share_columns


def _big(x: str, y: str) -> Node:
    """A part large enough to be shared (six nodes or more)."""
    return Op("and", (Op(">", (Col(x), Lit(1, "int"))), Op("<", (Col(y), Lit(5, "int")))))


def _evaluate(steps: list[Columns], outputs: Columns, facts: pl.DataFrame) -> pl.DataFrame:
    frame = facts.lazy()
    for step in steps:
        frame = frame.with_columns(to_polars(node).alias(name) for name, node in step)
    return frame.select(to_polars(node).alias(name) for name, node in outputs).collect()


def _tree_size(node: Node) -> int:
    """Nodes an engine would walk: every repeat counted."""
    if isinstance(node, Op):
        return 1 + sum(_tree_size(a) for a in node.args)
    if isinstance(node, IsIn | Cast):
        return 1 + _tree_size(node.arg)
    if isinstance(node, When):
        parts = [c for branch in node.branches for c in branch]
        return 1 + sum(_tree_size(p) for p in (*parts, node.otherwise))
    if isinstance(node, Names):
        return 1 + sum(_tree_size(f) for f in node.flags)
    if isinstance(node, Only):
        return 1 + _tree_size(node.mask) + _tree_size(node.value)
    if isinstance(node, ExactCase):
        return 1 + _tree_size(node.needed) + _tree_size(node.kleene)
    return 1


TOY_STEPS: list[Columns] = [
    [
        ("first", Op("or", (_big("x", "y"), Col("z")))),
        ("second", Op("not", (_big("x", "y"),))),
    ],
    [("third", When(((Col("first"), _big("y", "x")),), _big("x", "y")))],
]
TOY_OUTPUTS: Columns = [("out", Op("and", (Col("third"), _big("y", "x"))))]


def test_a_part_used_twice_becomes_one_column_read_by_both() -> None:
    steps, _ = share_columns(TOY_STEPS, TOY_OUTPUTS)
    shared = {node: name for step in steps for name, node in step if name.startswith(SHARED)}
    assert set(shared) == {_big("x", "y"), _big("y", "x")}
    name = shared[_big("x", "y")]
    definitions = dict(c for step in steps for c in step)
    assert definitions["first"] == Op("or", (Col(name), Col("z")))
    assert definitions["second"] == Op("not", (Col(name),))


def test_a_part_equal_to_a_column_reads_that_column() -> None:
    steps: list[Columns] = [[("a", _big("x", "y"))], [("b", Op("not", (_big("x", "y"),)))]]
    shared_steps, _ = share_columns(steps, [("out", _big("x", "y"))])
    definitions = dict(c for step in shared_steps for c in step)
    assert definitions["b"] == Op("not", (Col("a"),))
    assert not any(name.startswith(SHARED) for name in definitions)


def test_small_parts_are_left_inline() -> None:
    small = Op(">", (Col("x"), Lit(1, "int")))
    steps: list[Columns] = [[("a", Op("not", (small,))), ("b", Op("is_null", (small,)))]]
    shared_steps, _ = share_columns(steps, [])
    assert sum(len(step) for step in shared_steps) == 2


def test_every_column_comes_after_the_columns_it_reads() -> None:
    plan = population_plan(compiled(kb.default()))
    steps, outputs = share_columns(plan.steps, plan.outputs)
    defined: set[str] = set()
    names = {name for step in steps for name, _ in step}
    for step in steps:
        for _, node in step:
            assert columns_read(node) & names <= defined
        defined |= {name for name, _ in step}
    assert {name for step in plan.steps for name, _ in step} <= defined
    assert [name for name, _ in outputs] == [name for name, _ in plan.outputs]


def test_the_pathway_plan_shrinks() -> None:
    """The surgical statuses re-derive the triage conditions; shared, each reads far less."""
    plan = population_plan(compiled(kb.default()))
    steps, _ = share_columns(plan.steps, plan.outputs)
    before = sum(_tree_size(node) for step in plan.steps for _, node in step)
    after = sum(_tree_size(node) for step in steps for _, node in step)
    assert after * 3 < before


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-2, 8)),
            st.one_of(st.none(), st.integers(-2, 8)),
            st.one_of(st.none(), st.booleans()),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_sharing_changes_no_value(rows: list[tuple[int | None, int | None, bool | None]]) -> None:
    facts = pl.DataFrame(rows, schema={"x": pl.Int64, "y": pl.Int64, "z": pl.Boolean}, orient="row")
    outputs = [*TOY_OUTPUTS, ("first", Col("first")), ("second", Col("second"))]
    expected = _evaluate(TOY_STEPS, outputs, facts)
    steps, shared_outputs = share_columns(TOY_STEPS, outputs)
    assert_frame_equal(_evaluate(steps, shared_outputs, facts), expected)
