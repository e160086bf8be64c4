"""What the web questionnaire and the interview both ask beyond the red-flag questions.

The knowledge base's red-flag questions carry their own ``ask_if`` (``questions.yaml``). The
questions on what leg pain is like are not red flags, yet the web (``web/pages/steps.py``) and the
interview (``cli/interview.py``) both ask them, so their wording and when each applies live here,
once, below both. Conditions use the knowledge base's condition language and are read as
``ask_if`` is: a question is asked unless the answers so far rule it out (unknown asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spinepath.pathway.conditions import Condition, parse

LEG_PAIN = parse("radiation.leg in [left, right, both]", where="leg pain")
"""Pain spreads into a leg. The pain patterns read the leg-pain details only under this."""

LEG_SYMPTOMS = parse(
    {
        "any": [
            "radiation.leg in [left, right, both]",
            "neurology.leg_numbness_or_tingling in [left, right, both]",
            "neurology.leg_weakness in [left, right, both]",
        ]
    },
    where="leg symptoms",
)
"""Any leg symptom: claudication may be felt as heaviness or numbness rather than pain."""


@dataclass(frozen=True)
class FollowUp:
    """A yes/no question on an earlier answer; ``path`` is its intake path and fact name."""

    path: str
    question: str
    ask_if: Condition


LEG_FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("radiation.leg_below_knee", "Does the leg pain go below the knee?", LEG_PAIN),
    FollowUp(
        "radiation.leg_pain_worse_than_back",
        "Is the leg pain worse than the back pain?",
        LEG_PAIN,
    ),
    FollowUp(
        "neurology.walking_leg_pain_eased_by_sitting",
        "Do your legs hurt or feel heavy when you walk, and ease when you sit or bend forward?",
        LEG_SYMPTOMS,
    ),
)

DurationUnit = Literal["days", "weeks"]
DURATION_UNITS: tuple[DurationUnit, ...] = ("days", "weeks")
DAYS_PER_WEEK = 7


def whole_weeks(amount: int, unit: DurationUnit) -> int:
    """A duration as the intake holds it: completed weeks (6 days is 0 weeks, 42 days is 6).

    Counting completed weeks is what the weeks question has always asked ("less than a week
    counts as 0"). It keeps every "under N weeks" and "N weeks or more" rule exact in days (41
    days is under 6 weeks, 42 days is not), so no acute-window red flag is missed; a "more than
    N weeks" rule is met from N + 1 completed weeks, as it always was for an answer in weeks.
    """
    return amount // DAYS_PER_WEEK if unit == "days" else amount
