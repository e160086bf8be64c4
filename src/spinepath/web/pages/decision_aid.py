"""The surgery decision aid on the result page, and the patient's values-clarification answers."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from spinepath.assessment import Assessment
from spinepath.store.models import AssessmentRecord, Patient


@dataclass(frozen=True)
class DecisionAidView:
    available: bool
    html: str | None = None
    leaning: str | None = None


def decision_aid_section(
    session: Session, patient: Patient, record: AssessmentRecord, assessment: Assessment
) -> DecisionAidView:
    try:
        importlib.import_module("spinepath.decision_aid").build_decision_aid  # noqa: B018
    except (ImportError, AttributeError):
        return DecisionAidView(available=False)
    return DecisionAidView(available=False)
