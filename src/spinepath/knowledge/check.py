"""`kb check`: the consistency checks a knowledge base must pass before the engine uses it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from spinepath.evidence.check import registry_problems
from spinepath.knowledge.models import (
    ENGINE_FACTS,
    AnswerFormat,
    Entry,
    KnowledgeBase,
    QuestionDef,
    answer_format,
)
from spinepath.knowledge.stages import stage_problems
from spinepath.pathway.assessment import CandidacyStatus, Level
from spinepath.pathway.conditions import Condition
from spinepath.pathway.exact import value_atoms
from spinepath.pathway.facts import fact_domains, known_facts


def _conditions(kb: KnowledgeBase) -> Iterator[tuple[str, Condition]]:
    for _kind, key, entry in kb.entries():
        for name in ("when", "ask_if"):
            condition = getattr(entry, name, None)
            if isinstance(condition, Condition):
                yield key, condition


def available_facts(kb: KnowledgeBase) -> frozenset[str]:
    names = set(known_facts()) | set(ENGINE_FACTS)
    names |= {d.id for d in kb.derived}
    names |= {f"pattern.{p.id}" for p in kb.patterns.types}
    for code in kb.concerns:
        names |= {f"concern.{code}", f"concern.{code}.rank"}
    names |= {f"criterion.{c.code}" for c in kb.surgery.criteria}
    return frozenset(names)


# Answers a red-flag rule may read without a question of their own: they are always answered
# (age, pain regions and scores) or only matter once self-care is already ruled out (NG65 features
# apply to pain of more than 12 weeks).
_ALWAYS_ANSWERED_PREFIXES = (
    "age",
    "pain.",
    "inflammatory.",
    "startback.",
    "imaging.",
    "conservative.",
)


def _unasked_red_flag_facts(kb: KnowledgeBase) -> list[str]:
    """Every answer a red-flag rule reads must be asked, or "unknown" could hide an emergency."""
    asked = {q.fact for q in kb.questions}
    derived = {d.id: d.when for d in kb.derived}

    def base(names: frozenset[str], seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for name in names:
            if name in derived and name not in seen:
                out |= base(derived[name].facts(), seen | {name})
            else:
                out.add(name)
        return out

    problems = []
    for rule in kb.red_flags:
        for name in sorted(base(rule.when.facts())):
            if name in asked or name in derived or name.startswith(_ALWAYS_ANSWERED_PREFIXES):
                continue
            problems.append(f"red_flag {rule.id}: reads {name!r}, which no question asks")
    return problems


# Diagnostic figures come from studies; "the guideline says so" comes from a guideline or the
# public health service's own advice.
_EVIDENCE_SOURCE_KINDS = {
    "post_test_probability": {"review", "cohort", "trial"},
    "likelihood_ratio": {"review", "cohort", "trial"},
    "guideline": {"guideline", "quality_measure", "patient_information", "review"},
}


def _evidence_problems(kb: KnowledgeBase) -> list[str]:
    """Every red flag carries diagnostic evidence or a guideline source of the right kind."""
    problems = []
    for rule in kb.red_flags:
        source = kb.sources.get(rule.evidence.source)
        if source is None:
            problems.append(
                f"red_flag {rule.id}: evidence source {rule.evidence.source!r} is not registered"
            )
        elif source.kind not in _EVIDENCE_SOURCE_KINDS[rule.evidence.kind]:
            problems.append(
                f"red_flag {rule.id}: {rule.evidence.kind} evidence needs a source of kind "
                f"{sorted(_EVIDENCE_SOURCE_KINDS[rule.evidence.kind])}, not {source.kind!r}"
            )
    return problems


def check(kb: KnowledgeBase) -> list[str]:
    """Every problem that makes the knowledge base unsafe to use; empty when it is sound."""
    # The order of the checks is the order of the report.
    checks: tuple[Callable[[KnowledgeBase], list[str]], ...] = (
        _duplicate_id_problems,
        _source_problems,
        _registry_problems,
        _fact_problems,
        stage_problems,
        _unasked_red_flag_facts,
        _question_problems,
        _evidence_problems,
        _red_flag_problems,
        _referral_problems,
        _lifestyle_bar_problems,
        _coverage_problems,
        _first_match_problems,
    )
    return [problem for each_check in checks for problem in each_check(kb)]


def _duplicate_id_problems(kb: KnowledgeBase) -> list[str]:
    problems: list[str] = []
    ids = Counter(key for _kind, key, _entry in kb.entries())
    problems += [f"duplicate id {key!r} ({n} entries)" for key, n in ids.items() if n > 1]
    return problems


def _registry_problems(kb: KnowledgeBase) -> list[str]:
    """One entry per document and per claim, and every source primary (the source policy)."""
    return registry_problems(kb.sources, kb.seed_claims)


def _source_problems(kb: KnowledgeBase) -> list[str]:
    """Every source cited is registered, and every entry but a question cites one."""
    problems: list[str] = []
    for where, refs in _source_refs(kb, "knowledge"):
        cited = {ref.split(":", 1)[0] for ref in refs}
        for source_id in sorted(cited):
            source = kb.sources.get(source_id)
            if source is None:
                problems.append(f"{where}: source {source_id!r} is not in the registry")
            elif source.superseded_by and source.superseded_by not in cited:
                # A withdrawn guideline may explain where a threshold came from, but never
                # stands alone as if it were current.
                problems.append(
                    f"{where}: cites {source_id}, replaced by {source.superseded_by}; "
                    f"cite {source.superseded_by} too"
                )
    for kind, key, entry in kb.entries():
        if kind == "source":
            continue
        if not getattr(entry, "sources", None) and kind not in {"question"}:
            problems.append(f"{kind} {key}: has no source")
    return problems


# NICE NG59 1.3.10: BMI, smoking status or psychological distress must not influence the
# decision to refer for a surgical opinion for sciatica. Nothing that decides surgical candidacy
# may read them, directly or through a derived fact or criterion.
_NOT_A_BAR_TO_REFERRAL = ("health.bmi", "health.smoking", "startback.")


def _lifestyle_bar_problems(kb: KnowledgeBase) -> list[str]:
    criteria = {f"criterion.{c.code}": c.when for c in kb.surgery.criteria}
    problems: list[str] = []
    rules = [(c.code, c.when) for c in kb.surgery.criteria]
    rules += [(r.id, r.when) for r in kb.surgery.statuses]
    for rule_id, condition in rules:
        read: set[str] = set()
        for fact in answers_read(kb, condition):
            nested = criteria.get(fact)
            read |= set(answers_read(kb, nested)) if nested is not None else {fact}
        barred = sorted(f for f in read if f.startswith(_NOT_A_BAR_TO_REFERRAL))
        if barred:
            problems.append(
                f"surgery {rule_id}: reads {barred}; BMI, smoking and psychological distress "
                "must not decide referral for a surgical opinion (NICE NG59 1.3.10)"
            )
    return problems


def _fact_problems(kb: KnowledgeBase) -> list[str]:
    """Conditions and questions name facts that exist, compared with values they can take."""
    problems: list[str] = []
    facts = available_facts(kb)
    for key, condition in _conditions(kb):
        unknown = sorted(condition.facts() - facts)
        if unknown:
            problems.append(f"{key}: condition reads unknown facts {unknown}")
        problems += [f"{key}: {problem}" for problem in _value_problems(condition)]
    for question in kb.questions:
        if question.fact not in facts:
            problems.append(f"Q:{question.fact}: asks about an unknown fact")
    return problems


def _red_flag_problems(kb: KnowledgeBase) -> list[str]:
    problems: list[str] = []
    for rule in kb.red_flags:
        if rule.concern is not None and rule.concern not in kb.concerns:
            problems.append(f"red_flag {rule.id}: unknown concern {rule.concern!r}")
        if rule.referral is not None and rule.referral not in kb.referrals:
            problems.append(f"red_flag {rule.id}: unknown referral {rule.referral!r}")
        if rule.level is Level.EMERGENCY:
            concern = kb.concerns.get(rule.concern or "")
            route = rule.referral or (concern.referral if concern else None)
            if route is None or (route in kb.referrals and not kb.referrals[route].emergency):
                problems.append(
                    f"red_flag {rule.id}: an emergency rule must send people to an emergency "
                    f"route, not {route!r}"
                )
        if _reads_none_true(rule.when):
            problems.append(
                f"red_flag {rule.id}: none_true treats unknown as no, so it cannot raise urgency"
            )
    return problems


def _referral_problems(kb: KnowledgeBase) -> list[str]:
    problems: list[str] = []
    for concern in kb.concerns.values():
        if concern.referral not in kb.referrals:
            problems.append(f"concern {concern.code}: unknown referral {concern.referral!r}")
    for status in kb.surgery.statuses:
        if status.referral is not None and status.referral not in kb.referrals:
            problems.append(f"surgical_status {status.id}: unknown referral {status.referral!r}")
    return problems


def _coverage_problems(kb: KnowledgeBase) -> list[str]:
    """Every urgency level has its text and every candidacy status can be reached."""
    problems: list[str] = []
    missing_levels = set(Level) - set(kb.levels.texts)
    if missing_levels:
        problems.append(f"levels: no text for {sorted(missing_levels)}")
    if set(CandidacyStatus) - {s.status for s in kb.surgery.statuses}:
        problems.append("surgery: every candidacy status needs at least one rule")
    return problems


def _is_otherwise(condition: Condition) -> bool:
    return condition.kind == "const" and condition.value is True


def _first_match_problems(kb: KnowledgeBase) -> list[str]:
    """First-match lists end with ``otherwise``, so every person gets an answer; no other rule
    may be ``otherwise``, because rules after it could never apply."""
    problems: list[str] = []
    lists: dict[str, list[Any]] = {
        "imaging": kb.imaging,
        "surgery.statuses": kb.surgery.statuses,
        "care.next_step": kb.care.next_step,
    }
    for name, rules in lists.items():
        if not rules or not _is_otherwise(rules[-1].when):
            problems.append(f"{name}: the last rule must be `when: otherwise`")
        problems += [
            f"{name} {rule.id}: only the last rule may be `otherwise`"
            for rule in rules[:-1]
            if _is_otherwise(rule.when)
        ]
    for kind, key, entry in kb.entries():
        for attribute in ("when", "ask_if"):
            condition = getattr(entry, attribute, None)
            if not isinstance(condition, Condition):
                continue
            whole = attribute == "when" and kind in {"imaging", "surgical_status", "care.next_step"}
            if _is_otherwise(condition) and not whole:
                problems.append(f"{kind} {key}: `otherwise` is only for a rule list's last rule")
            elif not _is_otherwise(condition) and _has_constant(condition):
                problems.append(f"{kind} {key}: `otherwise` cannot be part of a condition")
    return problems


def _has_constant(condition: Condition) -> bool:
    return condition.kind == "const" or any(_has_constant(c) for c in condition.children)


def _reads_none_true(condition: Condition) -> bool:
    return condition.kind == "none_true" or any(_reads_none_true(c) for c in condition.children)


def _value_problems(condition: Condition) -> list[str]:
    """Atoms that compare an answer with a value it can never take (a typo never matches)."""
    domains = fact_domains()
    problems: list[str] = []
    for atom in value_atoms(condition):
        domain = domains.get(atom.fact or "")
        if domain is None:
            continue
        values = atom.value if isinstance(atom.value, tuple) else (atom.value,)
        if atom.op is None:
            if domain.kind != "bool":
                problems.append(f"{atom.fact} is not a yes/no answer; compare it with a value")
        elif domain.kind in {"bool", "enum"}:
            impossible = [v for v in values if v not in domain.values]
            if impossible:
                problems.append(
                    f"{atom.fact} is compared with {impossible}, which it cannot be "
                    f"(answers: {list(domain.values)})"
                )
        elif domain.kind in {"int", "float"} and not all(_is_number(v) for v in values):
            problems.append(f"{atom.fact} is a number; it is compared with {list(values)}")
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _source_refs(node: object, where: str) -> Iterator[tuple[str, list[str]]]:
    """Every ``sources`` list anywhere in the knowledge base, with where it sits."""
    if isinstance(node, Entry):
        name = (
            getattr(node, "id", None) or getattr(node, "code", None) or getattr(node, "fact", None)
        )
        here = f"{where} [{name}]" if isinstance(name, str) else where
        refs = getattr(node, "sources", None)
        if isinstance(refs, list) and not isinstance(node, KnowledgeBase):
            yield here, refs
        for field in type(node).model_fields:
            if field != "sources":
                yield from _source_refs(getattr(node, field), f"{where}.{field}")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _source_refs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _source_refs(value, f"{where}[{index}]")


def answers_read(kb: KnowledgeBase, condition: Condition) -> frozenset[str]:
    """The facts a condition reads, each derived fact replaced by the facts it is built from."""
    derived = {d.id: d.when for d in kb.derived}
    out: set[str] = set()
    seen: set[str] = set()
    todo = list(condition.facts())
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in derived:
            todo.extend(derived[name].facts())
        else:
            out.add(name)
    return frozenset(out)


def _question_problems(kb: KnowledgeBase) -> list[str]:
    """Questions fit the intake, branch only on earlier answers, and screen for emergencies.

    The web and the interview stop on any emergency-level red flag, so every answer such a rule
    reads must be asked on the emergency screen, before anything else.
    """
    problems: list[str] = []
    order = {q.fact: i for i, q in enumerate(kb.questions)}
    screens = [q.screen for q in kb.questions]
    if "red_flag" in screens and "emergency" in screens[screens.index("red_flag") :]:
        problems.append("questions: every emergency-screen question must come before the others")
    for index, question in enumerate(kb.questions):
        key = f"Q:{question.fact}"
        answer = answer_format(question.fact)
        if answer is None:
            problems.append(f"{key}: is not an answer of the intake, so it cannot be asked")
            continue
        problems += _answer_format_problems(key, question, answer)
        if question.ask_if is not None:
            later = sorted(
                n for n in answers_read(kb, question.ask_if) if order.get(n, -1) >= index
            )
            if later:
                # The web shows a page at a time: branching on a later answer cannot work there.
                problems.append(
                    f"{key}: ask_if reads {later}, which are asked later; ask them first"
                )
    problems += _emergency_screen_problems(kb, order)
    return problems


def _answer_format_problems(key: str, question: QuestionDef, answer: AnswerFormat) -> list[str]:
    """A question's choices and unit fit the kind of answer the intake model takes."""
    problems: list[str] = []
    if answer.kind == "choice":
        if question.choices is None or set(question.choices) != set(answer.values):
            problems.append(f"{key}: choices must give words for exactly {list(answer.values)}")
    elif question.choices is not None:
        problems.append(f"{key}: choices are only for answers with fixed options")
    if question.unit is not None and answer.kind != "whole_number":
        problems.append(f"{key}: a unit is only for whole-number answers")
    if answer.kind == "whole_number" and None in (answer.minimum, answer.maximum):
        problems.append(f"{key}: the intake model must give this number a lowest and highest")
    return problems


def _emergency_screen_problems(kb: KnowledgeBase, order: dict[str, int]) -> list[str]:
    problems: list[str] = []
    emergency = {q.fact for q in kb.questions if q.screen == "emergency"}
    for rule in kb.red_flags:
        if rule.level is not Level.EMERGENCY:
            continue
        for name in sorted(answers_read(kb, rule.when)):
            if name in order and name not in emergency:
                problems.append(
                    f"red_flag {rule.id}: reads {name!r}, which the emergency screen does not ask"
                )
    return problems
