"""The assessment engine: ``Intake`` in, ``Assessment`` out. Pure, deterministic, no I/O.

Every stage reads the flat fact record (``spinepath.pathway.facts``) and adds the facts it derives,
so the same knowledge-base conditions can be evaluated for one person here and for a population in
``spinepath.pathway.columnar``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from spinepath import __version__
from spinepath import knowledge as kb
from spinepath.knowledge import KnowledgeBase
from spinepath.knowledge.models import (
    STARTBACK_GROUPS,
    CareItem,
    LevelRule,
    RedFlagRule,
    StartBackCare,
)
from spinepath.pathway.assessment import (
    AnswerEffect,
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
from spinepath.pathway.compiled import Compiled, CompiledKnowledge, rank_names
from spinepath.pathway.compiled import compiled as compiled_knowledge
from spinepath.pathway.exact import BOOL, Domain, value_atoms
from spinepath.pathway.facts import Facts, field_description, flatten
from spinepath.pathway.intake import Intake
from spinepath.pathway.kleene import Tri

T = TypeVar("T")

UNANSWERED_RULE_ID = "LV-UNANSWERED"


def _sources(refs: Iterable[Sequence[str]]) -> list[str]:
    out: list[str] = []
    for group in refs:
        for ref in group:
            if ref not in out:
                out.append(ref)
    return out


def _read(rule: Compiled[Any], facts: Facts) -> dict[str, FactValue]:
    """The answers behind a rule (derived facts were inlined, so these are answers)."""
    return {name: facts.get(name) for name in rule.reads}


def _explain(rules: Sequence[Compiled[Any]], facts: Facts) -> dict[str, FactValue]:
    read: dict[str, FactValue] = {}
    for rule in rules:
        read.update(_read(rule, facts))
    return dict(sorted(read.items()))


def _triage_level(compiled: CompiledKnowledge, values: Sequence[Tri]) -> Level:
    fired = [
        rule.entry.level for rule, value in zip(compiled.triage_rules, values, strict=True) if value
    ]
    return most_urgent(fired) if fired else Level.ROUTINE


_BY_RANK = {level.rank: level for level in Level}


def _status_index(values: Sequence[Tri]) -> int:
    return next(i for i, value in enumerate(values) if value is True)


def assess(intake: Intake, knowledge: KnowledgeBase | None = None) -> Assessment:
    """Assess one person. Raises nothing for valid input; the intake model rejects bad input."""
    knowledge = knowledge or kb.default()
    compiled = compiled_knowledge(knowledge)
    facts = flatten(intake, compiled.terms)
    trace: list[TraceEntry] = []

    _derive(compiled, facts)
    pattern_results: dict[str, Tri] = {
        p.entry: facts[f"pattern.{p.entry}"]  # type: ignore[misc]
        for p in compiled.patterns
    }

    # --- red flags, concerns and triage -------------------------------------------------------
    rule_values = [rule.evaluate(facts) for rule in compiled.triage_rules]
    n_flags = len(compiled.red_flags)
    flag_values = rule_values[:n_flags]
    fired = [r for r, v in zip(compiled.red_flags, flag_values, strict=True) if v]
    facts.update(_concern_ranges(compiled, flag_values))
    fired_levels = [
        r for r, v in zip(compiled.level_rules, rule_values[n_flags:], strict=True) if v
    ]
    rule_level = _triage_level(compiled, rule_values)

    for criterion in compiled.criteria:
        facts[f"criterion.{criterion.entry.code}"] = criterion.evaluate(facts)
    status_values = [status.evaluate(facts) for status in compiled.statuses]

    still_to_ask = _still_to_ask(compiled, facts, rule_values, rule_level, status_values)
    floor = knowledge.levels.unanswered_floor
    floor_level: Level | None = None
    raises = [q.could_raise_to for q in still_to_ask if q.could_raise_to is not None]
    if Level.EMERGENCY in raises:
        floor_level = floor.emergency
    elif raises:
        floor_level = floor.red_flag
    level = most_urgent([rule_level, floor_level]) if floor_level else rule_level
    facts["triage.rank"] = level.rank

    acting: list[Compiled[Any]] = [*fired, *fired_levels]
    reasons = [
        Finding(
            text=r.entry.finding,
            rule_ids=[r.entry.id],
            facts=_read(r, facts),
            sources=list(r.entry.sources),
        )
        for r in sorted(acting, key=lambda r: (-r.entry.level.rank, r.entry.id))
        if r.entry.level.rank >= Level.ROUTINE.rank or level is Level.SELF_CARE
    ]
    if floor_level is not None and floor_level.rank > rule_level.rank:
        reasons.append(
            Finding(
                text=floor.finding.format(count=len(raises)),
                rule_ids=[UNANSWERED_RULE_ID],
                facts={q.fact: None for q in still_to_ask if q.could_raise_to is not None},
                sources=list(floor.sources),
            )
        )
    texts = knowledge.levels.texts[level]
    instructions = list(texts.instructions)
    if Level.EMERGENCY in raises and level is not Level.EMERGENCY:
        instructions.append(floor.emergency_instruction)
    concerns = _concerns(knowledge, fired, facts)
    for concern in concerns[:1]:
        instructions.append(knowledge.levels.where_to_go.format(route=concern.referral_route))
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

    pattern = _pattern(compiled, intake, facts, pattern_results)
    trace.append(TraceEntry(output="pattern", rule_ids=pattern.rule_ids, facts=pattern.facts))
    startback = _startback(facts, knowledge.care.startback)
    trace.append(TraceEntry(output="startback", rule_ids=[], facts=startback.facts))

    surgical = _surgical(
        compiled,
        facts,
        status_values,
        _status_questions(compiled, facts, rule_values, rule_level, status_values, still_to_ask),
    )
    facts["surgical.status"] = surgical.status.value
    facts["surgical.referral_due"] = surgical.status is CandidacyStatus.REFER_SURGICAL_OPINION
    trace.append(
        TraceEntry(output="surgical.status", rule_ids=surgical.rule_ids, facts=surgical.facts)
    )

    imaging = _imaging(compiled, facts)
    facts["imaging.indicated"] = imaging.indicated
    trace.append(TraceEntry(output="imaging", rule_ids=imaging.rule_ids, facts=imaging.facts))

    care_plan = _care_plan(compiled, facts)
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
        notice=knowledge.meta.notice,
        triage=triage,
        concerns=concerns,
        pattern=pattern,
        startback=startback,
        care_plan=care_plan,
        imaging=imaging,
        surgical=surgical,
        trace=trace,
    )


def _still_to_ask(
    compiled: CompiledKnowledge,
    facts: Facts,
    rule_values: list[Tri],
    rule_level: Level,
    status_values: list[Tri],
) -> list[Question]:
    """Unanswered red-flag questions whose answers could change the urgency or surgical status.

    Each answer is tried with every other unanswered question left unanswered, so "if yes:
    urgent" means a yes alone makes it urgent, whatever the other answers turn out to be.
    """
    candidates = [
        (question.fact, question.question)
        for question, ask_if in compiled.questions
        if facts.get(question.fact) is None and (ask_if is None or ask_if(facts) is not False)
    ]
    return _what_ifs(compiled, facts, candidates, rule_values, rule_level, status_values)


def _status_questions(
    compiled: CompiledKnowledge,
    facts: Facts,
    rule_values: list[Tri],
    rule_level: Level,
    status_values: list[Tri],
    asked: Sequence[Question],
) -> list[Question]:
    """Answers outside the red-flag questions that could change the surgical status."""
    status_now = _status_index(status_values)
    seen = {q.fact for q in compiled.knowledge.questions}
    candidates: list[tuple[str, str]] = []
    for index in range(status_now):
        if status_values[index] is not None:
            continue
        for name in compiled.statuses[index].reads:
            if name in seen or facts.get(name) is not None or name not in compiled.domains:
                continue
            seen.add(name)
            candidates.append((name, question_text(name)))
    asked_changing = [q for q in asked if any(e.status is not None for e in q.effects)]
    more = _what_ifs(compiled, facts, candidates, rule_values, rule_level, status_values)
    return asked_changing + more


def _what_ifs(
    compiled: CompiledKnowledge,
    facts: Facts,
    candidates: Sequence[tuple[str, str]],
    rule_values: list[Tri],
    rule_level: Level,
    status_values: list[Tri],
) -> list[Question]:
    """The candidates (answer name, wording) whose answers would change something."""
    found = (
        _what_if(compiled, facts, name, text, rule_values, rule_level, status_values)
        for name, text in candidates
    )
    return [question for question in found if question is not None]


def _what_if(
    compiled: CompiledKnowledge,
    facts: Facts,
    name: str,
    text: str,
    rule_values: list[Tri],
    rule_level: Level,
    status_values: list[Tri],
) -> Question | None:
    triage_rules = compiled.triage_rules
    status_now = _status_index(status_values)
    # An answer can only change a rule that is unknown now, or one that reads whether this
    # question was answered; a status after the current one cannot become the first that holds.
    reading = [
        i
        for i in compiled.triage_reading.get(name, [])
        if rule_values[i] is None or name in triage_rules[i].check.state
    ]
    status_reading = [
        i
        for i in compiled.status_reading.get(name, [])
        if i <= status_now
        and (status_values[i] is None or name in compiled.statuses[i].check.state)
    ]
    if not reading and not status_reading:
        return None
    effects: list[AnswerEffect] = []
    rule_ids: list[str] = []
    highest: Level | None = None
    others_rank = _others_rank(triage_rules, rule_values, set(reading))
    # Each answer is tried in place on the person's facts; what it overwrites is put back.
    saved: dict[str, FactValue] = {}

    def put(key: str, value: FactValue) -> None:
        if key not in saved:
            saved[key] = facts.get(key)
        facts[key] = value

    for answer, value in answer_options(compiled, name):
        try:
            put(name, value)
            for key, derived in compiled.derived_reading.get(name, ()):
                put(key, derived.evaluate(facts))
            values, level = _triage_with(triage_rules, facts, reading, rule_values, others_rank)
            statuses = list(status_values)
            if status_reading:
                _put_status_inputs(compiled, facts, name, put, reading, values, rule_values)
                for index in status_reading:
                    # Kleene over the exact parts: sound, and a status change it cannot see is
                    # only left out of the list, never claimed.
                    statuses[index] = compiled.statuses[index].fast(facts, facts)
        finally:
            facts.update(saved)
            saved.clear()
        status = _status_index(statuses)
        if level is rule_level and status == status_now:
            continue
        changed_rules = [
            triage_rules[i].entry.id
            for i in reading
            if bool(values[i]) != bool(rule_values[i]) and values[i] is not None
        ]
        effects.append(
            AnswerEffect(
                answer=answer,
                level=level if level is not rule_level else None,
                status=compiled.statuses[status].entry.status if status != status_now else None,
                rule_ids=changed_rules,
            )
        )
        rule_ids += [rid for rid in changed_rules if rid not in rule_ids]
        if level.rank > rule_level.rank and (highest is None or level.rank > highest.rank):
            highest = level
    if not effects:
        return None
    return Question(
        fact=name, question=text, could_raise_to=highest, effects=effects, rule_ids=rule_ids
    )


def _others_rank(
    triage_rules: Sequence[Compiled[RedFlagRule] | Compiled[LevelRule]],
    rule_values: Sequence[Tri],
    trying: set[int],
) -> int | None:
    """The level from the rules this question cannot change (None when none fired)."""
    return max(
        (
            rule.entry.level.rank
            for i, (rule, value) in enumerate(zip(triage_rules, rule_values, strict=True))
            if value and i not in trying
        ),
        default=None,
    )


def _triage_with(
    triage_rules: Sequence[Compiled[RedFlagRule] | Compiled[LevelRule]],
    facts: Facts,
    reading: Sequence[int],
    rule_values: Sequence[Tri],
    others_rank: int | None,
) -> tuple[list[Tri], Level]:
    """The triage rules' values and the level once the rules in `reading` see `facts`."""
    values = list(rule_values)
    rank = others_rank
    for index in reading:
        values[index] = triage_rules[index].evaluate(facts)
        if values[index]:
            fired_rank = triage_rules[index].entry.level.rank
            rank = fired_rank if rank is None else max(rank, fired_rank)
    level = Level.ROUTINE if rank is None else _BY_RANK[rank]
    return values, level


