"""A knowledge base compiled for fast, exact evaluation.

Every condition is rewritten over answers only: derived facts, pain patterns, surgical criteria and
concern ranks are replaced by the conditions that define them, so exact evaluation
(``spinepath.pathway.exact``) sees every place an answer is read, and the facts shown in a trace are
the answers a rule actually depends on. Each condition is compiled once per knowledge base, here, so
nothing is keyed on object identity at assessment time."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar, cast

from spinepath.knowledge.models import (
    CareItem,
    CriterionDef,
    ImagingRule,
    KnowledgeBase,
    LevelRule,
    NextStepRule,
    NotRecommendedItem,
    QuestionDef,
    RedFlagRule,
    StatusRule,
)
from spinepath.pathway.assessment import Level
from spinepath.pathway.conditions import Condition, any_of, constant, negated, substitute
from spinepath.pathway.exact import Domain, Exact, value_atoms
from spinepath.pathway.facts import FactTerms, fact_domains
from spinepath.pathway.kleene import Evaluator, Facts, FactValue, Tri, compile_kleene

T = TypeVar("T")

# A concern's rank: -1 when no rule of it fired, else the most urgent fired level's rank.
_RANKS = (-1, *sorted(level.rank for level in Level))
_RANK_TESTS: dict[str, Callable[[int, int], bool]] = {
    "==": lambda rank, k: rank == k,
    "!=": lambda rank, k: rank != k,
    ">=": lambda rank, k: rank >= k,
    ">": lambda rank, k: rank > k,
    "<=": lambda rank, k: rank <= k,
    "<": lambda rank, k: rank < k,
}


@dataclass(frozen=True)
class Compiled(Generic[T]):
    """A knowledge-base entry with its condition compiled twice.

    ``check`` is exact over answers (derived facts inlined): what-if questions use it, since it
    reads nothing but answers. ``evaluate`` first runs Kleene logic over the condition as written,
    reading derived facts, patterns, criteria and concern ranks the engine has already worked out
    exactly; a definite result there is always right (Kleene over exact parts is sound), and only
    an unknown one falls back to ``check``.
    """

    entry: T
    check: Exact
    fast: Evaluator
    fast_is_exact: bool = False
    """Kleene over exact parts is itself exact when no two parts read a common answer."""

    @property
    def reads(self) -> tuple[str, ...]:
        return self.check.facts

    def evaluate(self, facts: Facts) -> Tri:
        result = self.fast(facts, facts)
        if result is not None or self.fast_is_exact:
            return result
        # With every fact read twice answered, the rest is read-once: Kleene's unknown is exact.
        if all(facts.get(name) is not None for name in self.check.shared):
            return None
        return self.check(facts)


@dataclass
class CompiledKnowledge:
    knowledge: KnowledgeBase
    domains: Mapping[str, Domain]
    terms: FactTerms
    """The knowledge base's groupings for ``flatten``, built once rather than per assessment."""
    definitions: dict[str, Condition] = field(default_factory=dict)
    derived: list[Compiled[str]] = field(default_factory=list)
    patterns: list[Compiled[str]] = field(default_factory=list)
    questions: list[tuple[QuestionDef, Exact | None]] = field(default_factory=list)
    red_flags: list[Compiled[RedFlagRule]] = field(default_factory=list)
    level_rules: list[Compiled[LevelRule]] = field(default_factory=list)
    criteria: list[Compiled[CriterionDef]] = field(default_factory=list)
    statuses: list[Compiled[StatusRule]] = field(default_factory=list)
    imaging: list[Compiled[ImagingRule]] = field(default_factory=list)
    care: dict[str, list[Compiled[CareItem]]] = field(default_factory=dict)
    next_step: list[Compiled[NextStepRule]] = field(default_factory=list)
    not_recommended: list[Compiled[NotRecommendedItem]] = field(default_factory=list)
    triage_reading: dict[str, list[int]] = field(default_factory=dict)
    """Answer name -> indexes into ``triage_rules`` of the rules that read it."""
    status_reading: dict[str, list[int]] = field(default_factory=dict)
    derived_reading: dict[str, list[tuple[str, Compiled[str]]]] = field(default_factory=dict)
    """Answer name -> (fact name, rule) of derived facts and patterns, in order, that read it."""
    criteria_reading: dict[str, list[Compiled[CriterionDef]]] = field(default_factory=dict)
    answer_options: dict[str, list[tuple[str, FactValue]]] = field(default_factory=dict)
    """Filled on first use by ``spinepath.pathway.engine.answer_options``."""
    population_plan: Any = None
    """Filled on first use by ``spinepath.pathway.population_plan.population_plan``."""

    @property
    def triage_rules(self) -> list[Compiled[RedFlagRule] | Compiled[LevelRule]]:
        return [*self.red_flags, *self.level_rules]

    def compile(self, condition: Condition) -> Exact:
        return Exact(self.inline(condition), self.domains)

    def rule(self, entry: T, condition: Condition) -> Compiled[T]:
        return Compiled(
            entry,
            self.compile(condition),
            compile_kleene(condition, _concern_range),
            self._parts_independent(condition),
        )

    def _parts_independent(self, condition: Condition) -> bool:
        # A concern's rank range is not exact (rules of one concern share answers), so a
        # condition reading one always keeps the exact fallback.
        seen: set[str] = set()
        for atom in value_atoms(condition):
            if (atom.fact or "").startswith("concern."):
                return False
            answers = self.inline(atom).facts()
            if seen & answers:
                return False
            seen |= answers
        return True

    def inline(self, condition: Condition) -> Condition:
        """The condition rewritten over answers (see the module docstring)."""
        return substitute(condition, self._expand)

    def _expand(self, atom: Condition) -> Condition | None:
        name = atom.fact
        if name is None:
            raise ValueError("name is missing")
        if name.startswith("concern.") and atom.op != "unanswered":
            return self._concern(atom)
        definition = self.definitions.get(name)
        if definition is None:
            return None
        if atom.op is None:
            return negated(definition) if atom.negate else definition
        if atom.op == "==" and isinstance(atom.value, bool):
            return definition if atom.value != atom.negate else negated(definition)
        return None  # other reads of a derived fact use its computed value

    def _concern(self, atom: Condition) -> Condition:
        """``concern.X`` / ``concern.X.rank OP k`` as conditions on the red-flag rules of X."""
        parts = (atom.fact or "").split(".")
        code = parts[1]
        rules = [r for r in self.red_flags if r.entry.concern == code]

        def at(rank: int) -> Condition:
            # The rank is exactly `rank`: a rule of that level fires and none more urgent.
            above = [r.check.condition for r in rules if r.entry.level.rank > rank]
            level = [r.check.condition for r in rules if r.entry.level.rank == rank]
            none_above = negated(any_of(above)) if above else constant(True)
            if rank < 0:
                return none_above
            if not level:
                return constant(False)
            return Condition(kind="all", children=(any_of(level), none_above))

        if len(parts) == 2:  # concern.X: any rule of X fired
            found = any_of([r.check.condition for r in rules])
            return negated(found) if atom.negate else found
        test = _RANK_TESTS[atom.op or "=="]
        threshold = int(atom.value)  # type: ignore[arg-type]
        ranks = [rank for rank in _RANKS if test(rank, threshold)]
        if atom.op in {">=", ">"} and ranks:
            # Monotone form: some rule at least this urgent fired.
            lowest = min(ranks)
            found = any_of([r.check.condition for r in rules if r.entry.level.rank >= lowest])
            if lowest < 0:
                found = constant(True)
        else:
            found = any_of([at(rank) for rank in ranks])
        return negated(found) if atom.negate else found

    def list(self, entries: Sequence[T], condition: Callable[[T], Condition]) -> list[Compiled[T]]:
        return [self.rule(entry, condition(entry)) for entry in entries]


