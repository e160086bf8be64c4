"""The knowledge base's model: every entry kind, validated on load (pydantic)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from spinepath.evidence.models import SeedClaim, Source
from spinepath.pathway.assessment import CandidacyStatus, Level
from spinepath.pathway.conditions import Condition, parse
from spinepath.pathway.facts import FactTerms, fact_domains
from spinepath.pathway.intake import ImagingFinding, Intake, RegionPain, TreatmentType


class KnowledgeError(ValueError):
    """The knowledge base cannot be loaded; the message names the file and entry."""


def _condition(value: object) -> Condition:
    if isinstance(value, Condition):
        return value
    return parse(value)


Cond = Annotated[Condition, BeforeValidator(_condition)]
SourceRefs = Annotated[list[str], Field(min_length=1)]


class Entry(BaseModel):
    # Validators are built on first validation, not at import: a knowledge base read back from
    # the command line's cache (spinepath.cache) is never validated again.
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True
    )


class Referral(Entry):
    id: str
    label: str
    emergency: bool = Field(
        default=False,
        description="Yes for routes that mean 999 or A&E now; emergency rules need one.",
    )
    sources: SourceRefs


class ConcernDef(Entry):
    code: str
    label: str
    summary: str
    referral: str
    sources: SourceRefs


class Derived(Entry):
    id: str
    when: Cond
    sources: SourceRefs


AnswerKind = Literal["yes_no", "choice", "whole_number"]


@dataclass(frozen=True)
class AnswerFormat:
    """How a question is answered, read from the intake model so that YAML never restates it."""

    kind: AnswerKind
    values: tuple[str, ...] = ()
    """The answers a choice allows, in the intake model's order."""
    minimum: int | None = None
    maximum: int | None = None


class QuestionDef(Entry):
    """A red-flag question as the web questionnaire and the interview ask it, in asking order.

    The answer format comes from the intake model (``answer``); the YAML adds only what a person
    reads: the question, a hint, the words for each choice, the unit of a number.
    """

    fact: str
    screen: Literal["emergency", "red_flag"]
    group: str = Field(min_length=1, description="Heading over consecutive questions.")
    question: str
    hint: str | None = None
    choices: dict[str, str] | None = Field(
        default=None, description="Words shown for each answer; the keys are the intake's values."
    )
    unit: str | None = Field(default=None, description="The unit of a whole-number answer.")
    ask_if: Cond | None = Field(
        default=None,
        description="Asked only when this is not no for the answers so far (unknown asks).",
    )

    @property
    def answer(self) -> AnswerFormat:
        found = answer_format(self.fact)
        if found is None:
            raise KnowledgeError(f"Q:{self.fact}: not an answer of the intake")
        return found


def _intake_property(fact: str) -> dict[str, Any] | None:
    """The JSON schema of the intake field a fact comes from (``pain.*``: every pain region's)."""
    section, _, name = fact.partition(".")
    model: type[BaseModel] | None = RegionPain if section == "pain" else None
    field = Intake.model_fields.get(section)
    if model is None and field is not None and isinstance(field.annotation, type):
        model = field.annotation if issubclass(field.annotation, BaseModel) else None
    if model is None:
        return None
    prop = _properties(model).get(name)
    if prop is None:
        return None
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    return options[0] if len(options) == 1 else None


@cache
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    properties: dict[str, Any] = model.model_json_schema()["properties"]
    return properties


@cache
def answer_format(fact: str) -> AnswerFormat | None:
    """The answer format of a fact a person gives, or None when no question can ask it."""
    domain = fact_domains().get(fact)
    if domain is None:
        return None
    if domain.kind == "bool":
        # Includes facts flattened from another shape, such as pain.sudden_onset from onsets.
        return AnswerFormat("yes_no")
    prop = _intake_property(fact)
    if prop is None:
        return None
    if "enum" in prop:
        return AnswerFormat("choice", values=tuple(str(v) for v in prop["enum"]))
    if prop.get("type") == "integer":
        return AnswerFormat(
            "whole_number", minimum=prop.get("minimum"), maximum=prop.get("maximum")
        )
    return None


class Evidence(Entry):
    """Why a red flag raises the level: its diagnostic value, or the guideline that says so."""

    strength: Literal["strong", "combination"] = Field(
        description="strong: acts alone; combination: weak flags that act only together."
    )
    kind: Literal["post_test_probability", "likelihood_ratio", "guideline"]
    source: str
    summary: str = Field(min_length=20)


class RedFlagRule(Entry):
    id: str
    version: int = Field(ge=1)
    concern: str | None
    level: Level
    finding: str
    when: Cond
    evidence: Evidence
    sources: SourceRefs
    referral: str | None = Field(
        default=None, description="Where to go when this rule fires; defaults to the concern's."
    )


class LevelText(Entry):
    headline: str
    instructions: list[str]
    safety_net: list[str]


class LevelRule(Entry):
    id: str
    version: int = Field(ge=1)
    level: Level
    finding: str
    when: Cond
    sources: SourceRefs


class UnansweredFloor(Entry):
    emergency: Level
    red_flag: Level
    finding: str = Field(pattern=r"\{count\}")
    emergency_instruction: str
    sources: SourceRefs


class Levels(Entry):
    texts: dict[Level, LevelText]
    where_to_go: str = Field(pattern=r"\{route\}")
    unanswered_floor: UnansweredFloor
    rules: list[LevelRule]