def _put_status_inputs(
    compiled: CompiledKnowledge,
    facts: Facts,
    name: str,
    put: Callable[[str, FactValue], None],
    reading: Sequence[int],
    values: Sequence[Tri],
    rule_values: Sequence[Tri],
) -> None:
    """Bring the concerns and criteria a surgical status reads up to date with the answer."""
    n_flags = len(compiled.red_flags)
    if any(values[i] != rule_values[i] for i in reading if i < n_flags):
        for key, concern_rank in _concern_ranges(compiled, values[:n_flags]).items():
            put(key, concern_rank)
    for criterion in compiled.criteria_reading.get(name, ()):
        put(f"criterion.{criterion.entry.code}", criterion.evaluate(facts))


def question_text(name: str) -> str:
    """Patient wording for an answer that is not one of the red-flag questions."""
    described = field_description(name)
    return described or name.replace("_", " ").replace(".", ": ")


def answer_options(compiled: CompiledKnowledge, name: str) -> list[tuple[str, FactValue]]:
    """One value for each answer that can matter, with how to say it."""
    found = compiled.answer_options.get(name)
    if found is None:
        found = compiled.answer_options[name] = _answer_options(compiled, name)
    return found


def _answer_options(compiled: CompiledKnowledge, name: str) -> list[tuple[str, FactValue]]:
    domain = compiled.domains.get(name, BOOL)
    if domain.kind == "bool":
        return [("yes", True), ("no", False)]
    if domain.kind in {"enum", "text"}:
        # Say each answer the way the question offers it ("yes, left side"), where it does.
        words: dict[str, str] = next(
            (q.choices or {} for q in compiled.knowledge.questions if q.fact == name), {}
        )
        return [(words.get(str(v), str(v)).lower(), v) for v in domain.values]
    # Whole-number answers: the points where some comparison changes its mind start a new
    # interval; inside one, every rule gives the same answer, so one value speaks for it.
    starts: set[float] = set()
    for rule in [*compiled.triage_rules, *compiled.statuses]:
        if name not in rule.reads:
            continue
        for atom in value_atoms(rule.check.condition):
            value = atom.value
            if atom.fact != name or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            if atom.op in {"<", ">=", "==", "!="}:
                starts.add(value)
            if atom.op in {">", "<=", "==", "!="}:
                starts.add(value + 1)
    bounds = sorted(p for p in starts if domain.low < p <= domain.high)
    out: list[tuple[str, FactValue]] = []
    for low, high in zip(
        [domain.low, *bounds], [*(b - 1 for b in bounds), domain.high], strict=True
    ):
        out.append((_interval(low, high, domain), int(low) if domain.kind == "int" else low))
    return out


