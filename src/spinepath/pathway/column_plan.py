"""The population pathway as one engine-neutral description: column expressions over a fact table.

The condition language and the pathway's stages are compiled once into these small expression
trees; ``spinepath.pathway.polars_backend`` turns them into Polars expressions and
``spinepath.pathway.sql_backend`` into SQL for DuckDB and Spark. Every engine therefore runs the
same definition, and a test checks that they give the same rows.

Missing values follow Kleene's three-valued logic, which is what SQL's ``AND``/``OR``/``NOT`` and
Polars' boolean operators do with null: a null is "not answered" and stays unknown.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spinepath.pathway.conditions import Condition
from spinepath.pathway.exact import EXPRESSION_COMBINATIONS, Exact, constants_by_fact
from spinepath.pathway.kleene import FactValue

# The types a column can have; "names" is a list of text.
DTYPES = ("bool", "int", "float", "str", "names")


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Lit:
    value: FactValue
    dtype: str


@dataclass(frozen=True)
class Op:
    """``and``/``or`` (Kleene, any number of arguments), ``not``, ``is_null``, comparisons
    (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``), ``fill_null``, ``max`` (the largest
    non-null argument, or null), ``sum`` (of the non-null arguments, as whole numbers) and
    ``+``, ``-`` and ``has_bit`` (whether a whole number has any of the bits of another)."""

    op: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class IsIn:
    """Whether ``arg`` is one of ``values``; unknown when ``arg`` is."""

    arg: Node
    values: tuple[FactValue, ...]


@dataclass(frozen=True)
class When:
    """The value of the first branch whose condition is a definite yes, else ``otherwise``."""

    branches: tuple[tuple[Node, Node], ...]
    otherwise: Node


@dataclass(frozen=True)
class Cast:
    arg: Node
    dtype: str


@dataclass(frozen=True)
class Names:
    """The names whose flag is a definite yes, in order, as a list."""

    names: tuple[str, ...]
    flags: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class ExactCase:
    """The exact value of a condition whose shared facts have too many combinations to spell
    out: ``kleene`` where that is enough (``needed`` is false), otherwise the per-person
    evaluator run once per distinct class of answers (see ``spinepath.pathway.exact``)."""

    evaluator: Exact
    fixed: Mapping[str, FactValue]
    needed: Node
    kleene: Node
    facts: tuple[str, ...] = field(default=())
    constants: Mapping[str, frozenset[FactValue]] = field(default_factory=dict)
    shared: tuple[str, ...] = field(default=())
    backend_cache: dict[object, object] = field(default_factory=dict)
    """Where a backend keeps what it builds from ``tried_for`` (it is the same every batch)."""
    tried: dict[tuple[str, ...], Node] = field(default_factory=dict)
    """Filled on first use by ``tried_for``: the exact value for people who left exactly these
    shared facts unanswered."""

    def tried_for(self, unanswered: tuple[str, ...]) -> Node:
        """The exact value for rows where exactly ``unanswered`` of the shared facts are
        unanswered: the rest of the condition is then read-once, so trying their values and
        taking Kleene's answer on each try is exact."""
        found = self.tried.get(unanswered)
        if found is None:
            values = self.evaluator.representatives()
            outcomes = [
                kleene(self.evaluator.condition, dict(zip(unanswered, c, strict=True)), self.fixed)
                for c in itertools.product(*(values[n] for n in unanswered))
            ]
            found = self.tried[unanswered] = _agreed(outcomes)
        return found

    def combinations(self, unanswered: tuple[str, ...]) -> int:
        values = self.evaluator.representatives()
        return math.prod(len(values[n]) for n in unanswered)


@dataclass(frozen=True, eq=False)
class Only:
    """``value`` where ``mask`` is a definite yes, null elsewhere, worked out only for those
    rows: what an answer would change matters only where the question is unanswered, and the
    exact value only where Kleene logic left it unknown, which in a population are few rows."""

    mask: Node
    value: Node
    dtype: str


Node = Col | Lit | Op | IsIn | When | Cast | Names | ExactCase | Only

TRUE = Lit(True, "bool")
FALSE = Lit(False, "bool")
NULL_BOOL = Lit(None, "bool")


def and_(*args: Node) -> Node:
    return args[0] if len(args) == 1 else Op("and", args)