def rank_names(code: str) -> tuple[str, str]:
    """Fact names of a concern's rank range: at least (fired rules), at most (fired or unknown)."""
    return f"concern.{code}.rank", f"concern.{code}.rank_max"


def _concern_range(atom: Condition) -> Evaluator | None:
    """``concern.X.rank OP k`` and ``concern.X`` read as three-valued from the rank range."""
    name = atom.fact or ""
    if not name.startswith("concern.") or atom.op == "unanswered":
        return None
    parts = name.split(".")
    low_name, high_name = rank_names(parts[1])
    negate = atom.negate
    if len(parts) == 2:
        test: Callable[[int], bool] = lambda rank: rank >= 0  # noqa: E731
    else:
        compare = _RANK_TESTS[atom.op or "=="]
        threshold = int(atom.value)  # type: ignore[arg-type]
        test = lambda rank: compare(rank, threshold)  # noqa: E731

    # Every (at least, at most) pair of ranks, worked out once.
    table: dict[tuple[int, int], Tri] = {}
    for low in _RANKS:
        for high in _RANKS:
            outcomes = {test(rank) for rank in _RANKS if low <= rank <= high}
            table[low, high] = outcomes.pop() != negate if len(outcomes) == 1 else None

    def in_range(values: Facts, answered: Facts) -> Tri:
        return table[cast(int, values[low_name]), cast(int, values[high_name])]

    return in_range


