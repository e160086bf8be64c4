"""Reading stored assessments back, across output versions."""

from __future__ import annotations

from spinepath.pathway.assessment import ASSESSMENT_VERSION, Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store.models import AssessmentRecord


def load_assessment(record: AssessmentRecord) -> Assessment:
    """The stored assessment, or, when it was stored in an earlier output version whose shape no
    longer reads as the current one, the same intake assessed again."""
    if record.assessment.get("assessment_version") != ASSESSMENT_VERSION:
        return assess(Intake.model_validate(record.intake))
    return Assessment.model_validate(record.assessment)
