"""The values-clarification exercise: what matters most, and the person's leaning."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from spinepath.decision_aid.models import DecisionAid, Leaning, RecordedValues, ValuesAnswer

IMPORTANCE_LABELS = ("Not important", "A little", "Moderately", "Very", "Extremely")


class ValuesAnswers(BaseModel):
    """A person's answers: importance 0-4 per values item, and which way they are leaning."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    importance: dict[str, int] = Field(
        default_factory=dict, description="values item id -> 0 (not important) .. 4 (extremely)."
    )
    leaning: Leaning
    note: str | None = Field(default=None, max_length=1000)


class UnknownValuesItemError(ValueError):
    """The answers name a values item the aid does not have."""


def with_values(aid: DecisionAid, answers: ValuesAnswers) -> DecisionAid:
    """The aid with the person's answers and leaning recorded. Leaning is theirs, never inferred."""
    known = [item.id for item in aid.values_items]
    unknown = sorted(set(answers.importance) - set(known))
    if unknown:
        raise UnknownValuesItemError(
            f"importance: unknown values item {unknown[0]!r}; expected one of {', '.join(known)}"
        )
    for item_id, value in answers.importance.items():
        if not 0 <= value <= 4:
            raise ValueError(f"importance.{item_id}: must be 0-4, got {value}")
    recorded = RecordedValues(
        answers=[
            ValuesAnswer(item_id=i, importance=answers.importance[i])
            for i in known
            if i in answers.importance
        ],
        leaning=answers.leaning,
        note=answers.note,
    )
    return aid.model_copy(update={"values": recorded})