def _build(knowledge: KnowledgeBase) -> CompiledKnowledge:
    out = CompiledKnowledge(knowledge=knowledge, domains=fact_domains(), terms=knowledge.fact_terms)
    for derived in knowledge.derived:
        compiled_rule = out.rule(derived.id, derived.when)
        out.definitions[derived.id] = compiled_rule.check.condition
        out.derived.append(compiled_rule)
    for pattern in knowledge.patterns.types:
        compiled_rule = out.rule(pattern.id, pattern.when)
        out.definitions[f"pattern.{pattern.id}"] = compiled_rule.check.condition
        out.patterns.append(compiled_rule)
    out.red_flags = out.list(knowledge.red_flags, lambda r: r.when)
    out.level_rules = out.list(knowledge.levels.rules, lambda r: r.when)
    out.criteria = out.list(knowledge.surgery.criteria, lambda c: c.when)
    for criterion in out.criteria:
        out.definitions[f"criterion.{criterion.entry.code}"] = criterion.check.condition
    out.statuses = out.list(knowledge.surgery.statuses, lambda s: s.when)
    out.imaging = out.list(knowledge.imaging, lambda r: r.when)
    care = knowledge.care
    out.care = {
        section: out.list(getattr(care, section), lambda i: i.when)
        for section in ("now", "self_management", "prevention")
    }
    out.next_step = out.list(care.next_step, lambda s: s.when)
    out.not_recommended = out.list(care.not_recommended, lambda i: i.when)
    out.questions = [
        (q, out.compile(q.ask_if) if q.ask_if is not None else None) for q in knowledge.questions
    ]
    for index, rule in enumerate(out.triage_rules):
        for name in rule.reads:
            out.triage_reading.setdefault(name, []).append(index)
    keyed = [(d.entry, d) for d in out.derived] + [(f"pattern.{p.entry}", p) for p in out.patterns]
    for key, compiled_fact in keyed:
        for name in compiled_fact.reads:
            out.derived_reading.setdefault(name, []).append((key, compiled_fact))
    for criterion in out.criteria:
        for name in criterion.reads:
            out.criteria_reading.setdefault(name, []).append(criterion)
    for index, status in enumerate(out.statuses):
        for name in status.reads:
            out.status_reading.setdefault(name, []).append(index)
    return out


_CACHE: dict[int, tuple[weakref.ref[KnowledgeBase], CompiledKnowledge]] = {}


def _evict(cache: dict[int, Any], key: int, _ref: object) -> None:
    # The cache is bound when the reference is made: at interpreter exit module globals may
    # already be gone when the callback runs.
    cache.pop(key, None)


def compiled(knowledge: KnowledgeBase) -> CompiledKnowledge:
    """One compiled form per knowledge-base object, dropped when the object is freed.

    Keyed by identity *and* checked through a weak reference, so a new knowledge base that
    happens to reuse a freed object's id never gets another's compiled rules.
    """
    key = id(knowledge)
    found = _CACHE.get(key)
    if found is not None and found[0]() is knowledge:
        return found[1]
    built = _build(knowledge)
    _CACHE[key] = (weakref.ref(knowledge, partial(_evict, _CACHE, key)), built)
    return built
