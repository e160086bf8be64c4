"""Building a person's decision aid from their intake and the engine's assessment."""

from __future__ import annotations

from typing import Literal

from spinepath.decision_aid.catalogue import (
    Catalogue,
    ConditionSpec,
    HarmSpec,
    OptionSpec,
    WhoBenefitsSpec,
    load_catalogue,
)
from spinepath.decision_aid.models import (
    AidMode,
    Benefit,
    Comparison,
    ComparisonCell,
    ConditionSection,
    DecisionAid,
    Harm,
    Meta,
    NiceStatus,
    Notice,
    NotRecommendedProcedure,
    NotYet,
    Option,
    Personalisation,
    PersonFactor,
    Recovery,
    Reference,
    SeedClaim,
    Statement,
    ValuesItem,
    WhoBenefits,
)
from spinepath.decision_aid.numbers import duration, in_words, scale_effect, sourced_number
from spinepath.decision_aid.personalise import METHOD, FactorValues, adjust, person_factors
from spinepath.decision_aid.readability import reading_level
from spinepath.decision_aid.situation import Match, findings, match_conditions
from spinepath.pathway.assessment import Assessment, CandidacyStatus, Level
from spinepath.pathway.intake import Intake

TITLE = "Thinking about back surgery: your options, benefits, risks and recovery"

EMERGENCY_FIRST = (
    "This decision aid does not replace emergency advice. Follow the instructions above first. "
    "Read the rest later, when you are safe, to prepare for talking with the surgical team."
)
URGENT_FIRST = (
    "This decision aid does not replace urgent medical advice. Arrange to be seen as advised "
    "above first; the rest of this aid can help you prepare for that conversation."
)


def _mode(assessment: Assessment) -> AidMode:
    status = assessment.surgical.status
    if status is CandidacyStatus.EMERGENCY_SURGICAL:
        return "emergency_first"
    if status is CandidacyStatus.URGENT_SURGICAL:
        return "urgent_first"
    if status in (CandidacyStatus.NOT_INDICATED, CandidacyStatus.CONSERVATIVE_FIRST):
        return "not_yet"
    return "decision"


def _notice(assessment: Assessment, mode: AidMode) -> Notice | None:
    level = assessment.triage.level
    reasons = [r.text for r in assessment.triage.reasons]
    if mode == "emergency_first" or level is Level.EMERGENCY:
        return Notice(
            headline=assessment.triage.headline,
            instructions=[*assessment.triage.instructions, EMERGENCY_FIRST],
            reasons=reasons,
        )
    if mode == "urgent_first" or level is Level.URGENT:
        return Notice(
            headline=assessment.triage.headline,
            instructions=[*assessment.triage.instructions, URGENT_FIRST],
            reasons=reasons,
        )
    return None


def _harm(cat: Catalogue, spec: HarmSpec, age: int, factors: FactorValues) -> Harm:
    evidence_id = spec.evidence
    if spec.baseline_by_age:
        evidence_id = [e for min_age, e in spec.baseline_by_age if age >= min_age][-1]
    effects = [scale_effect(cat, e) for e in spec.effects]
    durations = [duration(cat, d) for d in spec.durations]
    if evidence_id is None:
        return Harm(
            id=spec.id,
            category=spec.category,
            label=spec.label,
            explanation=spec.explanation,
            baseline=None,
            personal_value=None,
            personal_low=None,
            personal_high=None,
            effects=effects,
            durations=durations,
            source_ids=list(spec.sources),
            no_number_reason=spec.no_number_reason
            or "Shown as average scores or times, not as a count of people.",
        )
    baseline = sourced_number(cat, evidence_id)
    adjusted = adjust(cat, baseline, spec.category, factors)
    return Harm(
        id=spec.id,
        category=spec.category,
        label=spec.label,
        explanation=spec.explanation,
        baseline=baseline,
        personal_value=adjusted.value,
        personal_low=adjusted.low,
        personal_high=adjusted.high,
        factors_applied=adjusted.applied,
        personal_words=in_words(adjusted.value, derived=True),
        effects=effects,
        durations=durations,
        source_ids=list(spec.sources),
    )


