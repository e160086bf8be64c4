"""Exact three-valued evaluation of knowledge-base conditions, per person and per population.

A condition is *yes* when it is yes for every possible answer to the unanswered questions it
reads, *no* when it is no for every one, and *unknown* only when some answers give yes and others
no. Plain Kleene logic is sound but not exact: in ``{any: ["weeks >= 6", "weeks < 6"]}`` with
``weeks`` unanswered, or in a rule that reads the same fact twice after derived facts are
inlined, Kleene says unknown although every answer gives the same result.

Kleene logic *is* exact for a formula in which every unknown fact appears in one atom only
(a read-once formula), because each atom can then be made yes or no independently. So an exact
evaluator runs Kleene first (a definite Kleene answer is always right), and only when it says
unknown and some *shared* fact (one read by two or more atoms) is unanswered, tries the
representative values of those shared facts one fact at a time: the values where an atom can
change its mind (each compared constant and its neighbours, the ends of the answer range, every
enum value). A branch Kleene already settles needs no further trying, and trying stops as soon as
both outcomes have been seen. A condition that would need more than ``MAX_EVALUATIONS`` tries
keeps its (sound) unknown; the population evaluator tries every combination in one expression
when there are few, and otherwise calls the same per-person evaluator, so both always agree.

``x is unanswered`` and ``none_true`` describe what has been answered so far, not the answer,
so they read the person's actual answers while shared facts are being tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from spinepath.pathway.conditions import Condition
from spinepath.pathway.kleene import Facts, FactValue, Tri, compile_kleene

# Beyond this many trial evaluations, one person's condition keeps its (sound) unknown; trying
# stops early in most branches, and never reaches this when a condition's shared facts have at
# most EXPRESSION_COMBINATIONS value combinations. A population expression tries every
# combination of every shared fact only up to EXPRESSION_COMBINATIONS; beyond that it asks the
# per-person evaluator for the rows Kleene leaves unknown, so the two paths can never disagree.
MAX_EVALUATIONS = 1024
EXPRESSION_COMBINATIONS = 64

ANOTHER_ANSWER = "\x00another answer"
"""A text answer equal to none of a condition's constants."""


@dataclass(frozen=True)
class Domain:
    """The answers a fact can take: a yes/no, one of a fixed set, or a number in a range."""

    kind: str  # "bool" | "enum" | "int" | "float" | "text"
    values: tuple[FactValue, ...] = ()
    low: float = -1e9
    high: float = 1e9


BOOL = Domain("bool", (True, False))
Domains = Mapping[str, Domain]


def representatives(domain: Domain, constants: set[FactValue]) -> tuple[FactValue, ...]:
    """Answers that reach every outcome of comparisons with these constants."""
    if domain.kind in {"bool", "enum"}:
        return domain.values
    if domain.kind == "text":
        return (*sorted(str(c) for c in constants), ANOTHER_ANSWER)
    step: float = 1 if domain.kind == "int" else 0.05
    points: set[float] = {domain.low, domain.high}
    for constant in constants:
        if isinstance(constant, int | float) and not isinstance(constant, bool):
            points |= {constant - step, constant, constant + step}
    kept = sorted(p for p in points if domain.low <= p <= domain.high)
    if domain.kind == "int":
        return tuple(int(p) for p in kept)
    return tuple(float(p) for p in kept)


# --- structure ---------------------------------------------------------------------------------


def value_atoms(condition: Condition) -> Iterator[Condition]:
    """Atoms that read an answer's value (not whether it was answered)."""
    if condition.kind == "atom":
        if condition.op != "unanswered":
            yield condition
        return
    if condition.kind == "none_true":
        return  # reads the answers as they stand, like `is unanswered`
    for child in condition.children:
        yield from value_atoms(child)