def or_(*args: Node) -> Node:
    return args[0] if len(args) == 1 else Op("or", args)


def not_(arg: Node) -> Node:
    return Op("not", (arg,))


def fill(arg: Node, value: Node) -> Node:
    return Op("fill_null", (arg, value))


def fired(arg: Node) -> Node:
    """A rule acts only on a definite yes; unknown is handled by the unanswered-question floor."""
    return fill(arg, FALSE)


def is_null(arg: Node) -> Node:
    return Op("is_null", (arg,))


def first_match(branches: Sequence[tuple[Node, Node]], otherwise: Node) -> Node:
    """The value of the first branch whose condition is a definite yes."""
    return When(tuple((fired(c), v) for c, v in branches), otherwise)


def first_match_steps(
    name: str, branches: Sequence[tuple[Node, Node]], dtype: str
) -> list[list[tuple[str, Node]]]:
    """``first_match`` as one step per branch, the last column named ``name``: each condition
    is worked out only for the rows no earlier branch took, and in a population most people
    are settled by the first few."""
    steps: list[list[tuple[str, Node]]] = []
    so_far: Node = Lit(None, dtype)
    for index, (condition, value) in enumerate(branches):
        column = name if index == len(branches) - 1 else f"{name}.{index}"
        open_rows = is_null(so_far)
        taken = fired(Only(open_rows, condition, "bool")) if index else fired(condition)
        steps.append([(column, When(((open_rows, When(((taken, value),), so_far)),), so_far))])
        so_far = Col(column)
    return steps


# --- conditions --------------------------------------------------------------------------------


def kleene(
    condition: Condition,
    tried: Mapping[str, FactValue] | None = None,
    answered: Mapping[str, FactValue] | None = None,
) -> Node:
    """Kleene evaluation of a condition over a fact table.

    ``tried`` fills unanswered values while ``is unanswered`` still sees them unanswered
    (exact evaluation); ``answered`` fills them as if the person had answered.
    """
    tried = {**(tried or {}), **(answered or {})}
    answered = answered or {}
    kind = condition.kind
    if kind == "const":
        return Lit(bool(condition.value), "bool")
    if kind == "atom":
        return _atom(condition, tried, answered)
    if kind in {"all", "any"}:
        parts = [kleene(c, tried, answered) for c in condition.children]
        return and_(*parts) if kind == "all" else or_(*parts)
    if kind == "not":
        return not_(kleene(condition.children[0], tried, answered))
    if kind == "none_true":
        # Reads the answers as they stand: tried values do not apply.
        return not_(or_(*(fired(kleene(c, None, answered)) for c in condition.children)))
    parts = [kleene(c, tried, answered) for c in condition.children]
    yes = Op("sum", tuple(fired(p) for p in parts))
    unknown = Op("sum", tuple(is_null(p) for p in parts))
    threshold = Lit(condition.threshold, "int")
    return When(
        (
            (Op(">=", (yes, threshold)), TRUE),
            (Op("<", (Op("+", (yes, unknown)), threshold)), FALSE),
        ),
        NULL_BOOL,
    )


def _atom(
    condition: Condition, tried: Mapping[str, FactValue], answered: Mapping[str, FactValue]
) -> Node:
    if condition.fact is None:
        raise ValueError("condition.fact is missing")
    column: Node = Col(condition.fact)
    if condition.op == "unanswered":
        if condition.fact in answered:
            return Lit(condition.negate, "bool")
        expr = is_null(column)
        return not_(expr) if condition.negate else expr
    if condition.fact in tried:
        value = tried[condition.fact]
        column = When(((is_null(column), Lit(value, value_dtype(value))),), column)
    if condition.op is None:
        expr = Cast(column, "bool")
    elif condition.op == "in":
        if not isinstance(condition.value, tuple):
            raise TypeError(f"expected tuple, got {type(condition.value).__name__}")
        expr = IsIn(column, condition.value)
    else:
        if isinstance(condition.value, tuple):
            raise TypeError("a comparison needs one value, not a list")
        expr = Op(condition.op, (column, Lit(condition.value, value_dtype(condition.value))))
    return not_(expr) if condition.negate else expr