def _option(
    cat: Catalogue, spec: OptionSpec, age: int, factors: FactorValues, mode: AidMode, why: str
) -> Option:
    shown_as: Literal["option", "for_later", "not_safe_to_wait"] = "option"
    reason = ""
    if mode == "not_yet" and spec.kind != "non_surgical":
        shown_as = "for_later"
        reason = f"Not recommended for you at this stage: {why}"
    elif mode in ("emergency_first", "urgent_first") and spec.kind == "non_surgical":
        shown_as = "not_safe_to_wait"
        reason = (
            "With the symptoms you reported, waiting to see if things settle is not safe until a "
            "specialist has seen you. This option is described so you can discuss it with the "
            "team afterwards."
        )
    return Option(
        id=spec.id,
        name=spec.name,
        kind=spec.kind,
        involves=spec.involves,
        performed_by=spec.performed_by,
        anaesthesia=spec.anaesthesia,
        nice_status=(
            NiceStatus(
                guidance=spec.nice_status.guidance,
                status=spec.nice_status.status,
                source_id=spec.nice_status.source,
            )
            if spec.nice_status
            else None
        ),
        benefits=[
            Benefit(
                id=b.id,
                label=b.label,
                explanation=b.explanation,
                numbers=[sourced_number(cat, n) for n in b.numbers],
                effects=[scale_effect(cat, e) for e in b.effects],
                durations=[duration(cat, d) for d in b.durations],
                source_ids=list(b.sources),
            )
            for b in spec.benefits
        ],
        harms=[_harm(cat, h, age, factors) for h in spec.harms],
        recovery=Recovery(
            hospital_stay=spec.recovery.hospital_stay,
            return_to_work=spec.recovery.return_to_work,
            rehabilitation=spec.recovery.rehabilitation,
            source_ids=list(spec.recovery.sources),
        ),
        experience=spec.experience,
        shown_as=shown_as,
        shown_as_reason=reason,
    )


def _applies(spec: WhoBenefitsSpec, intake: Intake, assessment: Assessment) -> bool | None:
    factors = person_factors(intake)
    when = spec.when
    if when is None:
        return None
    if when == "leg_dominant":
        return intake.radiation.leg_pain_worse_than_back
    if when == "smoker":
        return factors["current_smoker"]
    if when == "obesity":
        return factors["obesity"]
    if when == "odi_56_or_less":
        odi = intake.outcomes.odi_percent
        return None if odi is None else odi <= 56
    if when == "myelopathy":
        return "myelopathic" in assessment.pattern.types or "cord_compression" in findings(intake)
    return None


def _condition(
    cat: Catalogue,
    spec: ConditionSpec,
    match: Match,
    intake: Intake,
    assessment: Assessment,
    mode: AidMode,
) -> ConditionSection:
    factors = person_factors(intake)
    options = [
        _option(cat, cat.options[o], intake.age, factors, mode, assessment.surgical.summary)
        for o in spec.options
    ]
    comparisons = [
        Comparison(
            id=c.id,
            question=c.question,
            horizon=c.horizon,
            cells=[
                ComparisonCell(
                    option_id=option_id,
                    number=sourced_number(cat, ev) if ev else None,
                    note=c.notes.get(
                        option_id, "" if ev else "No figure for this option at this time point."
                    ),
                )
                for option_id, ev in c.cells.items()
            ],
        )
        for c in spec.comparisons
    ]
    sources: set[str] = set()
    natural = []
    for s in spec.natural_course:
        nums = [sourced_number(cat, e) for e in s.evidence]
        effs = [scale_effect(cat, e) for e in s.effects]
        ids = sorted({*s.sources, *(n.source_id for n in nums), *(e.source_id for e in effs)})
        sources |= set(ids)
        natural.append(
            Statement(text=s.text, source_ids=ids, evidence_ids=[*s.evidence, *s.effects])
        )
    return ConditionSection(
        id=spec.id,
        title=spec.title,
        description=spec.description,
        why_this_applies=match.reason,
        decision=spec.decision,
        natural_course=natural,
        options=options,
        comparisons=comparisons,
        who_benefits=[
            WhoBenefits(
                text=w.text,
                applies_to_you=_applies(w, intake, assessment),
                effects=[scale_effect(cat, e) for e in w.effects],
                source_ids=list(w.sources),
            )
            for w in spec.who_benefits
        ],
        not_recommended=[
            NotRecommendedProcedure(
                id=n.id,
                name=n.name,
                reason=n.reason,
                evidence=[scale_effect(cat, e) for e in n.effects],
                numbers=[sourced_number(cat, e) for e in n.evidence],
                source_ids=list(n.sources),
            )
            for n in spec.not_recommended
        ],
        source_ids=sorted(sources),
    )


