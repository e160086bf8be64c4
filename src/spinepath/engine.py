"""The assessment engine: ``Intake`` in, ``Assessment`` out. Pure, deterministic, no I/O.

Every stage reads the flat fact record (``spinepath.facts``) and adds the facts it derives, so the
same knowledge-base conditions can be evaluated for one person here and for a population in
``spinepath.batch``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from spinepath import __version__, kb
from spinepath.assessment import (
    Assessment,
    CandidacyStatus,
    CarePlan,
    Concern,
    Criterion,
    FactValue,
    Finding,
    ImagingAdvice,
    Level,
    NextStep,
    NotRecommended,
    PainPattern,
    PatternType,
    PlanItem,
    Question,
    StartBackResult,
    SurgicalCandidacy,
    TraceEntry,
    Triage,
    most_urgent,
)
from spinepath.conditions import Condition
from spinepath.facts import Facts, flatten
from spinepath.intake import Intake
from spinepath.kb import KnowledgeBase

NOTICE = (
    "spinepath supports decisions about back and neck pain; it does not diagnose. It says what "
    "findings can point to and how urgently to act. If you are worried, call NHS 111, or 999 in "
    "an emergency."
)
UNANSWERED_RULE_ID = "LV-UNANSWERED"
MATCHED_CARE = {
    "low": "Low risk: reassurance, advice to keep active and self-management support.",
    "medium": "Medium risk: physiotherapy addressing physical symptoms and function.",
    "high": "High risk: psychologically informed physiotherapy (physical and psychosocial care).",
}
STARTBACK_SOURCES = ["KEELE-SBST", "HILL-2011", "STARTBACK-MATCHED-CARE"]


@dataclass(frozen=True)
class _Compiled:
    """Per-knowledge-base lookups computed once: dependencies and what a yes would mean."""

    derived_deps: dict[str, frozenset[str]]
    if_yes: dict[str, Level]
    if_yes_rules: dict[str, tuple[str, ...]]
    expanded: dict[int, tuple[str, ...]]

    def names(self, condition: Condition) -> tuple[str, ...]:
        """The facts a condition reads, derived ones expanded, sorted (memoised)."""
        key = id(condition)
        found = self.expanded.get(key)
        if found is None:
            names: set[str] = set()
            for name in condition.facts():
                names.add(name)
                names |= self.derived_deps.get(name, frozenset())
            found = tuple(sorted(names))
            self.expanded[key] = found
        return found


_COMPILED: dict[str, _Compiled] = {}


def _compiled(knowledge: KnowledgeBase) -> _Compiled:
    found = _COMPILED.get(knowledge.content_hash)
    if found is None:
        found = _compile(knowledge)
        _COMPILED[knowledge.content_hash] = found
    return found


def _compile(knowledge: KnowledgeBase) -> _Compiled:
    derived_deps: dict[str, frozenset[str]] = {}
    for derived in knowledge.derived:
        deps: set[str] = set()
        for name in derived.when.facts():
            deps |= derived_deps.get(name, frozenset({name}))
        derived_deps[derived.id] = frozenset(deps)
    for pattern in knowledge.patterns.types:
        deps = set()
        for name in pattern.when.facts():
            deps |= derived_deps.get(name, frozenset({name}))
        derived_deps[f"pattern.{pattern.id}"] = frozenset(deps)

    if_yes: dict[str, Level] = {}
    if_yes_rules: dict[str, list[str]] = {}
    level_rules = [(r.id, r.level, r.when) for r in knowledge.red_flags]
    level_rules += [(r.id, r.level, r.when) for r in knowledge.levels.rules]
    for rule_id, level, condition in level_rules:
        base: set[str] = set()
        for name in condition.facts():
            base |= derived_deps.get(name, frozenset({name}))
        for name in base:
            current = if_yes.get(name)
            if current is None or level.rank > current.rank:
                if_yes[name] = level
            if_yes_rules.setdefault(name, []).append(rule_id)
    return _Compiled(
        derived_deps=derived_deps,
        if_yes=if_yes,
        if_yes_rules={k: tuple(v) for k, v in if_yes_rules.items()},
        expanded={},
    )


def _read(condition: Condition, facts: Facts, compiled: _Compiled) -> dict[str, FactValue]:
    """The facts behind a condition, derived ones expanded to the answers they came from."""
    return {name: facts.get(name) for name in compiled.names(condition)}


def _explain(
    rule_ids: Iterable[str], conditions: Iterable[Condition], facts: Facts, compiled: _Compiled
) -> tuple[list[str], dict[str, FactValue]]:
    read: dict[str, FactValue] = {}
    for condition in conditions:
        read.update(_read(condition, facts, compiled))
    return list(rule_ids), dict(sorted(read.items()))


def _sources(refs: Iterable[Sequence[str]]) -> list[str]:
    out: list[str] = []
    for group in refs:
        for ref in group:
            if ref not in out:
                out.append(ref)
    return out


def assess(intake: Intake, knowledge: KnowledgeBase | None = None) -> Assessment:
    """Assess one person. Raises nothing for valid input; the intake model rejects bad input."""
    knowledge = knowledge or kb.default()
    compiled = _compiled(knowledge)
    facts = flatten(intake)
    trace: list[TraceEntry] = []

    for derived in knowledge.derived:
        facts[derived.id] = derived.when.evaluate(facts)
    # In order: non_specific reads the patterns before it.
    pattern_results: dict[str, bool | None] = {}
    for p in knowledge.patterns.types:
        pattern_results[p.id] = facts[f"pattern.{p.id}"] = p.when.evaluate(facts)

    # --- red flags, concerns and triage -------------------------------------------------------
    fired = [r for r in knowledge.red_flags if r.when.evaluate(facts) is True]
    for code in knowledge.concerns:
        ranks = [r.level.rank for r in fired if r.concern == code]
        facts[f"concern.{code}.rank"] = max(ranks, default=-1)
        facts[f"concern.{code}"] = bool(ranks)
    fired_levels = [r for r in knowledge.levels.rules if r.when.evaluate(facts) is True]
    acting: list[kb.RedFlagRule | kb.LevelRule] = [*fired, *fired_levels]

    still_to_ask = _still_to_ask(knowledge, facts, compiled)
    floor = knowledge.levels.unanswered_floor
    floor_level: Level | None = None
    if any(
        q.if_yes is not None and _screen(knowledge, q.fact) == "emergency" for q in still_to_ask
    ):
        floor_level = floor.emergency
    elif still_to_ask:
        floor_level = floor.red_flag

    candidates = [r.level for r in fired] + [r.level for r in fired_levels]
    if floor_level is not None:
        candidates.append(floor_level)
    level = most_urgent(candidates) if candidates else Level.ROUTINE
    facts["triage.rank"] = level.rank

    reasons = [
        Finding(
            text=r.finding,
            rule_ids=[r.id],
            facts=_read(r.when, facts, compiled),
            sources=list(r.sources),
        )
        for r in sorted(acting, key=lambda r: (-r.level.rank, r.id))
        if r.level.rank >= Level.ROUTINE.rank or level is Level.SELF_CARE
    ]
    if floor_level is not None:
        reasons.append(
            Finding(
                text=(
                    f"{len(still_to_ask)} warning-sign question(s) are not answered yet, so "
                    "self-care cannot be advised until a clinician has asked them."
                ),
                rule_ids=[UNANSWERED_RULE_ID],
                facts={q.fact: None for q in still_to_ask},
                sources=list(floor.sources),
            )
        )
    texts = knowledge.levels.texts[level]
    instructions = list(texts.instructions)
    if any(q.if_yes is Level.EMERGENCY for q in still_to_ask):
        instructions.append(
            "Answer the questions still to ask below now: a yes to some of them means calling 999."
        )
    concerns = _concerns(knowledge, fired, facts, compiled)
    for concern in concerns[:1]:
        instructions.append(f"Where to go: {concern.referral_route}.")
    triage = Triage(
        level=level,
        headline=texts.headline,
        instructions=instructions,
        reasons=reasons,
        still_to_ask=still_to_ask,
        safety_net=list(texts.safety_net),
    )
    trace.append(
        TraceEntry(
            output="triage.level",
            rule_ids=[rid for reason in reasons for rid in reason.rule_ids],
            facts={k: v for reason in reasons for k, v in reason.facts.items()},
        )
    )
    for concern in concerns:
        trace.append(
            TraceEntry(
                output=f"concerns.{concern.code}", rule_ids=concern.rule_ids, facts=concern.facts
            )
        )

    pattern = _pattern(knowledge, intake, facts, pattern_results, compiled)
    trace.append(TraceEntry(output="pattern", rule_ids=pattern.rule_ids, facts=pattern.facts))
    startback = _startback(facts)
    if startback is not None:
        trace.append(TraceEntry(output="startback", rule_ids=[], facts=startback.facts))

    surgical = _surgical(knowledge, facts, compiled)
    facts["surgical.status"] = surgical.status.value
    facts["surgical.referral_due"] = surgical.status is CandidacyStatus.REFER_SURGICAL_OPINION
    trace.append(
        TraceEntry(output="surgical.status", rule_ids=surgical.rule_ids, facts=surgical.facts)
    )

    imaging = _imaging(knowledge, facts, compiled)
    facts["imaging.indicated"] = imaging.indicated
    trace.append(TraceEntry(output="imaging", rule_ids=imaging.rule_ids, facts=imaging.facts))

    care_plan = _care_plan(knowledge, facts, compiled)
    for section in ("now", "self_management", "prevention", "not_recommended"):
        for item in getattr(care_plan, section):
            trace.append(
                TraceEntry(
                    output=f"care_plan.{section}.{item.id}",
                    rule_ids=item.rule_ids,
                    facts=item.facts,
                )
            )
    trace.append(
        TraceEntry(
            output="care_plan.next_step",
            rule_ids=care_plan.next_step.rule_ids,
            facts=care_plan.next_step.facts,
        )
    )

    return Assessment(
        engine_version=__version__,
        knowledge_version=knowledge.version,
        notice=NOTICE,
        triage=triage,
        concerns=concerns,
        pattern=pattern,
        startback=startback,
        care_plan=care_plan,
        imaging=imaging,
        surgical=surgical,
        trace=trace,
    )


def _screen(knowledge: KnowledgeBase, fact: str) -> str:
    for question in knowledge.questions:
        if question.fact == fact:
            return question.screen
    return "red_flag"


def _still_to_ask(knowledge: KnowledgeBase, facts: Facts, compiled: _Compiled) -> list[Question]:
    out: list[Question] = []
    for q in knowledge.questions:
        if facts.get(q.fact) is not None:
            continue
        if q.ask_if is not None and q.ask_if.evaluate(facts) is False:
            continue
        out.append(
            Question(
                fact=q.fact,
                question=q.question,
                if_yes=compiled.if_yes.get(q.fact, Level.ROUTINE),
                rule_ids=list(compiled.if_yes_rules.get(q.fact, ())),
            )
        )
    return out


def _concerns(
    knowledge: KnowledgeBase,
    fired: Sequence[kb.RedFlagRule],
    facts: Facts,
    compiled: _Compiled,
) -> list[Concern]:
    out: list[Concern] = []
    for code, definition in knowledge.concerns.items():
        rules = [r for r in fired if r.concern == code]
        if not rules:
            continue
        rule_ids, read = _explain((r.id for r in rules), (r.when for r in rules), facts, compiled)
        out.append(
            Concern(
                code=code,
                label=definition.label,
                level=most_urgent([r.level for r in rules]),
                summary=definition.summary,
                findings=[
                    Finding(
                        text=r.finding,
                        rule_ids=[r.id],
                        facts=_read(r.when, facts, compiled),
                        sources=list(r.sources),
                    )
                    for r in rules
                ],
                referral_route=knowledge.referrals[_route(definition.referral, rules)].label,
                rule_ids=rule_ids,
                facts=read,
                sources=_sources([definition.sources, *(r.sources for r in rules)]),
            )
        )
    out.sort(key=lambda c: -c.level.rank)
    return out


def _route(default: str, rules: Sequence[kb.RedFlagRule]) -> str:
    """The referral of the most urgent rule that names one, else the concern's own."""
    for rule in sorted(rules, key=lambda r: -r.level.rank):
        if rule.referral is not None:
            return rule.referral
    return default