class PatternDef(Entry):
    id: Literal[
        "myelopathic", "neurogenic_claudication", "radicular", "thoracic_referred", "non_specific"
    ]
    version: int = Field(ge=1)
    description: str
    when: Cond
    sources: SourceRefs


class DurationDef(Entry):
    definition: str
    acute_below_weeks: int
    chronic_above_weeks: int
    sources: SourceRefs


class Patterns(Entry):
    duration: DurationDef
    undetermined: str
    types: list[PatternDef]


class CareItem(Entry):
    id: str
    version: int = Field(ge=1)
    text: str
    when: Cond
    sources: SourceRefs


class NextStepRule(CareItem):
    review_after_weeks: int = Field(ge=0)


class NotRecommendedItem(Entry):
    id: str
    version: int = Field(ge=1)
    item: str
    reason: str
    when: Cond
    sources: SourceRefs


STARTBACK_GROUPS = ("low", "medium", "high")


class StartBackCare(Entry):
    """What each STarT Back risk group is matched to, and what to say when it is not known."""

    low: str
    medium: str
    high: str
    not_known: str
    sources: SourceRefs

    def matched(self, risk: str) -> str:
        return {"low": self.low, "medium": self.medium, "high": self.high}[risk]


class ConservativeCare(Entry):
    """Treatments that count towards an adequate trial of active conservative care."""

    types: list[TreatmentType] = Field(min_length=1)
    sources: SourceRefs


class Care(Entry):
    startback: StartBackCare
    conservative: ConservativeCare
    now: list[CareItem]
    self_management: list[CareItem]
    prevention: list[CareItem]
    next_step: list[NextStepRule]
    not_recommended: list[NotRecommendedItem]


class ImagingRule(Entry):
    id: str
    version: int = Field(ge=1)
    when: Cond
    indicated: bool
    timing: Literal["none", "immediate", "within_24_hours", "within_1_week", "after_trial_of_care"]
    modality: str | None
    reason: str
    sources: SourceRefs


class CriterionDef(Entry):
    code: str
    version: int = Field(ge=1)
    label: str
    detail: str
    when: Cond
    sources: SourceRefs


class StatusRule(Entry):
    id: str
    version: int = Field(ge=1)
    status: CandidacyStatus
    referral: str | None
    summary: str
    when: Cond
    sources: SourceRefs


class SurgicalLesions(Entry):
    """Imaging findings an operation can treat; concordance asks whether one fits the symptoms."""

    findings: list[ImagingFinding] = Field(min_length=1)
    sources: SourceRefs


class Surgery(Entry):
    lesions: SurgicalLesions
    criteria: list[CriterionDef]
    statuses: list[StatusRule]


class Meta(Entry):
    notice: str = Field(min_length=40, description="Shown with every assessment.")
    version: str
    reviewed: str
    review_policy: str


# Every kind of entry as (kind, where its entries sit, the field that names one, the prefix of
# its id). The order is the order of `KnowledgeBase.entries`, which `kb check` reports in.
_ENTRY_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("source", "sources", "id", ""),
    ("referral", "referrals", "id", ""),
    ("concern", "concerns", "code", ""),
    ("derived", "derived", "id", ""),
    ("question", "questions", "fact", "Q:"),
    ("red_flag", "red_flags", "id", ""),
    ("level", "levels.rules", "id", ""),
    ("pattern", "patterns.types", "id", "PT-"),
    ("care.now", "care.now", "id", ""),
    ("care.self_management", "care.self_management", "id", ""),
    ("care.prevention", "care.prevention", "id", ""),
    ("care.next_step", "care.next_step", "id", ""),
    ("care.not_recommended", "care.not_recommended", "id", ""),
    ("imaging", "imaging", "id", ""),
    ("surgical_criterion", "surgery.criteria", "code", "SC-"),
    ("surgical_status", "surgery.statuses", "id", ""),
    ("seed_claim", "seed_claims", "id", ""),
)


class KnowledgeBase(Entry):
    meta: Meta
    content_hash: str
    sources: dict[str, Source]
    referrals: dict[str, Referral]
    concerns: dict[str, ConcernDef]
    derived: list[Derived]
    questions: list[QuestionDef]
    red_flags: list[RedFlagRule]
    levels: Levels
    patterns: Patterns
    care: Care
    imaging: list[ImagingRule]
    surgery: Surgery
    seed_claims: list[SeedClaim]

    @property
    def fact_terms(self) -> FactTerms:
        """The groupings ``flatten`` needs, as this knowledge base defines them."""
        return FactTerms(
            conservative_care=frozenset(self.care.conservative.types),
            surgical_lesions=frozenset(self.surgery.lesions.findings),
        )

    @property
    def version(self) -> str:
        return f"{self.meta.version}+{self.content_hash[:12]}"

    def entries(self) -> Iterator[tuple[str, str, Entry]]:
        """Every entry as (kind, id, entry), for lookup, display and validation."""
        for kind, where, name, prefix in _ENTRY_TABLE:
            collection = attrgetter(where)(self)
            items = collection.values() if isinstance(collection, dict) else collection
            for entry in items:
                key = getattr(entry, name)
                yield kind, f"{prefix}{key}" if prefix else key, entry

    def find(self, entry_id: str) -> tuple[str, Entry] | None:
        for kind, key, entry in self.entries():
            if key == entry_id:
                return kind, entry
        return None


# Facts the engine adds while it works; rules may read them.
ENGINE_FACTS = frozenset(
    {
        "triage.rank",
        "imaging.indicated",
        "surgical.referral_due",
        "surgical.status",
    }
)