# Criteria whose absence is good news (e.g. no progressive nerve damage) are not listed as
# something "not met yet": the aid must never suggest waiting for harm.
_NOT_WAITED_FOR = frozenset({"progressive_deficit"})


def _not_yet(cat: Catalogue, assessment: Assessment) -> NotYet:
    surgical = assessment.surgical
    heading = (
        "Why surgery is not on the table yet"
        if surgical.status is CandidacyStatus.CONSERVATIVE_FIRST
        else "Why surgery is not recommended for you"
    )
    return NotYet(
        heading=heading,
        why=surgical.summary,
        unmet_criteria=[
            f"{c.label}: {c.detail}"
            for c in surgical.criteria
            if c.met is False and c.code not in _NOT_WAITED_FOR
        ],
        what_non_surgical_care_offers=[
            Statement(text=t.text, source_ids=list(t.sources)) for t in cat.content.not_yet.offers
        ],
        when_to_reconsider=[
            Statement(text=t.text, source_ids=list(t.sources))
            for t in cat.content.not_yet.reconsider
        ],
    )


_OUTCOME_WORDS = {
    "infection": "infection",
    "blood_clot": "blood clots",
    "death": "risk of dying",
    "reoperation": "another operation",
    "dural_tear": "dural tear",
}


def _how_used(cat: Catalogue, factor: str) -> str:
    outcomes = sorted(
        {_OUTCOME_WORDS.get(e.outcome, e.outcome) for e in cat.factor_effects if e.factor == factor}
    )
    if outcomes:
        return "Used for: " + ", ".join(outcomes) + "."
    if factor.startswith("age_"):
        return "Your age picks the published age group where a study reports one."
    return (
        "No published figure in our evidence base, so it is not in your numbers; it still "
        "matters, so ask your surgeon and anaesthetist."
    )


SUMMARIES: dict[AidMode, str] = {
    "emergency_first": (
        "Your answers need emergency care now. Surgery may be needed quickly, and that decision "
        "will be made with the emergency and spinal teams."
    ),
    "urgent_first": (
        "Your answers need urgent assessment by a specialist. This aid helps you prepare for "
        "that conversation."
    ),
    "not_yet": (
        "Surgery is not recommended for you at this stage. This aid explains why, what "
        "non-surgical care offers, and when it would make sense to think about surgery again."
    ),
    "outside_scope": (
        "This aid is about surgery for problems such as a trapped nerve, spinal narrowing or a "
        "fracture from weak bones. Your answers point to something else that needs medical "
        "assessment first, so the aid does not set out surgical options for you."
    ),
    "decision": (
        "A surgical opinion may be worth asking for. This aid sets out the options, including "
        "not having surgery, so you can weigh them with your surgeon."
    ),
}