def _interval(low: float, high: float, domain: Domain) -> str:
    if low == high:
        return f"{low:g}"
    if high >= domain.high:
        return f"{low:g} or more"
    if low <= domain.low:
        return f"{high:g} or fewer"
    return f"{low:g} to {high:g}"


def _concerns(
    knowledge: KnowledgeBase, fired: Sequence[Compiled[RedFlagRule]], facts: Facts
) -> list[Concern]:
    out: list[Concern] = []
    for code, definition in knowledge.concerns.items():
        rules = [r for r in fired if r.entry.concern == code]
        if not rules:
            continue
        out.append(
            Concern(
                code=code,
                label=definition.label,
                level=most_urgent([r.entry.level for r in rules]),
                summary=definition.summary,
                findings=[
                    Finding(
                        text=r.entry.finding,
                        rule_ids=[r.entry.id],
                        facts=_read(r, facts),
                        sources=list(r.entry.sources),
                    )
                    for r in rules
                ],
                referral_route=knowledge.referrals[
                    _route(definition.referral, [r.entry for r in rules])
                ].label,
                rule_ids=[r.entry.id for r in rules],
                facts=_explain(rules, facts),
                sources=_sources([definition.sources, *(r.entry.sources for r in rules)]),
            )
        )
    out.sort(key=lambda c: -c.level.rank)
    return out


