"""What the per-person engine decided, in the columns of the population pathway, to compare the
two row for row."""

from __future__ import annotations

from typing import Any

from spinepath.pathway.assessment import Assessment

STAGES = [
    "level",
    "concerns",
    "pattern",
    "candidacy",
    "imaging_indicated",
    "referral_due",
    "startback_group",
    "still_to_ask",
    "care_plan",
    "not_recommended",
    "review_after_weeks",
]
"""The decision columns compared (concerns sorted: their order is not part of the decision)."""


def engine_stages(a: Assessment) -> dict[str, Any]:
    """The engine's assessment as one row of the population pathway's decision columns."""
    plan = a.care_plan
    return {
        "level": a.triage.level.value,
        "concerns": sorted(c.code for c in a.concerns),
        "pattern": a.pattern.primary,
        "candidacy": a.surgical.status.value,
        "imaging_indicated": a.imaging.indicated,
        "referral_due": a.surgical.status.value == "refer_surgical_opinion",
        "startback_group": a.startback.risk_group,
        # The population pathway lists the questions that could change the urgency level.
        "still_to_ask": [
            q.fact for q in a.triage.still_to_ask if any(e.level is not None for e in q.effects)
        ],
        "care_plan": [i.id for i in [*plan.now, *plan.self_management, *plan.prevention]],
        "not_recommended": [i.id for i in plan.not_recommended],
        "review_after_weeks": plan.next_step.review_after_weeks,
    }


def decided_rows(frame: Any) -> list[dict[str, Any]]:
    """A decision table's rows in ``STAGES`` order, concerns sorted."""
    rows: list[dict[str, Any]] = frame.select(STAGES).to_dicts()
    for row in rows:
        row["concerns"] = sorted(row["concerns"])
    return rows


def without_nulls(value: Any) -> Any:
    """The same intake with every unanswered field left out rather than written as null."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value
