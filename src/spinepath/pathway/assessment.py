"""The versioned output of an assessment. Codes are stable; wording may improve between releases.

Every item carries ``rule_ids`` (knowledge-base entries that produced it) and ``facts`` (the
input facts those rules read), so a clinician can see why spinepath said what it said.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ASSESSMENT_VERSION: Literal["2"] = "2"

FactValue = bool | int | float | str | None


class Level(StrEnum):
    """How urgently to seek care, least to most urgent."""

    SELF_CARE = "self_care"
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


class LevelRank(IntEnum):
    SELF_CARE = 0
    ROUTINE = 1
    SOON = 2
    URGENT = 3
    EMERGENCY = 4


_LEVEL_RANK = {level: LevelRank[level.name].value for level in Level}


def most_urgent(levels: list[Level]) -> Level:
    return max(levels, key=lambda level: level.rank)


class CandidacyStatus(StrEnum):
    NOT_INDICATED = "not_indicated"
    CONSERVATIVE_FIRST = "conservative_first"
    REFER_SURGICAL_OPINION = "refer_surgical_opinion"
    URGENT_SURGICAL = "urgent_surgical"
    EMERGENCY_SURGICAL = "emergency_surgical"


class OutModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Explained(OutModel):
    """Anything the engine says, with the rules and input facts behind it."""

    rule_ids: list[str] = Field(default_factory=list)
    facts: dict[str, FactValue] = Field(default_factory=dict)
    sources: list[str] = Field(
        default_factory=list, description="Source ids; `spinepath kb show SOURCE_ID` cites them."
    )


class Finding(Explained):
    text: str


class AnswerEffect(OutModel):
    """What one answer to an unanswered question would change."""

    answer: str = Field(description="The answer in words: yes, no, left, 13 or fewer, ...")
    level: Level | None = Field(
        default=None, description="The urgency this answer would give, when it differs."
    )
    status: CandidacyStatus | None = Field(
        default=None, description="The surgical status this answer would give, when it differs."
    )
    rule_ids: list[str] = Field(default_factory=list)


class Question(OutModel):
    """An unanswered question whose answer could change the urgency or the surgical status.

    Questions whose every possible answer leads to the same result are not listed: the result
    already holds whatever the answer.
    """

    fact: str
    question: str
    could_raise_to: Level | None = Field(
        description="The most urgent level an answer could give, when above the current one."
    )
    effects: list[AnswerEffect]
    rule_ids: list[str]

    def consequences(self) -> str:
        """What the answers would change, in words: ``if yes: urgent; if no: routine``."""
        parts = []
        for effect in self.effects:
            changes = []
            if effect.level is not None:
                changes.append(effect.level.value.replace("_", " "))
            if effect.status is not None:
                changes.append(f"surgical status {effect.status.value.replace('_', ' ')}")
            parts.append(f"if {effect.answer}: {', '.join(changes)}")
        return "; ".join(parts)


class Triage(OutModel):
    level: Level
    headline: str
    instructions: list[str]
    reasons: list[Finding]
    still_to_ask: list[Question]
    safety_net: list[str]


class Concern(Explained):
    """A category of serious pathology the findings can point to (never a diagnosis)."""

    code: str
    label: str
    level: Level
    summary: str
    findings: list[Finding]
    referral_route: str


PatternType = Literal[
    "non_specific", "radicular", "neurogenic_claudication", "myelopathic", "thoracic_referred"
]
DurationClass = Literal["acute", "subacute", "chronic"]


class PainPattern(Explained):
    regions: list[str]
    duration_weeks: int
    duration_class: DurationClass
    duration_definition: str
    types: list[PatternType]
    primary: PatternType
    description: str


class StartBackResult(Explained):
    """The STarT Back result; when it was not completed, the risk is not known (never "low")."""

    total: int | None
    psychosocial: int | None
    risk_group: Literal["low", "medium", "high"] | None = Field(
        description="null when the tool was not completed: the risk is not known."
    )
    matched_care: str


class PlanItem(Explained):
    id: str
    text: str


class NotRecommended(Explained):
    id: str
    item: str
    reason: str


class NextStep(Explained):
    review_after_weeks: int
    text: str


class CarePlan(OutModel):
    now: list[PlanItem]
    next_step: NextStep
    self_management: list[PlanItem]
    prevention: list[PlanItem]
    not_recommended: list[NotRecommended]


class ImagingAdvice(Explained):
    indicated: bool
    timing: Literal["none", "immediate", "within_24_hours", "within_1_week", "after_trial_of_care"]
    modality: str | None
    reason: str


class Criterion(Explained):
    code: str
    label: str
    met: bool | None = Field(description="null when the answers do not tell.")
    detail: str


class SurgicalCandidacy(Explained):
    status: CandidacyStatus
    summary: str
    criteria: list[Criterion]
    referral_route: str | None
    still_to_ask: list[Question] = Field(
        default_factory=list,
        description="Unanswered questions whose answers could change the status, and to what.",
    )


class TraceEntry(OutModel):
    output: str = Field(description="Dotted path of the output item, e.g. `triage.level`.")
    rule_ids: list[str]
    facts: dict[str, FactValue]


class Assessment(OutModel):
    assessment_version: Literal["2"] = ASSESSMENT_VERSION
    engine_version: str
    knowledge_version: str
    notice: str
    triage: Triage
    concerns: list[Concern]
    pattern: PainPattern
    startback: StartBackResult
    care_plan: CarePlan
    imaging: ImagingAdvice
    surgical: SurgicalCandidacy
    trace: list[TraceEntry]
