"""Assessments stored in an earlier output version still open (assessed again from the intake)."""

from __future__ import annotations

import json
from pathlib import Path

from spinepath.pathway.assessment import ASSESSMENT_VERSION
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store.models import AssessmentRecord
from spinepath.web.stored import load_assessment

EXAMPLE = Path(__file__).parents[2] / "examples" / "unanswered-red-flags-soon.json"


def _record(assessment: dict[str, object], intake: dict[str, object]) -> AssessmentRecord:
    return AssessmentRecord(intake=intake, assessment=assessment)


def test_it_reads_an_assessment_stored_in_the_current_version_as_stored() -> None:
    intake = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    stored = json.loads(assess(Intake.model_validate(intake)).model_dump_json())
    stored["triage"]["headline"] = "as stored"
    assert load_assessment(_record(stored, intake)).triage.headline == "as stored"


def test_it_assesses_again_an_assessment_stored_in_an_earlier_version() -> None:
    intake = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    old: dict[str, object] = {
        "assessment_version": "1",
        "triage": {"still_to_ask": [{"if_yes": "emergency"}]},
    }
    loaded = load_assessment(_record(old, intake))
    assert loaded.assessment_version == ASSESSMENT_VERSION
    assert loaded.triage.still_to_ask