def _pattern(
    knowledge: KnowledgeBase,
    intake: Intake,
    facts: Facts,
    results: Mapping[str, bool | None],
    compiled: _Compiled,
) -> PainPattern:
    duration = knowledge.patterns.duration
    weeks = int(facts["pain.duration_weeks"])  # type: ignore[arg-type]
    if weeks < duration.acute_below_weeks:
        duration_class = "acute"
    elif weeks > duration.chronic_above_weeks:
        duration_class = "chronic"
    else:
        duration_class = "subacute"
    types: list[PatternType] = [p.id for p in knowledge.patterns.types if results[p.id] is True]
    primary: PatternType = types[0] if types else "non_specific"
    chosen = next(p for p in knowledge.patterns.types if p.id == primary)
    description = chosen.description
    if not types:
        description = (
            "Not enough answers to tell the pattern apart; treated as non-specific until the "
            "limb-symptom questions are answered."
        )
    rule_ids, read = _explain(
        [f"PT-{p.id}" for p in knowledge.patterns.types if p.id in types] or ["PT-non_specific"],
        [chosen.when],
        facts,
        compiled,
    )
    read["pain.duration_weeks"] = weeks
    return PainPattern(
        regions=[r.region for r in intake.regions],
        duration_weeks=weeks,
        duration_class=duration_class,
        duration_definition=duration.definition,
        types=types,
        primary=primary,
        description=description,
        rule_ids=rule_ids,
        facts=read,
        sources=_sources([duration.sources, chosen.sources]),
    )


