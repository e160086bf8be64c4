"""Common parts of a column plan worked out once, as columns of their own.

The pathway's conditions name one another, and compiling them inlines every named part: the
surgical statuses and imaging rules re-derive, hundreds of times over, conditions that the triage
step has already worked out (one status reads 13,770 nodes, of which 148 are new). Engines do not
find all of these themselves: an expression evaluated on a subset of rows (``Only``) is planned
on its own, and a repeat in another step is out of sight. So every part that appears in more
than one place is given a column, placed in the first step where the columns it reads exist,
and read from there.

A part is shared only when it is pure (no ``Only``, ``ExactCase`` or ``Names`` inside: those run
per batch) and large enough that a column is cheaper than working it out again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import cast

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
    children,
    columns_read,
)
from spinepath.pathway.population_plan import Columns, PopulationPlan

SHARED = "__spinepath_shared."
"""Prefix of the columns this module adds."""

MIN_NODES = 6
"""Smaller parts are cheaper to work out again than to read from a column of their own."""


def _rebuilt(node: Node, children: Sequence[Node]) -> Node:
    if isinstance(node, Op):
        return Op(node.op, tuple(children))
    if isinstance(node, IsIn):
        return IsIn(children[0], node.values)
    if isinstance(node, Cast):
        return Cast(children[0], node.dtype)
    if isinstance(node, When):
        pairs = [(children[i], children[i + 1]) for i in range(0, len(children) - 1, 2)]
        return When(tuple(pairs), children[-1])
    if isinstance(node, Names):
        return Names(node.names, tuple(children))
    if isinstance(node, Only):
        return Only(children[0], children[1], node.dtype)
    if isinstance(node, ExactCase):
        return dataclasses.replace(node, needed=children[0], kleene=children[1])
    return node


class _Interned:
    """Structural identity of nodes: equal trees get one number, found without rehashing.

    Objects are remembered by ``id``: the plan being numbered keeps every node alive meanwhile."""

    def __init__(self) -> None:
        self.numbers: dict[object, int] = {}
        self.by_object: dict[int, int] = {}
        self.nodes: list[Node] = []
        self.sizes: list[int] = []
        self.pure: list[bool] = []
        self.children: list[tuple[int, ...]] = []

    def number(self, node: Node) -> int:
        found = self.by_object.get(id(node))
        if found is not None:
            return found
        kids = tuple(self.number(child) for child in children(node))
        key = _key(node, kids)
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.nodes)
            self.nodes.append(node)
            self.sizes.append(1 + sum(self.sizes[k] for k in kids))
            simple = not isinstance(node, Only | ExactCase | Names)
            self.pure.append(simple and all(self.pure[k] for k in kids))
            self.children.append(kids)
        self.by_object[id(node)] = number
        return number


def _key(node: Node, kids: tuple[int, ...]) -> object:
    if isinstance(node, Col):
        return (Col, node.name)
    if isinstance(node, Lit):
        # True == 1 in Python: the type keeps a flag apart from a number.
        return (Lit, type(node.value), node.value, node.dtype)
    if isinstance(node, Op):
        return (Op, node.op, kids)
    if isinstance(node, IsIn):
        return (IsIn, kids, tuple((type(v), v) for v in node.values))
    if isinstance(node, Cast):
        return (Cast, kids, node.dtype)
    if isinstance(node, When):
        return (When, kids)
    if isinstance(node, Names):
        return (Names, node.names, kids)
    if isinstance(node, Only):
        return (Only, kids, node.dtype)
    return (ExactCase, id(node))  # its evaluator has no structural identity


def shared_plan(plan: PopulationPlan) -> tuple[list[Columns], Columns]:
    """``share_columns`` of the plan's steps and outputs, worked out once per plan."""
    found = plan.backend_cache.get("shared")
    if found is None:
        found = plan.backend_cache["shared"] = share_columns(plan.steps, plan.outputs)
    return cast(tuple[list[Columns], Columns], found)


def share_columns(steps: Sequence[Columns], outputs: Columns) -> tuple[list[Columns], Columns]:
    """The same plan with shared parts as columns; steps regrouped so each column comes in the
    first step after every column it reads (the plan's own order is only an order of needs)."""
    interned = _Interned()
    roots = [(name, interned.number(node)) for step in steps for name, node in step]
    output_roots = [(name, interned.number(node)) for name, node in outputs]
    uses: Counter[int] = Counter()
    for kids in interned.children:
        uses.update(kids)
    uses.update(number for _, number in (*roots, *output_roots))

    named: dict[int, str] = {}
    for name, number in roots:
        named.setdefault(number, name)
    for number, count in uses.items():
        big = interned.sizes[number] >= MIN_NODES
        if count > 1 and big and interned.pure[number] and number not in named:
            named[number] = f"{SHARED}{number}"

    rewritten: dict[int, Node] = {}

    def rewrite(number: int) -> Node:
        if number in named:
            return Col(named[number])
        return definition(number)

    def definition(number: int) -> Node:
        found = rewritten.get(number)
        if found is None:
            node = interned.nodes[number]
            kids = [rewrite(k) for k in interned.children[number]]
            found = rewritten[number] = _rebuilt(node, kids) if kids else node
        return found

    columns: dict[str, Node] = {}
    for name, number in roots:
        first = named[number]
        columns[name] = definition(number) if first == name else Col(first)
    for number, name in named.items():
        if name.startswith(SHARED):
            columns[name] = definition(number)
    return _staged(columns), [(name, rewrite(number)) for name, number in output_roots]


def _staged(columns: dict[str, Node]) -> list[Columns]:
    """Each column in the step after the last of the columns it reads (facts are step -1)."""
    stage: dict[str, int] = {}

    def stage_of(name: str) -> int:
        if name not in columns:
            return -1
        found = stage.get(name)
        if found is None:
            reads = columns_read(columns[name])
            found = stage[name] = 1 + max((stage_of(r) for r in reads), default=-1)
        return found

    steps: list[Columns] = []
    for name, node in columns.items():
        at = stage_of(name)
        while len(steps) <= at:
            steps.append([])
        steps[at].append((name, node))
    return [step for step in steps if step]
