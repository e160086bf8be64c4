"""The decision aid as data: a versioned, documented output model (JSON schema via pydantic).

Every number is a :class:`SourcedNumber`: a value per ``denominator`` people, a time horizon, the
population it was measured in, its uncertainty, and the source id and date it came from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spinepath.evidence.models import Design, UncertaintyKind, Verdict, Verification

DECISION_AID_VERSION: Literal["1"] = "1"
DENOMINATOR = 100
"""Every natural frequency in an aid uses this denominator, so options compare like for like."""

Leaning = Literal["leaning_surgery", "unsure", "leaning_non_surgical"]
OptionKind = Literal["non_surgical", "surgical", "procedure"]
HarmCategory = Literal[
    "infection",
    "dural_tear",
    "nerve_injury",
    "blood_clot",
    "anaesthesia_medical",
    "no_improvement",
    "reoperation",
    "death",
    "slower_recovery",
    "later_surgery",
    "other",
]
AidMode = Literal["emergency_first", "urgent_first", "decision", "not_yet", "outside_scope"]


class OutModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Uncertainty(OutModel):
    low: float | None = Field(description="Lower end, per `denominator` (null if not reported).")
    high: float | None = Field(description="Upper end, per `denominator` (null if not reported).")
    kind: UncertaintyKind
    note: str = ""


class SourcedNumber(OutModel):
    """A proportion shown as a natural frequency: `value` out of `denominator` people."""

    id: str = Field(description="Evidence id in the decision-aid data files.")
    label: str
    value: float = Field(ge=0, description="People per `denominator` (so 2.3 = 2.3 in 100).")
    denominator: int = DENOMINATOR
    horizon: str = Field(description="Time period the number covers, e.g. '4 years'.")
    population: str = Field(description="Who the number was measured in.")
    design: Design = Field(
        description="How it was measured: randomised, as treated, observational."
    )
    source_id: str
    source_date: str = Field(description="Publication year of the source.")
    uncertainty: Uncertainty
    verification: Verification
    words: str = Field(description="The number in words, e.g. 'About 2 in 100 people'.")


class ScaleEffect(OutModel):
    """A difference in average score between groups (not a count of people)."""

    id: str
    label: str
    measure: str
    effect: float
    ci_low: float | None
    ci_high: float | None
    horizon: str
    population: str
    design: Design
    source_id: str
    source_date: str
    verification: Verification
    meaning: str = Field(description="What the difference means in plain words.")


class Duration(OutModel):
    id: str
    label: str
    text: str
    source_ids: list[str]
    verification: Verification


class Statement(OutModel):
    """A sentence of evidence with the sources it rests on."""

    text: str
    source_ids: list[str] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list)


class AppliedFactor(OutModel):
    factor: str
    label: str
    measure: Literal["RR", "OR", "RR_derived"]
    value: float
    ci_low: float | None
    ci_high: float | None
    applied_ratio: float = Field(description="Multiplier used (OR converted to RR at baseline).")
    source_id: str
    note: str = ""


class Harm(OutModel):
    id: str
    category: HarmCategory
    label: str
    explanation: str
    baseline: SourcedNumber | None
    personal_value: float | None = Field(description="Baseline adjusted for your factors.")
    personal_low: float | None
    personal_high: float | None
    factors_applied: list[AppliedFactor] = Field(default_factory=list)
    personal_words: str | None = None
    effects: list[ScaleEffect] = Field(default_factory=list)
    durations: list[Duration] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)
    no_number_reason: str | None = None


class Benefit(OutModel):
    id: str
    label: str
    explanation: str
    numbers: list[SourcedNumber] = Field(default_factory=list)
    effects: list[ScaleEffect] = Field(default_factory=list)
    durations: list[Duration] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)


class Recovery(OutModel):
    hospital_stay: str
    return_to_work: str
    rehabilitation: str
    source_ids: list[str]


class NiceStatus(OutModel):
    guidance: str
    status: str
    source_id: str


class Option(OutModel):
    id: str
    name: str
    kind: OptionKind
    involves: str
    performed_by: str
    anaesthesia: str
    nice_status: NiceStatus | None
    benefits: list[Benefit]
    harms: list[Harm]
    recovery: Recovery
    experience: str = Field(description="What it is like to live through this option.")
    shown_as: Literal["option", "for_later", "not_safe_to_wait"] = "option"
    shown_as_reason: str = ""


class ComparisonCell(OutModel):
    option_id: str
    number: SourcedNumber | None
    note: str = ""


class Comparison(OutModel):
    """One outcome, the same denominator and time horizon for every option in the row."""

    id: str
    question: str
    horizon: str
    denominator: int = DENOMINATOR
    cells: list[ComparisonCell]


class WhoBenefits(OutModel):
    text: str
    applies_to_you: bool | None
    effects: list[ScaleEffect] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)


class NotRecommendedProcedure(OutModel):
    id: str
    name: str
    reason: str
    evidence: list[ScaleEffect] = Field(default_factory=list)
    numbers: list[SourcedNumber] = Field(default_factory=list)
    source_ids: list[str]


class ConditionSection(OutModel):
    id: str
    title: str
    description: str
    why_this_applies: str
    decision: str
    natural_course: list[Statement]
    options: list[Option]
    comparisons: list[Comparison]
    who_benefits: list[WhoBenefits]
    not_recommended: list[NotRecommendedProcedure] = Field(default_factory=list)
    source_ids: list[str]


class SeedClaim(OutModel):
    id: str
    claim: str
    seed: str
    verdict: Verdict
    evidence: str
    source_ids: list[str]


class Notice(OutModel):
    headline: str
    instructions: list[str]
    reasons: list[str] = Field(default_factory=list, description="Symptoms to mention.")


class NotYet(OutModel):
    """Why surgery is not (yet) on the table, what non-surgical care offers, when to reconsider."""

    heading: str
    why: str
    unmet_criteria: list[str]
    what_non_surgical_care_offers: list[Statement]
    when_to_reconsider: list[Statement]


class ValuesItem(OutModel):
    id: str
    statement: str
    favours: Literal["surgery", "non_surgical", "neither"]
    prefilled_from_priorities: bool = False


class ValuesAnswer(OutModel):
    item_id: str
    importance: int = Field(ge=0, le=4, description="0 = not important, 4 = very important.")


class RecordedValues(OutModel):
    answers: list[ValuesAnswer]
    leaning: Leaning
    note: str | None = None


class PersonFactor(OutModel):
    factor: str
    label: str
    present: bool | None
    how_used: str


class Personalisation(OutModel):
    age: int
    factors: list[PersonFactor]
    method: str
    limitations: list[str]


class Meta(OutModel):
    content_date: str
    evidence_searched_to: str
    next_review_due: str
    update_policy: str
    funding_and_conflicts: str
    authors: str
    reading_level: str
    engine_version: str
    knowledge_version: str


class Reference(OutModel):
    id: str
    citation: str
    url: str | None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    verification: Verification


class DecisionAid(OutModel):
    """A personalised decision aid about back surgery (IPDAS-structured)."""

    decision_aid_version: Literal["1"] = DECISION_AID_VERSION
    title: str
    mode: AidMode
    notice: Notice | None = Field(description="Shown first: emergency or urgent advice.")
    summary: str
    decision: str
    not_yet: NotYet | None
    conditions: list[ConditionSection]
    not_covered: list[str]
    personalisation: Personalisation
    what_numbers_cannot_know: list[str]
    values_items: list[ValuesItem]
    values: RecordedValues | None
    what_matters_note: str | None
    questions_for_surgeon: list[str]
    second_opinion: str
    seed_claims: list[SeedClaim]
    references: list[Reference]
    meta: Meta
    disclaimer: str