def _route(default: str, rules: Sequence[RedFlagRule]) -> str:
    """The referral of the most urgent rule that names one, else the concern's own."""
    for rule in sorted(rules, key=lambda r: -r.level.rank):
        if rule.referral is not None:
            return rule.referral
    return default


def _pattern(
    compiled: CompiledKnowledge,
    intake: Intake,
    facts: Facts,
    results: Mapping[str, bool | None],
) -> PainPattern:
    knowledge = compiled.knowledge
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
    check = next(p.check for p in compiled.patterns if p.entry == primary)
    description = chosen.description
    if not types:
        description = knowledge.patterns.undetermined
    read = {name: facts.get(name) for name in check.facts}
    read["pain.duration_weeks"] = weeks
    return PainPattern(
        regions=[r.region for r in intake.regions],
        duration_weeks=weeks,
        duration_class=duration_class,
        duration_definition=duration.definition,
        types=types,
        primary=primary,
        description=description,
        rule_ids=[f"PT-{p.id}" for p in knowledge.patterns.types if p.id in types]
        or ["PT-non_specific"],
        facts=dict(sorted(read.items())),
        sources=_sources([duration.sources, chosen.sources]),
    )


def _startback(facts: Facts, care: StartBackCare) -> StartBackResult:
    risk = facts.get("startback.risk")
    total = facts.get("startback.total")
    psychosocial = facts.get("startback.psychosocial")
    if risk not in STARTBACK_GROUPS:
        return StartBackResult(
            total=None,
            psychosocial=None,
            risk_group=None,
            matched_care=care.not_known,
            facts={"startback.total": None},
            sources=list(care.sources),
        )
    if not isinstance(risk, str):
        raise TypeError(f"expected str, got {type(risk).__name__}")
    if not isinstance(total, int):
        raise TypeError(f"expected int, got {type(total).__name__}")
    if not isinstance(psychosocial, int):
        raise TypeError(f"expected int, got {type(psychosocial).__name__}")
    return StartBackResult(
        total=total,
        psychosocial=psychosocial,
        risk_group=risk,
        matched_care=care.matched(risk),
        facts={"startback.total": total, "startback.psychosocial": psychosocial},
        sources=list(care.sources),
    )


