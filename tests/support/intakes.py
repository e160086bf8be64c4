"""Intake factories: each intake shape the tests share is defined once, here.

- ``all_no()`` / ``data()`` / ``make()``: a fully answered adult with mild low back pain who
  answered no to every warning sign, with nested changes merged in (engine and safety tests).
- ``region()``: one fully answered, mechanical pain region.
- ``low_back_pain()``: the smallest valid intake (an age and one pain region), as API clients,
  the web pages and the command line send it.
- ``sciatica_intake()``: a fully answered sciatica after failed conservative care, with a
  matching MRI disc herniation (``data/sciatica.json``; decision-aid tests).
- ``NO_*``: every question of one section answered no, for tests that write a whole intake out.

Small one-off intakes stay inline in the test that needs them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from spinepath.pathway.intake import Intake

DATA = Path(__file__).parent / "data"

NO_RADIATION: Final[Mapping[str, Any]] = {
    "arm": "none",
    "leg": "none",
    "leg_below_knee": False,
    "leg_pain_worse_than_back": False,
    "sudden_onset": False,
}
NO_NEUROLOGY: Final[Mapping[str, Any]] = {
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
NO_CAUDA_EQUINA: Final[Mapping[str, Any]] = {
    "urinary_difficulty": False,
    "bladder_sensation_change": False,
    "urinary_incontinence": False,
    "bowel_incontinence": False,
    "saddle_numbness": False,
    "sexual_dysfunction": False,
}
NO_SYSTEMIC: Final[Mapping[str, Any]] = {
    "fever": False,
    "weight_loss": False,
    "night_sweats": False,
    "feels_unwell": False,
}
NO_HISTORY: Final[Mapping[str, Any]] = {
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
}
NO_MIMICS: Final[Mapping[str, Any]] = {
    "chest_pain": False,
    "breathlessness": False,
    "sweating_or_clammy": False,
    "tearing_pain": False,
    "collapse_or_faint": False,
    "abdominal_pain": False,
    "pulsating_abdominal_mass": False,
    "urinary_symptoms_with_loin_pain": False,
}
NO_INFLAMMATORY: Final[Mapping[str, Any]] = {
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
}


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


def all_no() -> dict[str, Any]:
    """A 40-year-old with 2 weeks of mild low back pain who answered no to every warning sign."""
    return {
        "age": 40,
        "sex": "female",
        "regions": [region()],
        "radiation": dict(NO_RADIATION),
        "neurology": dict(NO_NEUROLOGY),
        "cauda_equina": dict(NO_CAUDA_EQUINA),
        "systemic": dict(NO_SYSTEMIC),
        "history": dict(NO_HISTORY),
        "mimics": dict(NO_MIMICS),
        "inflammatory": dict(NO_INFLAMMATORY),
        # Answered no, so NSAID advice is not hedged; radiation.both_legs_since_days stays
        # unanswered because it only applies to pain in both legs.
        "health": {"anticoagulants": False, "kidney_disease": False, "pregnant": False},
    }


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def data(**changes: Any) -> dict[str, Any]:
    """The all-no intake as a dict with nested ``changes`` merged in (lists are replaced)."""
    return _merge(all_no(), changes)


def make(**changes: Any) -> Intake:
    """The all-no intake with nested ``changes`` merged in (lists are replaced)."""
    return Intake.model_validate(data(**changes))


def low_back_pain(*, weeks: int = 2, intensity: int = 5, **changes: Any) -> dict[str, Any]:
    """An adult of 40 with low back pain and nothing else answered; ``changes`` replace whole
    top-level fields (``regions`` included, which then ignores ``weeks`` and ``intensity``)."""
    intake: dict[str, Any] = {
        "age": 40,
        "regions": [{"region": "low_back", "duration_weeks": weeks, "intensity": intensity}],
    }
    intake.update(changes)
    return intake


def cauda_equina_symptoms() -> dict[str, Any]:
    """Low back pain with saddle numbness and difficulty passing urine (an emergency)."""
    return low_back_pain(cauda_equina={"saddle_numbness": True, "urinary_difficulty": True})


def sciatica_intake(**overrides: Any) -> Intake:
    """A sciatica intake (disc herniation that matches) with any top-level field overridden."""
    raw: dict[str, Any] = json.loads((DATA / "sciatica.json").read_text(encoding="utf-8"))
    raw.update(overrides)
    return Intake.model_validate(raw)
