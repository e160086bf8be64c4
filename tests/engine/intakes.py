"""Intake builders for engine tests: a fully answered "all no" base plus deep overrides."""

from __future__ import annotations

import copy
from typing import Any

from spinepath.pathway.intake import Intake


def all_no() -> dict[str, Any]:
    """A 40-year-old with 2 weeks of mild low back pain who answered no to every warning sign."""
    return {
        "age": 40,
        "sex": "female",
        "regions": [
            {
                "region": "low_back",
                "onset": "gradual",
                "duration_weeks": 2,
                "intensity": 4,
                "worse_with_movement": True,
                "not_eased_by_rest": False,
                "worse_at_night": False,
                "worse_on_straining": False,
            }
        ],
        "radiation": {
            "arm": "none",
            "leg": "none",
            "leg_below_knee": False,
            "leg_pain_worse_than_back": False,
            "sudden_onset": False,
        },
        "neurology": {
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
        },
        "cauda_equina": {
            "urinary_difficulty": False,
            "bladder_sensation_change": False,
            "urinary_incontinence": False,
            "bowel_incontinence": False,
            "saddle_numbness": False,
            "sexual_dysfunction": False,
        },
        "systemic": {
            "fever": False,
            "weight_loss": False,
            "night_sweats": False,
            "feels_unwell": False,
        },
        "history": {
            "cancer": False,
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
            "spine_surgery_wound_problem": False,
            "back_lump_or_shape_change": False,
            "known_aaa": False,
            "stiff_spine_disease": False,
        },
        "mimics": {
            "chest_pain": False,
            "breathlessness": False,
            "sweating_or_clammy": False,
            "tearing_pain": False,
            "collapse_or_faint": False,
            "abdominal_pain": False,
            "pulsating_abdominal_mass": False,
            "urinary_symptoms_with_loin_pain": False,
        },
        "inflammatory": {
            "started_before_35": False,
            "wakes_second_half_of_night": False,
            "buttock_pain": False,
            "improves_with_movement": False,
            "improves_within_48h_of_nsaid": False,
            "first_degree_relative_with_spa": False,
            "arthritis": False,
            "enthesitis": False,
            "psoriasis": False,
            "inflammatory_bowel_disease_or_uveitis": False,
        },
        # Answered no, so NSAID advice is not hedged; radiation.both_legs_since_days stays
        # unanswered because it only applies to pain in both legs.
        "health": {"anticoagulants": False, "kidney_disease": False, "pregnant": False},
    }


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def region(name: str = "low_back", **fields: Any) -> dict[str, Any]:
    """A fully answered, mechanical pain region (2 weeks, 4/10) with overrides."""
    data: dict[str, Any] = {
        "region": name,
        "onset": "gradual",
        "duration_weeks": 2,
        "intensity": 4,
        "worse_with_movement": True,
        "not_eased_by_rest": False,
        "worse_at_night": False,
        "worse_on_straining": False,
    }
    data.update(fields)
    return data


def data(**changes: Any) -> dict[str, Any]:
    """The all-no intake as a dict with nested ``changes`` merged in (lists are replaced)."""
    return _merge(all_no(), changes)


def make(**changes: Any) -> Intake:
    """The all-no intake with nested ``changes`` merged in (lists are replaced)."""
    return Intake.model_validate(data(**changes))
