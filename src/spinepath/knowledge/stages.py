"""Which facts exist when each kind of rule runs.

The engine works in stages (``spinepath.pathway.engine``): answers; derived facts, in order;
pain patterns, in order; red flags and level rules together (level rules may read a concern's
rank, which is compiled into them); surgical criteria, once concerns are known; candidacy
statuses; then the triage level and surgical status; imaging; and the care plan. A rule that
reads a fact its stage has not made yet would see it unanswered, or stop the engine, so
``kb check`` refuses it. The emergency screen evaluates emergency red flags from the answers
and derived facts alone, so those rules may not read patterns.
"""

from __future__ import annotations

from collections.abc import Iterator

from spinepath.knowledge.models import KnowledgeBase
from spinepath.pathway.assessment import Level
from spinepath.pathway.conditions import Condition
from spinepath.pathway.facts import known_facts


def _stages(kb: KnowledgeBase) -> Iterator[tuple[str, Condition, frozenset[str]]]:
    """Every rule condition with the facts that exist when it runs."""
    known = set(known_facts())
    for derived in kb.derived:
        yield f"derived {derived.id}", derived.when, frozenset(known)
        known.add(derived.id)
    screen = frozenset(known)
    for pattern in kb.patterns.types:
        yield f"pattern PT-{pattern.id}", pattern.when, frozenset(known)
        known.add(f"pattern.{pattern.id}")
    ranks = {f"concern.{code}.rank" for code in kb.concerns}
    for rule in kb.red_flags:
        before = screen if rule.level is Level.EMERGENCY else frozenset(known)
        yield f"red_flag {rule.id}", rule.when, before
    for level_rule in kb.levels.rules:
        yield f"level {level_rule.id}", level_rule.when, frozenset(known | ranks)
    known |= ranks | {f"concern.{code}" for code in kb.concerns}
    for criterion in kb.surgery.criteria:
        yield f"surgical_criterion SC-{criterion.code}", criterion.when, frozenset(known)
    known |= {f"criterion.{c.code}" for c in kb.surgery.criteria}
    for status in kb.surgery.statuses:
        yield f"surgical_status {status.id}", status.when, frozenset(known)
    known |= {"triage.rank", "surgical.status", "surgical.referral_due"}
    for imaging in kb.imaging:
        yield f"imaging {imaging.id}", imaging.when, frozenset(known)
    known.add("imaging.indicated")
    for section in ("now", "self_management", "prevention", "next_step", "not_recommended"):
        for item in getattr(kb.care, section):
            yield f"care.{section} {item.id}", item.when, frozenset(known)
    for question in kb.questions:
        if question.ask_if is not None:
            yield f"Q:{question.fact} ask_if", question.ask_if, screen


def stage_problems(kb: KnowledgeBase) -> list[str]:
    """Rules that read a fact their stage of the engine has not made yet."""
    everything = frozenset().union(*(known for _, _, known in _stages(kb)))
    problems: list[str] = []
    for where, condition, known in _stages(kb):
        # Facts unknown everywhere are reported once, by the unknown-facts check.
        early = sorted((condition.facts() - known) & everything)
        if early:
            problems.append(f"{where}: reads {early} before the engine has worked them out")
    return problems
