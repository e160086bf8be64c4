"""Snapshots of the JSON assessment and the text report for four fixed intakes.

The knowledge version (a hash of the knowledge files) is replaced by a placeholder so harmless
knowledge-base edits do not churn the snapshots; rule content is kept, so a changed rule shows up.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console
from syrupy.assertion import SnapshotAssertion

from spinepath.cli.report import print_assessment
from spinepath.pathway.assessment import Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake

PLACEHOLDER = "<knowledge-version>"

_ALL_NO_NEURO = {
    "arm_numbness_or_tingling": "none",
    "leg_numbness_or_tingling": "none",
    "arm_weakness": "none",
    "leg_weakness": "none",
    "foot_drop": False,
    "progressing": False,
    "gait_change": False,
    "hand_clumsiness": False,
    "electric_shocks_on_neck_bending": False,
    "walking_leg_pain_eased_by_sitting": False,
}
_ALL_NO_CES = {
    "urinary_difficulty": False,
    "bladder_sensation_change": False,
    "urinary_incontinence": False,
    "bowel_incontinence": False,
    "saddle_numbness": False,
    "sexual_dysfunction": False,
}
_ALL_NO_SYSTEMIC = {
    "fever": False,
    "weight_loss": False,
    "night_sweats": False,
    "feels_unwell": False,
}
_ALL_NO_HISTORY = {
    "cancer": False,
    "known_aaa": False,
    "stiff_spine_disease": False,
    "trauma": "none",
    "osteoporosis": False,
    "previous_fragility_fracture": False,
    "long_term_steroids": False,
    "immunosuppression": False,
    "iv_drug_use": False,
    "recent_infection": False,
    "recent_spinal_procedure": False,
    "tuberculosis": False,
    "prior_spine_surgery": False,
    "back_lump_or_shape_change": False,
}
_ALL_NO_MIMICS = {
    "chest_pain": False,
    "breathlessness": False,
    "sweating_or_clammy": False,
    "tearing_pain": False,
    "collapse_or_faint": False,
    "abdominal_pain": False,
    "pulsating_abdominal_mass": False,
    "urinary_symptoms_with_loin_pain": False,
}

INTAKES: dict[str, dict[str, Any]] = {
    "emergency_cauda_equina": {
        "age": 45,
        "sex": "male",
        "regions": [
            {
                "region": "low_back",
                "onset": "sudden",
                "duration_weeks": 1,
                "intensity": 8,
                "worse_with_movement": True,
                "not_eased_by_rest": False,
                "worse_at_night": False,
                "worse_on_straining": True,
            }
        ],
        "radiation": {"arm": "none", "leg": "left", "leg_below_knee": True},
        "neurology": {**_ALL_NO_NEURO, "leg_numbness_or_tingling": "left"},
        "cauda_equina": {
            **_ALL_NO_CES,
            "urinary_difficulty": True,
            "saddle_numbness": True,
            "onset_days": 2,
        },
        "systemic": _ALL_NO_SYSTEMIC,
        "history": _ALL_NO_HISTORY,
        "mimics": _ALL_NO_MIMICS,
    },
    "urgent_cancer_history_thoracic_pain": {
        "age": 62,
        "sex": "female",
        "regions": [
            {
                "region": "upper_back",
                "onset": "gradual",
                "duration_weeks": 3,
                "intensity": 5,
                "worse_with_movement": True,
                "not_eased_by_rest": False,
                "worse_at_night": False,
                "worse_on_straining": False,
            }
        ],
        "radiation": {"arm": "none", "leg": "none"},
        "neurology": _ALL_NO_NEURO,
        "cauda_equina": _ALL_NO_CES,
        "systemic": _ALL_NO_SYSTEMIC,
        "history": {**_ALL_NO_HISTORY, "cancer": True},
        "mimics": _ALL_NO_MIMICS,
    },
    "routine_sciatica": {
        "age": 38,
        "sex": "female",
        "regions": [
            {
                "region": "low_back",
                "onset": "gradual",
                "duration_weeks": 4,
                "intensity": 6,
                "worse_with_movement": True,
                "not_eased_by_rest": False,
                "worse_at_night": False,
                "worse_on_straining": False,
            }
        ],
        "radiation": {
            "arm": "none",
            "leg": "right",
            "leg_below_knee": True,
            "leg_pain_worse_than_back": True,
            "sudden_onset": False,
        },
        "neurology": {**_ALL_NO_NEURO, "leg_numbness_or_tingling": "right"},
        "cauda_equina": _ALL_NO_CES,
        "systemic": _ALL_NO_SYSTEMIC,
        "history": _ALL_NO_HISTORY,
        "mimics": _ALL_NO_MIMICS,
        "startback": {
            "q1": True,
            "q2": False,
            "q3": True,
            "q4": True,
            "q5": False,
            "q6": False,
            "q7": False,
            "q8": False,
            "q9": "moderately",
        },
        "treatments_tried": [{"type": "nsaid", "weeks": 3, "response": "partial"}],
        "health": {"smoking": "never", "anticoagulants": False, "kidney_disease": False},
        "work_status": "working",
    },
    "self_care_acute_low_back_pain": {
        "age": 29,
        "sex": "male",
        "regions": [
            {
                "region": "low_back",
                "onset": "sudden",
                "duration_weeks": 1,
                "intensity": 5,
                "worse_with_movement": True,
                "not_eased_by_rest": False,
                "worse_at_night": False,
                "worse_on_straining": False,
            }
        ],
        "radiation": {"arm": "none", "leg": "none"},
        "neurology": _ALL_NO_NEURO,
        "cauda_equina": _ALL_NO_CES,
        "systemic": _ALL_NO_SYSTEMIC,
        "history": _ALL_NO_HISTORY,
        "mimics": _ALL_NO_MIMICS,
        "startback": {
            "q1": False,
            "q2": False,
            "q3": True,
            "q4": False,
            "q5": False,
            "q6": False,
            "q7": False,
            "q8": False,
            "q9": "slightly",
        },
        "health": {"smoking": "current", "anticoagulants": False, "kidney_disease": False},
        "work_status": "working",
    },
}
EXPECTED_LEVEL = {
    "emergency_cauda_equina": "emergency",
    "urgent_cancer_history_thoracic_pain": "urgent",
    "routine_sciatica": "routine",
    "self_care_acute_low_back_pain": "self_care",
}


def _assess(name: str) -> Assessment:
    return assess(Intake.model_validate(INTAKES[name]))


def _report_text(a: Assessment) -> str:
    console = Console(record=True, width=100, color_system=None, file=io.StringIO())
    print_assessment(a, console)
    return console.export_text().replace(a.knowledge_version, PLACEHOLDER)


@pytest.mark.parametrize("name", sorted(INTAKES))
def test_it_assesses_each_snapshot_intake_at_its_intended_level(name: str) -> None:
    assert _assess(name).triage.level.value == EXPECTED_LEVEL[name]


@pytest.mark.parametrize("name", sorted(INTAKES))
def test_it_keeps_the_json_assessment_stable(name: str, snapshot: SnapshotAssertion) -> None:
    data = json.loads(_assess(name).model_dump_json())
    data["knowledge_version"] = PLACEHOLDER
    assert data == snapshot


@pytest.mark.parametrize("name", sorted(INTAKES))
def test_it_keeps_the_text_report_stable(name: str, snapshot: SnapshotAssertion) -> None:
    text = _report_text(_assess(name))
    assert PLACEHOLDER in text
    assert text == snapshot