def _surgical(
    compiled: CompiledKnowledge,
    facts: Facts,
    status_values: list[Tri],
    questions: Sequence[Question],
) -> SurgicalCandidacy:
    knowledge = compiled.knowledge
    criteria = [
        Criterion(
            code=c.entry.code,
            label=c.entry.label,
            met=facts[f"criterion.{c.entry.code}"],
            detail=c.entry.detail,
            rule_ids=[f"SC-{c.entry.code}"],
            facts=_read(c, facts),
            sources=list(c.entry.sources),
        )
        for c in compiled.criteria
    ]
    rule = compiled.statuses[_status_index(status_values)]
    return SurgicalCandidacy(
        status=rule.entry.status,
        summary=rule.entry.summary,
        criteria=criteria,
        referral_route=(
            knowledge.referrals[rule.entry.referral].label if rule.entry.referral else None
        ),
        still_to_ask=[
            q.model_copy(update={"effects": [e for e in q.effects if e.status is not None]})
            for q in questions
            if any(e.status is not None for e in q.effects)
        ],
        rule_ids=[rule.entry.id],
        facts=_read(rule, facts),
        sources=list(rule.entry.sources),
    )


def _first(rules: Sequence[Compiled[T]], facts: Facts) -> Compiled[T]:
    return next(r for r in rules if r.evaluate(facts) is True)


