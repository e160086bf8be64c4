"""Asking the red-flag questions: the rules the web questionnaire and the interview share.

``knowledge/questions.yaml`` says what to ask, in which order and when (``ask_if``); the knowledge
base's emergency-level red flags are the only stop rule. This module turns the answers gathered so
far (an intake document that may still lack age and pain regions) into facts, says whether a
question applies, and which emergency rules fire.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from spinepath.knowledge import KnowledgeBase
from spinepath.knowledge.models import RedFlagRule
from spinepath.pathway.assessment import Level
from spinepath.pathway.conditions import Condition
from spinepath.pathway.facts import Facts, flatten
from spinepath.pathway.intake import MINIMUM_AGE, Intake
from spinepath.pathway.kleene import Facts as ConditionFacts
from spinepath.pathway.kleene import FactValue

# Stand-ins that let a partial intake validate; the facts they produce are blanked afterwards.
_PLACEHOLDER_AGE = MINIMUM_AGE
_PLACEHOLDER_REGION: dict[str, Any] = {"region": "low_back", "duration_weeks": 0, "intensity": 0}
_REGION_NUMBERS = ("duration_weeks", "intensity")
_AGGREGATE = {"duration_weeks": "duration_weeks", "intensity": "max_intensity"}
_MAX_REPAIRS = 20


def put(document: dict[str, Any], fact: str, value: FactValue) -> None:
    """Write one answer into an intake document.

    ``pain.*`` answers are asked once and hold for every painful region, so they are written to
    each region (``pain.sudden_onset`` as the region's onset); call this after the regions exist.
    """
    section, _, name = fact.partition(".")
    if section == "pain":
        field, written = name, value
        if name == "sudden_onset":
            # Anything but yes or no passes through for the intake model to refuse.
            field = "onset"
            written = ("sudden" if value else "gradual") if isinstance(value, bool) else value
        for region in document.get("regions", []):
            region[field] = written
        return
    document.setdefault(section, {})[name] = value


def facts_so_far(document: dict[str, Any], knowledge: KnowledgeBase) -> Facts:
    """Facts, derived ones included, for the answers so far; what is not known yet is None."""
    return _with_derived(_base_facts(document, knowledge), knowledge, frozenset())


def applies(ask_if: Condition | None, facts: ConditionFacts) -> bool:
    """Ask unless the answers so far rule the question out (an unknown condition asks)."""
    return ask_if is None or ask_if.evaluate(facts) is not False


def still_to_come(knowledge: KnowledgeBase, facts: Facts, asked: Collection[str]) -> frozenset[str]:
    """Questions not asked yet that still apply: they may be answered in a moment."""
    return frozenset(
        q.fact for q in knowledge.questions if q.fact not in asked and applies(q.ask_if, facts)
    )


def emergency_rules(knowledge: KnowledgeBase) -> list[RedFlagRule]:
    return [r for r in knowledge.red_flags if r.level is Level.EMERGENCY]


def emergency_findings(
    document: dict[str, Any],
    knowledge: KnowledgeBase,
    *,
    asked: Collection[str] | None = None,
) -> list[RedFlagRule]:
    """The emergency-level red flags that the answers so far make fire.

    With ``asked`` (the questions already put to the person), a question still to come is not
    "unanswered" yet: a yes to a bladder question must wait for "how many days ago" rather than
    fire on its absence. Without it, every unanswered question counts as unanswered for good.
    """
    base = _base_facts(document, knowledge)
    facts = _with_derived(base, knowledge, frozenset())
    pending = still_to_come(knowledge, facts, asked) if asked is not None else frozenset()
    if pending:
        facts = _with_derived(base, knowledge, pending)
    return [
        rule
        for rule in emergency_rules(knowledge)
        if _while_pending(rule.when, pending).evaluate(facts) is True
    ]


def _with_derived(base: Facts, knowledge: KnowledgeBase, pending: frozenset[str]) -> Facts:
    facts = dict(base)
    for derived in knowledge.derived:
        facts[derived.id] = _while_pending(derived.when, pending).evaluate(facts)
    return facts


def _while_pending(condition: Condition, pending: frozenset[str]) -> Condition:
    """``x is unanswered`` becomes unknown while question ``x`` may still be asked."""
    if not pending:
        return condition
    if condition.kind == "atom":
        if condition.op == "unanswered" and condition.fact in pending:
            # A plain atom on an unanswered fact evaluates to unknown.
            return replace(condition, op=None, negate=False)
        return condition
    if not condition.children:
        return condition
    return replace(
        condition, children=tuple(_while_pending(c, pending) for c in condition.children)
    )


def _base_facts(document: dict[str, Any], knowledge: KnowledgeBase) -> Facts:
    """Flattened facts of a possibly incomplete document.

    Age, and a pain region's duration and intensity, may not be given yet: stand-ins let the
    intake validate and the facts they produce are blanked (unknown), while the regions ticked so
    far still count. Other answers that do not validate are left out; the forms report them.
    """
    doc = copy.deepcopy(document)
    stand_ins = _put_stand_ins(doc)
    intake = _validate_repairing(doc, stand_ins)
    if intake is None:
        intake = Intake.model_validate({"age": _PLACEHOLDER_AGE, "regions": [_PLACEHOLDER_REGION]})
        stand_ins.age = stand_ins.regions = True
    facts = flatten(intake, knowledge.fact_terms)
    for name in stand_ins.facts_made(facts):
        facts[name] = None
    return facts


@dataclass
class _StandIns:
    """What stand-ins replaced in a document, so the facts they produce can be blanked."""

    age: bool
    regions: bool
    numbers: set[tuple[str, str]]
    """(region, name) of each stand-in duration or intensity."""

    def facts_made(self, facts: Facts) -> set[str]:
        """The facts that hold a stand-in's value rather than an answer."""
        unknown: set[str] = set()
        if self.age:
            unknown |= {"age", "pain.onset_age"}
        if self.regions:
            unknown |= {name for name in facts if name.startswith("pain.")}
        for region, name in self.numbers:
            unknown |= {f"pain.{region}.{name}", f"pain.{_AGGREGATE[name]}", "pain.onset_age"}
        return unknown


def _put_stand_ins(doc: dict[str, Any]) -> _StandIns:
    """Stand in for the age, the regions and each region's numbers where they are missing."""
    no_age = not isinstance(doc.get("age"), int) or isinstance(doc.get("age"), bool)
    no_regions = not doc.get("regions")
    if no_age:
        doc["age"] = _PLACEHOLDER_AGE
    if no_regions:
        doc["regions"] = [dict(_PLACEHOLDER_REGION)]
    stand_ins = _StandIns(age=no_age, regions=no_regions, numbers=set())
    for region in doc["regions"] if isinstance(doc["regions"], list) else []:
        for name in _REGION_NUMBERS:
            if isinstance(region, dict) and name not in region:
                region[name] = _PLACEHOLDER_REGION[name]
                stand_ins.numbers.add((str(region.get("region")), name))
    return stand_ins


def _validate_repairing(doc: dict[str, Any], stand_ins: _StandIns) -> Intake | None:
    """The intake, once stand-ins and dropped answers make the document valid; None if not."""
    for _ in range(_MAX_REPAIRS):
        try:
            # JSON mode, as the forms validate: strict Python mode would refuse what JSON allows.
            return Intake.model_validate_json(json.dumps(doc))
        except ValidationError as exc:
            for error in exc.errors():
                _repair(doc, error["loc"], stand_ins)
    return None


def _repair(doc: dict[str, Any], loc: tuple[int | str, ...], stand_ins: _StandIns) -> None:
    if loc[:1] == ("age",):
        doc["age"], stand_ins.age = _PLACEHOLDER_AGE, True
    elif len(loc) == 3 and loc[0] == "regions" and loc[2] in _REGION_NUMBERS:
        region = doc["regions"][int(loc[1])]
        region[str(loc[2])] = _PLACEHOLDER_REGION[str(loc[2])]
        stand_ins.numbers.add((str(region.get("region")), str(loc[2])))
    elif loc[:1] == ("regions",) and len(loc) < 3:
        doc["regions"], stand_ins.regions = [dict(_PLACEHOLDER_REGION)], True
    else:
        _drop(doc, loc)


def _drop(document: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    """Remove the value at an error location, or its whole top-level entry if that fails."""
    node: Any = document
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
            break
    if isinstance(node, dict) and loc and loc[-1] in node:
        del node[loc[-1]]
    elif loc:
        document.pop(str(loc[0]), None)
