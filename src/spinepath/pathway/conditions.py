"""The small condition language clinical rules are written in, with Kleene three-valued logic.

A condition is YAML data: a string atom or a mapping.

* ``"history.cancer"`` — a yes/no fact is yes; ``"not history.cancer"`` — it is no.
* ``"age > 70"``, ``"cauda_equina.onset_days < 14"``, ``"neurology.leg_weakness == both"``,
  ``"neurology.leg_weakness != none"``, ``"history.trauma in [minor, major]"``.
* ``"cauda_equina.onset_days is unanswered"`` — yes exactly when the question was not answered.
* ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``, ``{at_least: 4, of: [...]}``.
* ``otherwise`` — always yes: the last rule of a first-match list, which applies when no
  earlier rule does (``spinepath kb check`` allows it nowhere else).
* ``{none_true: [...]}`` — yes unless one of them is yes (unknown counts as not yes). Only for
  descriptive facts such as the pain pattern, never for red flags.

An unanswered fact is ``None`` and makes an atom *unknown*; ``all``/``any``/``not`` follow Kleene
logic, so "unknown" survives exactly where a yes could still change the answer. The same parsed
condition compiles to a per-person predicate (with the facts it read) and to a Polars expression
over a whole population; Polars' boolean operators follow the same Kleene rules.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from spinepath.pathway.kleene import Evaluator, Facts, FactValue, Tri, compile_kleene


class ConditionError(ValueError):
    """A condition in the knowledge base cannot be parsed."""


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_ATOM = re.compile(
    r"^\s*(?P<neg>not\s+)?(?P<fact>[a-z_][a-z0-9_.]*)\s*"
    r"(?:(?P<unanswered>is\s+unanswered)|(?P<op>==|!=|>=|<=|>|<|in)\s*(?P<value>.+?))?\s*$"
)


def _parse_scalar(text: str) -> FactValue:
    text = text.strip()
    if text in {"true", "false"}:
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text.strip("'\"")


@dataclass(frozen=True)
class Condition:
    """A parsed condition: evaluate per person, or compile for a population."""

    kind: str
    fact: str | None = None
    op: str | None = None
    value: FactValue | tuple[FactValue, ...] = None
    negate: bool = False
    children: tuple[Condition, ...] = ()
    threshold: int = 0

    # --- introspection -------------------------------------------------------------------
    def facts(self) -> frozenset[str]:
        return self._facts

    @cached_property
    def _facts(self) -> frozenset[str]:
        if self.fact is not None:
            return frozenset({self.fact})
        out: frozenset[str] = frozenset()
        for child in self.children:
            out |= child.facts()
        return out

    # --- per person ----------------------------------------------------------------------
    def evaluate(self, facts: Facts) -> Tri:
        """Kleene evaluation over one person's facts (unanswered facts are ``None``)."""
        return self._kleene(facts, facts)

    @cached_property
    def _kleene(self) -> Evaluator:
        return compile_kleene(self)


OTHERWISE = "otherwise"


def parse(spec: object, *, where: str = "condition") -> Condition:
    """Parse YAML data into a ``Condition``; ``where`` names the entry in error messages."""
    if spec == OTHERWISE:
        return constant(True)
    if isinstance(spec, str):
        return _parse_atom(spec, where)
    if isinstance(spec, Mapping):
        keys = set(spec)
        if keys in ({"all"}, {"any"}, {"none_true"}):
            (kind,) = keys
            children = spec[kind]
            if not isinstance(children, Sequence) or isinstance(children, str) or not children:
                raise ConditionError(f"{where}: '{kind}' needs a non-empty list")
            return Condition(
                kind=kind,
                children=tuple(
                    parse(c, where=f"{where}.{kind}[{i}]") for i, c in enumerate(children)
                ),
            )
        if keys == {"not"}:
            return Condition(kind="not", children=(parse(spec["not"], where=f"{where}.not"),))
        if keys == {"at_least", "of"}:
            threshold = spec["at_least"]
            children = spec["of"]
            if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
                raise ConditionError(f"{where}: 'at_least' needs a whole number >= 1")
            if not isinstance(children, Sequence) or len(children) < threshold:
                raise ConditionError(f"{where}: 'of' needs at least {threshold} conditions")
            return Condition(
                kind="at_least",
                threshold=threshold,
                children=tuple(parse(c, where=f"{where}.of[{i}]") for i, c in enumerate(children)),
            )
        raise ConditionError(f"{where}: unknown condition keys {sorted(map(str, keys))}")
    raise ConditionError(
        f"{where}: a condition is a string or a mapping, not {type(spec).__name__}"
    )


def _parse_atom(text: str, where: str) -> Condition:
    match = _ATOM.match(text)
    if match is None:
        raise ConditionError(f"{where}: cannot read condition {text!r}")
    negate = match["neg"] is not None
    if match["unanswered"]:
        return Condition(kind="atom", fact=match["fact"], op="unanswered", negate=negate)
    op = match["op"]
    raw = match["value"]
    if op is None:
        return Condition(kind="atom", fact=match["fact"], negate=negate)
    if raw is None:
        raise ValueError("raw is missing")
    if op == "in":
        inner = raw.strip()
        if not (inner.startswith("[") and inner.endswith("]")):
            raise ConditionError(f"{where}: 'in' needs a [list] in {text!r}")
        items = tuple(_parse_scalar(part) for part in inner[1:-1].split(",") if part.strip())
        return Condition(kind="atom", fact=match["fact"], op=op, value=items, negate=negate)
    return Condition(
        kind="atom", fact=match["fact"], op=op, value=_parse_scalar(raw), negate=negate
    )


def constant(value: bool) -> Condition:
    """A condition that is always yes or always no (what an empty ``any``/``all`` reduces to)."""
    return Condition(kind="const", value=value)


def any_of(children: Sequence[Condition]) -> Condition:
    return Condition(kind="any", children=tuple(children)) if children else constant(False)


def negated(condition: Condition) -> Condition:
    return Condition(kind="not", children=(condition,))


def substitute(condition: Condition, replace: Callable[[Condition], Condition | None]) -> Condition:
    """A copy with every atom ``replace`` returns a condition for swapped for that condition."""
    if condition.kind == "atom":
        return replace(condition) or condition
    if not condition.children:
        return condition
    children = tuple(substitute(c, replace) for c in condition.children)
    return Condition(kind=condition.kind, children=children, threshold=condition.threshold)