def _seed_claims(cat: Catalogue, condition_ids: set[str]) -> list[SeedClaim]:
    return [
        SeedClaim(
            id=c.id,
            claim=c.claim,
            seed="; ".join(cat.seeds[seed].title for seed in c.seeds),
            verdict=c.verdict,
            evidence=c.evidence,
            source_ids=list(c.sources),
        )
        for c in cat.seed_claims
        if condition_ids and ("all" in c.aid_conditions or condition_ids & set(c.aid_conditions))
    ]


def cited_source_ids(aid: DecisionAid) -> set[str]:
    """Every source id an aid cites anywhere (numbers, effects, statements, claims)."""
    ids: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "source_id" and isinstance(item, str):
                    ids.add(item)
                elif key == "source_ids" and isinstance(item, list):
                    ids.update(str(i) for i in item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(aid.model_dump(exclude={"references"}))
    return ids


def _references(cat: Catalogue, ids: set[str]) -> list[Reference]:
    return [
        Reference(
            id=i,
            citation=cat.sources[i].citation,
            url=cat.sources[i].url,
            doi=cat.sources[i].doi,
            pmid=cat.sources[i].pmid,
            pmcid=cat.sources[i].pmcid,
            verification=cat.sources[i].verification,
        )
        for i in sorted(ids)
    ]


def build_decision_aid(intake: Intake, assessment: Assessment) -> DecisionAid:
    """The person's decision aid: options, personal numbers, values exercise, sources."""
    cat = load_catalogue()
    matches, not_covered = match_conditions(intake, assessment)
    mode = _mode(assessment) if matches else "outside_scope"
    conditions = [
        _condition(cat, cat.conditions[m.condition_id], m, intake, assessment, mode)
        for m in matches
    ]
    factors = person_factors(intake)
    content = cat.content
    decision = " ".join(c.decision for c in conditions) or (
        "There is no surgical decision to make from this aid: first get the assessment your "
        "answers call for."
    )
    if conditions and mode in ("emergency_first", "urgent_first"):
        decision = (
            "When you are seen, the spinal team will explain what they recommend and how soon. "
            f"The choice this aid describes, for later discussion, is: {decision}"
        )
    aid = DecisionAid(
        title=TITLE,
        mode=mode,
        notice=_notice(assessment, mode),
        summary=SUMMARIES[mode],
        decision=decision,
        not_yet=_not_yet(cat, assessment) if mode == "not_yet" else None,
        conditions=conditions,
        not_covered=not_covered,
        personalisation=Personalisation(
            age=intake.age,
            factors=[
                PersonFactor(
                    factor=f, label=cat.factors[f].label, present=v, how_used=_how_used(cat, f)
                )
                for f, v in factors.items()
            ],
            method=METHOD,
            limitations=list(content.what_numbers_cannot_know[2:4]),
        ),
        what_numbers_cannot_know=list(content.what_numbers_cannot_know),
        values_items=[
            ValuesItem(
                id=v.id,
                statement=v.statement,
                favours=v.favours,
                prefilled_from_priorities=v.priority is not None
                and v.priority in intake.priorities,
            )
            for v in content.values_items
        ],
        values=None,
        what_matters_note=intake.what_matters_note,
        questions_for_surgeon=list(content.questions_for_surgeon),
        second_opinion=content.second_opinion,
        seed_claims=_seed_claims(cat, {c.id for c in conditions}),
        references=[],
        meta=Meta(
            content_date=content.content_date,
            evidence_searched_to=content.evidence_searched_to,
            next_review_due=content.next_review_due,
            update_policy=content.update_policy,
            funding_and_conflicts=content.funding_and_conflicts,
            authors=content.authors,
            reading_level="",
            engine_version=assessment.engine_version,
            knowledge_version=assessment.knowledge_version,
        ),
        disclaimer=content.disclaimer,
    )
    ids = cited_source_ids(aid) | {"IPDAS-CERTIFYING-2014", "OSTELO-2008"}
    meta = aid.meta.model_copy(update={"reading_level": reading_level(aid)})
    return aid.model_copy(update={"references": _references(cat, ids), "meta": meta})