def _imaging(compiled: CompiledKnowledge, facts: Facts) -> ImagingAdvice:
    rule = _first(compiled.imaging, facts)
    entry = rule.entry
    return ImagingAdvice(
        indicated=entry.indicated,
        timing=entry.timing,
        modality=entry.modality,
        reason=entry.reason,
        rule_ids=[entry.id],
        facts=_read(rule, facts),
        sources=list(entry.sources),
    )


def _items(items: Sequence[Compiled[CareItem]], facts: Facts) -> list[PlanItem]:
    return [
        PlanItem(
            id=item.entry.id,
            text=item.entry.text,
            rule_ids=[item.entry.id],
            facts=_read(item, facts),
            sources=list(item.entry.sources),
        )
        for item in items
        if item.evaluate(facts) is True
    ]


def _care_plan(compiled: CompiledKnowledge, facts: Facts) -> CarePlan:
    step = _first(compiled.next_step, facts)
    return CarePlan(
        now=_items(compiled.care["now"], facts),
        next_step=NextStep(
            review_after_weeks=step.entry.review_after_weeks,
            text=step.entry.text,
            rule_ids=[step.entry.id],
            facts=_read(step, facts),
            sources=list(step.entry.sources),
        ),
        self_management=_items(compiled.care["self_management"], facts),
        prevention=_items(compiled.care["prevention"], facts),
        not_recommended=[
            NotRecommended(
                id=item.entry.id,
                item=item.entry.item,
                reason=item.entry.reason,
                rule_ids=[item.entry.id],
                facts=_read(item, facts),
                sources=list(item.entry.sources),
            )
            for item in compiled.not_recommended
            if item.evaluate(facts) is True
        ],
    )


def facts_for(data: dict[str, object], knowledge: KnowledgeBase | None = None) -> Facts:
    """Facts (with derived ones) for answers gathered so far, to decide which questions to ask."""
    compiled = compiled_knowledge(knowledge or kb.default())
    facts = flatten(Intake.model_validate(data), compiled.terms)
    _derive(compiled, facts)
    return facts


def _concern_ranges(compiled: CompiledKnowledge, flag_values: Sequence[Tri]) -> Facts:
    """Each concern's rank: at least that of its fired rules, at most that of fired or unknown."""
    low: dict[str, int] = dict.fromkeys(compiled.knowledge.concerns, -1)
    high = dict(low)
    for rule, value in zip(compiled.red_flags, flag_values, strict=True):
        code = rule.entry.concern
        if code is None or value is False:
            continue
        rank = rule.entry.level.rank
        high[code] = max(high[code], rank)
        if value:
            low[code] = max(low[code], rank)
    facts: Facts = {}
    for code in low:
        low_name, high_name = rank_names(code)
        facts[low_name] = low[code]
        facts[high_name] = high[code]
        facts[f"concern.{code}"] = low[code] >= 0
    return facts


def _derive(compiled: CompiledKnowledge, facts: Facts) -> None:
    """Add derived facts and pain patterns, in order (a later one may read an earlier one)."""
    for derived in compiled.derived:
        facts[derived.entry] = derived.evaluate(facts)
    for pattern in compiled.patterns:
        facts[f"pattern.{pattern.entry}"] = pattern.evaluate(facts)