def _startback(facts: Facts) -> StartBackResult | None:
    risk = facts.get("startback.risk")
    if risk not in MATCHED_CARE:
        return None
    assert isinstance(risk, str)
    total = facts["startback.total"]
    psychosocial = facts["startback.psychosocial"]
    assert isinstance(total, int)
    assert isinstance(psychosocial, int)
    return StartBackResult(
        total=total,
        psychosocial=psychosocial,
        risk_group=risk,
        matched_care=MATCHED_CARE[risk],
        facts={"startback.total": total, "startback.psychosocial": psychosocial},
        sources=list(STARTBACK_SOURCES),
    )


def _surgical(knowledge: KnowledgeBase, facts: Facts, compiled: _Compiled) -> SurgicalCandidacy:
    criteria: list[Criterion] = []
    for definition in knowledge.surgery.criteria:
        met = definition.when.evaluate(facts)
        facts[f"criterion.{definition.code}"] = met
        criteria.append(
            Criterion(
                code=definition.code,
                label=definition.label,
                met=met,
                detail=definition.detail,
                rule_ids=[f"SC-{definition.code}"],
                facts=_read(definition.when, facts, compiled),
                sources=list(definition.sources),
            )
        )
    rule = next(s for s in knowledge.surgery.statuses if s.when.evaluate(facts) is True)
    rule_ids, read = _explain([rule.id], [rule.when], facts, compiled)
    return SurgicalCandidacy(
        status=rule.status,
        summary=rule.summary,
        criteria=criteria,
        referral_route=knowledge.referrals[rule.referral].label if rule.referral else None,
        rule_ids=rule_ids,
        facts=read,
        sources=list(rule.sources),
    )


