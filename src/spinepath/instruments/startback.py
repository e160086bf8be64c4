"""Keele STarT Back Screening Tool (9-item): answers and published scoring.

Scoring (Keele): total = sum of items 1-9 (0-9); psychosocial subscale = items 5-9 (0-5).
High risk if the subscale is 4 or 5; otherwise total 0-3 is low and 4-9 is medium risk.
Items 1-8 score 1 for "agree"; item 9 scores 1 only for "very much" or "extremely".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Bothersomeness = Literal["not_at_all", "slightly", "moderately", "very_much", "extremely"]
RiskGroup = Literal["low", "medium", "high"]

_BOTHERSOME_SCORING_ONE: frozenset[str] = frozenset({"very_much", "extremely"})


class StartBackAnswers(BaseModel):
    """Item answers: ``True`` means the person agreed with item N (1-8)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    q1: bool
    q2: bool
    q3: bool
    q4: bool
    q5: bool
    q6: bool
    q7: bool
    q8: bool
    q9: Bothersomeness


class StartBackScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int = Field(ge=0, le=9)
    psychosocial: int = Field(ge=0, le=5)
    risk_group: RiskGroup


def item_scores(answers: StartBackAnswers) -> tuple[int, ...]:
    agree = (answers.q1, answers.q2, answers.q3, answers.q4, answers.q5, answers.q6, answers.q7)
    return (*(int(a) for a in agree), int(answers.q8), int(answers.q9 in _BOTHERSOME_SCORING_ONE))


def risk_group(total: int, psychosocial: int) -> RiskGroup:
    if psychosocial >= 4:
        return "high"
    return "low" if total <= 3 else "medium"


def score(answers: StartBackAnswers) -> StartBackScore:
    items = item_scores(answers)
    total = sum(items)
    psychosocial = sum(items[4:])
    return StartBackScore(
        total=total, psychosocial=psychosocial, risk_group=risk_group(total, psychosocial)
    )


def licence_notice() -> str:
    """Keele's copyright and funding statement, to show wherever the tool is displayed."""
    from spinepath.instruments import catalogue

    return catalogue.get("startback").licence.notice