def state_facts(condition: Condition) -> frozenset[str]:
    """Facts read for whether they were answered (``is unanswered``, ``none_true``)."""
    if condition.kind == "atom":
        return frozenset({condition.fact or ""}) if condition.op == "unanswered" else frozenset()
    if condition.kind == "none_true":
        return condition.facts()
    out: frozenset[str] = frozenset()
    for child in condition.children:
        out |= state_facts(child)
    return out


def constants_by_fact(condition: Condition) -> dict[str, set[FactValue]]:
    out: dict[str, set[FactValue]] = {}
    for atom in value_atoms(condition):
        if atom.fact is None:
            raise ValueError("atom.fact is missing")
        found = out.setdefault(atom.fact, set())
        if isinstance(atom.value, tuple):
            found.update(atom.value)
        elif atom.value is not None:
            found.add(atom.value)
    return out


def shared_facts(condition: Condition) -> tuple[str, ...]:
    counts = Counter(atom.fact for atom in value_atoms(condition))
    # Most-read first: trying them first settles the most atoms soonest.
    shared = [cast(str, name) for name, n in counts.items() if n > 1]
    return tuple(sorted(shared, key=lambda name: (-counts[name], name)))


# --- per person --------------------------------------------------------------------------------


class Exact:
    """An exact evaluator for one condition (see the module docstring)."""

    __slots__ = ("_domains", "_kleene", "_shared", "_values", "condition", "facts", "state")

    def __init__(self, condition: Condition, domains: Domains) -> None:
        self.condition = condition
        self.facts: tuple[str, ...] = tuple(sorted(condition.facts()))
        self.state = state_facts(condition)
        self._kleene = compile_kleene(condition)
        shared = shared_facts(condition)
        constants = constants_by_fact(condition)
        self._shared = shared
        self._domains = domains
        self._values = {
            n: representatives(domains.get(n, BOOL), constants.get(n, set())) for n in shared
        }

    @property
    def shared(self) -> tuple[str, ...]:
        """Facts read by more than one atom: the only ones whose values need trying."""
        return self._shared

    def combinations(self) -> int:
        total = 1
        for options in self._values.values():
            total *= len(options)
        return total

    def values_of(self, name: str) -> tuple[FactValue, ...]:
        """The answers of any fact the condition reads that reach every outcome of its
        comparisons (``representatives`` holds them for the shared facts)."""
        found = self._values.get(name)
        if found is None:
            constants = constants_by_fact(self.condition).get(name, set())
            found = representatives(self._domains.get(name, BOOL), constants)
        return found

    def representatives(self) -> dict[str, tuple[FactValue, ...]]:
        return dict(self._values)

    def __call__(self, facts: Facts) -> Tri:
        result = self._kleene(facts, facts)
        if result is not None or not self._shared:
            return result
        unknown = [name for name in self._shared if facts.get(name) is None]
        if not unknown:
            return None
        budget = [MAX_EVALUATIONS]
        return self._split(dict(facts), facts, unknown, 0, budget)

    def _split(
        self,
        trial: dict[str, FactValue],
        facts: Facts,
        unknown: list[str],
        at: int,
        budget: list[int],
    ) -> Tri:
        """Try each value of the next unanswered shared fact; stop as soon as both outcomes occur.

        A branch where Kleene is already definite needs no further trying; once every shared
        fact has a value the rest is read-once, so Kleene's unknown there is exact.
        """
        name = unknown[at]
        seen: set[bool] = set()
        for value in self._values[name]:
            budget[0] -= 1
            if budget[0] < 0:
                trial[name] = None
                return None  # out of budget: unknown is always a sound answer
            trial[name] = value
            outcome = self._kleene(trial, facts)
            if outcome is None and at + 1 < len(unknown):
                outcome = self._split(trial, facts, unknown, at + 1, budget)
            if outcome is None:
                trial[name] = None
                return None
            seen.add(outcome)
            if len(seen) == 2:
                trial[name] = None
                return None
        trial[name] = None
        return seen.pop()