def _imaging(knowledge: KnowledgeBase, facts: Facts, compiled: _Compiled) -> ImagingAdvice:
    rule = next(r for r in knowledge.imaging if r.when.evaluate(facts) is True)
    rule_ids, read = _explain([rule.id], [rule.when], facts, compiled)
    return ImagingAdvice(
        indicated=rule.indicated,
        timing=rule.timing,
        modality=rule.modality,
        reason=rule.reason,
        rule_ids=rule_ids,
        facts=read,
        sources=list(rule.sources),
    )


def _items(items: Sequence[kb.CareItem], facts: Facts, compiled: _Compiled) -> list[PlanItem]:
    return [
        PlanItem(
            id=item.id,
            text=item.text,
            rule_ids=[item.id],
            facts=_read(item.when, facts, compiled),
            sources=list(item.sources),
        )
        for item in items
        if item.when.evaluate(facts) is True
    ]


def _care_plan(knowledge: KnowledgeBase, facts: Facts, compiled: _Compiled) -> CarePlan:
    care = knowledge.care
    step = next(s for s in care.next_step if s.when.evaluate(facts) is True)
    return CarePlan(
        now=_items(care.now, facts, compiled),
        next_step=NextStep(
            review_after_weeks=step.review_after_weeks,
            text=step.text,
            rule_ids=[step.id],
            facts=_read(step.when, facts, compiled),
            sources=list(step.sources),
        ),
        self_management=_items(care.self_management, facts, compiled),
        prevention=_items(care.prevention, facts, compiled),
        not_recommended=[
            NotRecommended(
                id=item.id,
                item=item.item,
                reason=item.reason,
                rule_ids=[item.id],
                facts=_read(item.when, facts, compiled),
                sources=list(item.sources),
            )
            for item in care.not_recommended
            if item.when.evaluate(facts) is True
        ],
    )


def facts_for(data: dict[str, object], knowledge: KnowledgeBase | None = None) -> Facts:
    """Facts (with derived ones) for answers gathered so far, to decide which questions to ask."""
    knowledge = knowledge or kb.default()
    facts = flatten(Intake.model_validate(data))
    for derived in knowledge.derived:
        facts[derived.id] = derived.when.evaluate(facts)
    return facts
