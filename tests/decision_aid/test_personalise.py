"""Personalisation: published relative risks applied to baseline risks, never lowering a risk."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.decision_aid import build_decision_aid
from spinepath.decision_aid.catalogue import load_catalogue
from spinepath.decision_aid.models import DecisionAid, Harm
from spinepath.decision_aid.personalise import CAP, adjust, or_to_rr, person_factors
from support.intakes import sciatica_intake

from .helpers import make_assessment

RISK_FACTORS = (
    "diabetes",
    "obesity",
    "current_smoker",
    "prior_spine_surgery",
    "kidney_disease",
    "heart_disease",
    "lung_disease",
    "anticoagulants",
    "older",
)
SITUATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "sciatica": ({"imaging": []}, "radicular"),
    "neck": (
        {
            "imaging": [],
            "regions": [{"region": "neck", "duration_weeks": 10, "intensity": 6}],
            "radiation": {"arm": "left"},
        },
        "radicular",
    ),
    "thoracic": (
        {
            "imaging": [{"modality": "mri", "finding": "disc_herniation"}],
            "regions": [{"region": "upper_back", "duration_weeks": 10, "intensity": 6}],
        },
        "myelopathic",
    ),
    "stenosis": (
        {"imaging": [{"modality": "mri", "finding": "spinal_stenosis", "matches_symptoms": True}]},
        "neurogenic_claudication",
    ),
    "spondylolisthesis": (
        {
            "imaging": [
                {"modality": "mri", "finding": "spondylolisthesis", "matches_symptoms": True}
            ]
        },
        "neurogenic_claudication",
    ),
}


def _intake_with(factors: frozenset[str], age: int, imaging: dict[str, Any]) -> Any:
    health: dict[str, Any] = {
        "smoking": "current" if "current_smoker" in factors else "never",
        "bmi": 34.0 if "obesity" in factors else 24.0,
        "diabetes": "diabetes" in factors,
        "kidney_disease": "kidney_disease" in factors,
        "heart_disease": "heart_disease" in factors,
        "lung_disease": "lung_disease" in factors,
        "anticoagulants": "anticoagulants" in factors,
    }
    history = {"prior_spine_surgery": "prior_spine_surgery" in factors}
    older = min(120, age + 20) if "older" in factors else age
    return sciatica_intake(age=older, health=health, history=history, **imaging)


def _harms(aid: DecisionAid) -> dict[tuple[str, str, str], Harm]:
    return {(c.id, o.id, h.id): h for c in aid.conditions for o in c.options for h in o.harms}


def _aid(factors: frozenset[str], age: int, situation: str) -> DecisionAid:
    imaging, primary = SITUATIONS[situation]
    return build_decision_aid(
        _intake_with(factors, age, imaging),
        make_assessment(primary=primary),  # type: ignore[arg-type]
    )


@settings(max_examples=60, deadline=None)
@given(
    base=st.frozensets(st.sampled_from(RISK_FACTORS)),
    added=st.sampled_from(RISK_FACTORS),
    age=st.integers(min_value=16, max_value=100),
    situation=st.sampled_from(sorted(SITUATIONS)),
)
def test_adding_a_risk_factor_never_lowers_any_complication_risk(
    base: frozenset[str], added: str, age: int, situation: str
) -> None:
    before = _harms(_aid(base, age, situation))
    after = _harms(_aid(base | {added}, age, situation))
    assert before.keys() == after.keys()
    for key, harm in before.items():
        other = after[key]
        if harm.personal_value is None:
            assert other.personal_value is None
            continue
        assert other.personal_value is not None
        assert other.personal_value >= harm.personal_value, key
        assert (other.personal_low or 0) >= (harm.personal_low or 0), key
        assert (other.personal_high or 0) >= (harm.personal_high or 0), key


@settings(max_examples=40, deadline=None)
@given(odds_ratio=st.floats(1.0, 20.0), baseline=st.floats(0.0, 99.0))
def test_an_odds_ratio_of_one_or_more_converts_to_a_relative_risk_between_one_and_the_or(
    odds_ratio: float, baseline: float
) -> None:
    rr = or_to_rr(odds_ratio, baseline)
    assert 1.0 <= rr <= odds_ratio + 1e-9


def test_odds_ratio_conversion_follows_zhang_and_yu() -> None:
    # RR = OR / (1 - p0 + p0 * OR): OR 2 at a 10% baseline is 2 / 1.1.
    assert or_to_rr(2.0, 10.0) == pytest.approx(2 / 1.1)
    assert or_to_rr(3.15, 0.35) == pytest.approx(3.15 / (1 - 0.0035 + 0.0035 * 3.15))


def test_diabetes_multiplies_the_wound_infection_risk_by_the_published_relative_risk() -> None:
    aid = build_decision_aid(
        sciatica_intake(health={"diabetes": True, "smoking": "never", "bmi": 24.0}),
        make_assessment(),
    )
    harm = _harms(aid)[("lumbar_disc_herniation", "microdiscectomy", "infection")]
    assert harm.baseline is not None
    assert harm.baseline.value == 3.5  # Bombieri 2020, microdiscectomy
    # Zhang & Li 2018: diabetes RR 2.19 (1.43-3.36); baseline range 1.2-3.5 across techniques
    assert harm.personal_value == pytest.approx(3.5 * 2.19, abs=0.01)
    assert harm.personal_low == pytest.approx(1.2 * 1.43, abs=0.01)
    assert harm.personal_high == pytest.approx(3.5 * 3.36, abs=0.01)
    assert [f.source_id for f in harm.factors_applied] == ["ZHANG-LI-2018-SSI"]


def test_no_factor_leaves_the_personal_risk_equal_to_the_baseline(
    sciatica_aid: DecisionAid,
) -> None:
    for harm in _harms(sciatica_aid).values():
        if harm.baseline is not None:
            assert harm.personal_value == harm.baseline.value
            assert harm.factors_applied == []


def test_medical_complications_after_decompression_follow_the_published_age_bands() -> None:
    expected = {40: 8, 70: 11, 80: 27, 90: 45}  # Umekawa 2019: 20-64, 65-74, 75-84, 85+
    for age, published in expected.items():
        aid = _aid(frozenset(), age, "stenosis")
        harm = _harms(aid)[("lumbar_spinal_stenosis", "lumbar_decompression", "medical")]
        assert harm.baseline is not None
        assert harm.baseline.value == published, age


def test_personal_risks_are_capped() -> None:
    cat = load_catalogue()
    from spinepath.decision_aid.numbers import sourced_number

    baseline = sourced_number(cat, "umekawa-medical-85-plus")
    everything = dict.fromkeys(cat.factors, True)
    adjusted = adjust(cat, baseline, "infection", everything)
    assert adjusted.value <= CAP
    assert adjusted.high <= CAP


def test_unknown_factors_are_not_treated_as_absent_or_present() -> None:
    intake = sciatica_intake(health={}, history={})
    factors = person_factors(intake)
    assert factors["diabetes"] is None
    assert factors["obesity"] is None
    assert factors["current_smoker"] is None


def test_body_mass_index_is_worked_out_from_height_and_weight() -> None:
    factors = person_factors(sciatica_intake(health={"height_cm": 170.0, "weight_kg": 90.0}))
    assert factors["obesity"] is True  # 90 / 1.7^2 = 31.1


@pytest.mark.parametrize(
    ("value", "ci", "message"),
    [
        (0.89, (0.75, 1.06), "greater than or equal to 1"),
        (1.2, (0.9, 1.5), "CI includes no effect"),
    ],
)
def test_the_catalogue_refuses_factors_that_would_lower_a_risk(
    value: float, ci: tuple[float, float], message: str
) -> None:
    from pydantic import ValidationError

    from spinepath.decision_aid.catalogue import FactorEffectSpec

    with pytest.raises(ValidationError, match=message):
        FactorEffectSpec(
            factor="current_smoker",
            outcome="infection",
            measure="RR",
            value=value,
            ci=ci,
            source="ZHANG-LI-2018-SSI",
            population="test",
        )