def value_dtype(value: object) -> str:
    """The column type of a constant."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def exact(evaluator: Exact, fixed: Mapping[str, FactValue] | None = None) -> Node:
    """The exact value of the evaluator's condition for every row (the population twin of
    ``Exact``). ``fixed`` answers unanswered facts for every row (what the engine tries for
    "still to ask")."""
    fixed = dict(fixed or {})
    condition = evaluator.condition
    unrolled = kleene(condition, None, fixed)
    shared = [name for name in evaluator.shared if name not in fixed]
    if not shared:
        return unrolled
    if evaluator.combinations() > EXPRESSION_COMBINATIONS:
        return _exact_by_cases(evaluator, fixed, unrolled, shared)
    values = evaluator.representatives()
    outcomes = [
        kleene(condition, dict(zip(shared, combination, strict=True)), fixed)
        for combination in itertools.product(*(values[n] for n in shared))
    ]
    needed = and_(is_null(unrolled), or_(*(is_null(Col(n)) for n in shared)))
    return When(((needed, Only(needed, _agreed(outcomes), "bool")),), unrolled)


def _agreed(outcomes: Sequence[Node]) -> Node:
    """Yes if every outcome is yes, no if every one is no, else unknown."""
    every_yes = and_(*(fill(o, FALSE) for o in outcomes))
    every_no = and_(*(fill(not_(o), FALSE) for o in outcomes))
    return When(((every_yes, TRUE), (every_no, FALSE)), NULL_BOOL)


def _exact_by_cases(
    evaluator: Exact, fixed: Mapping[str, FactValue], unrolled: Node, shared: Sequence[str]
) -> Node:
    """Exact evaluation of a condition with too many combinations to spell out (``ExactCase``).

    Most people who leave shared facts unanswered leave one or two: for them, trying those
    facts' values takes a few expressions (``ExactCase.tried_for``). The rare others go to the
    per-person evaluator, once per distinct class of answers."""
    constants = constants_by_fact(evaluator.condition)
    needed = and_(is_null(unrolled), or_(*(is_null(Col(n)) for n in shared)))
    return ExactCase(
        evaluator=evaluator,
        fixed=fixed,
        needed=needed,
        kleene=unrolled,
        facts=evaluator.facts,
        constants={n: frozenset(constants.get(n, set())) for n in evaluator.facts},
        shared=tuple(shared),
    )


_BOOLEAN_OPS = frozenset(
    {"and", "or", "not", "is_null", "has_bit", "==", "!=", "<", "<=", ">", ">="}
)


def dtype_of(node: Node, known: Mapping[str, str]) -> str:
    """The type of a node's values, given the types of the columns it reads."""
    if isinstance(node, Col):
        return known[node.name]
    if isinstance(node, Lit | Cast | Only):
        return node.dtype
    if isinstance(node, IsIn | ExactCase):
        return "bool"
    if isinstance(node, Names):
        return "names"
    if isinstance(node, When):
        return dtype_of(node.branches[0][1], known)
    if node.op in _BOOLEAN_OPS:
        return "bool"
    if node.op in {"fill_null", "max"}:
        return dtype_of(node.args[0], known)
    return "int"


def column_types(
    steps: Sequence[Sequence[tuple[str, Node]]], known: Mapping[str, str]
) -> dict[str, str]:
    """The type of every column a plan's steps add, with the columns it starts from."""
    types = dict(known)
    for step in steps:
        for name, node in step:
            types[name] = dtype_of(node, types)
    return types


def children(node: Node) -> tuple[Node, ...]:
    """The expressions a node is made of (none for a column or a literal). An exact case's
    facts are columns it reads, not parts: see :func:`columns_read`."""
    if isinstance(node, Op):
        return node.args
    if isinstance(node, IsIn | Cast):
        return (node.arg,)
    if isinstance(node, When):
        return (*(part for branch in node.branches for part in branch), node.otherwise)
    if isinstance(node, Names):
        return node.flags
    if isinstance(node, Only):
        return (node.mask, node.value)
    if isinstance(node, ExactCase):
        return (node.needed, node.kleene)
    return ()


def columns_read(node: Node) -> set[str]:
    """The columns a node reads."""
    if isinstance(node, Col):
        return {node.name}
    found = set(node.facts) if isinstance(node, ExactCase) else set()
    return found.union(*(columns_read(child) for child in children(node)))
