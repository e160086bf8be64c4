"""Adjusting baseline complication risks for a person's factors with published relative risks.

Method (stated in every aid):

* personal risk = baseline risk x RR1 x RR2 x ..., for each factor the person has whose
  published effect on that complication was statistically significant;
* odds ratios are converted to relative risks at the baseline risk p0 with
  RR = OR / (1 - p0 + p0 x OR) (Zhang & Yu, JAMA 1998), because multiplying a risk by an odds
  ratio overstates it when the risk is not small;
* the range runs from the low end of the baseline range times each factor's lower confidence
  limit to the high end times each upper limit; where a source gives no interval, the low end
  assumes no effect (x1) and the high end uses the point estimate;
* results are capped at ``CAP`` people in 100.

A factor never lowers a risk: every multiplier used is at least 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from spinepath.decision_aid.catalogue import Catalogue, FactorEffectSpec
from spinepath.decision_aid.models import AppliedFactor, HarmCategory, SourcedNumber
from spinepath.pathway.intake import Intake

CAP = 95.0
OBESITY_BMI = 30.0

METHOD = (
    "Your figures start from the published risk for people having this operation (the "
    "baseline). For each factor you told us about that a published study linked to that "
    "complication, the baseline is multiplied by the study's relative risk. Odds ratios are "
    "first converted to relative risks at the baseline risk (RR = OR / (1 - p0 + p0 x OR)). "
    "The range uses the ends of the baseline range and of each study's 95% confidence "
    f"interval; where no interval was published the low end assumes no effect. Figures are "
    f"capped at {CAP:g} in 100. Factors are treated as independent, which can overstate the "
    "risk when they overlap."
)

FactorValues = Mapping[str, bool | None]


def bmi_of(intake: Intake) -> float | None:
    health = intake.health
    if health.bmi is not None:
        return health.bmi
    if health.height_cm and health.weight_kg:
        metres = health.height_cm / 100
        return round(health.weight_kg / (metres * metres), 1)
    return None


def person_factors(intake: Intake) -> dict[str, bool | None]:
    """The personal factors the aid considers; ``None`` where the intake does not tell."""
    health = intake.health
    bmi = bmi_of(intake)
    smoking = health.smoking
    return {
        "diabetes": health.diabetes,
        "obesity": None if bmi is None else bmi >= OBESITY_BMI,
        "current_smoker": None if smoking is None else smoking == "current",
        "prior_spine_surgery": intake.history.prior_spine_surgery,
        "kidney_disease": health.kidney_disease,
        "heart_disease": health.heart_disease,
        "lung_disease": health.lung_disease,
        "anticoagulants": health.anticoagulants,
        "age_65_plus": intake.age >= 65,
        "age_75_plus": intake.age >= 75,
        "age_80_plus": intake.age >= 80,
    }


def or_to_rr(odds_ratio: float, baseline_percent: float) -> float:
    """Zhang & Yu (1998) conversion of an odds ratio to a relative risk at baseline p0."""
    p0 = min(max(baseline_percent / 100, 0.0), 0.999)
    return odds_ratio / (1 - p0 + p0 * odds_ratio)


def _ratio(effect: FactorEffectSpec, value: float, baseline_percent: float) -> float:
    ratio = or_to_rr(value, baseline_percent) if effect.measure == "OR" else value
    return max(1.0, ratio)


class Adjusted:
    """A baseline risk adjusted for a person's factors."""

    def __init__(self, value: float, low: float, high: float, applied: list[AppliedFactor]) -> None:
        self.value = value
        self.low = low
        self.high = high
        self.applied = applied


def effects_for(cat: Catalogue, category: HarmCategory) -> list[FactorEffectSpec]:
    return [e for e in cat.factor_effects if e.outcome == category]


def adjust(
    cat: Catalogue, baseline: SourcedNumber, category: HarmCategory, factors: FactorValues
) -> Adjusted:
    p0 = baseline.value
    base_low = baseline.uncertainty.low if baseline.uncertainty.low is not None else p0
    base_high = baseline.uncertainty.high if baseline.uncertainty.high is not None else p0
    base_low, base_high = min(base_low, p0), max(base_high, p0)
    point, low, high = p0, base_low, base_high
    applied: list[AppliedFactor] = []
    for effect in effects_for(cat, category):
        if factors.get(effect.factor) is not True:
            continue
        ratio = _ratio(effect, effect.value, p0)
        low_ratio = _ratio(effect, effect.ci[0], p0) if effect.ci else 1.0
        high_ratio = _ratio(effect, effect.ci[1], p0) if effect.ci else ratio
        point *= ratio
        low *= low_ratio
        high *= max(high_ratio, ratio)
        applied.append(
            AppliedFactor(
                factor=effect.factor,
                label=cat.factors[effect.factor].label,
                measure=effect.measure,
                value=effect.value,
                ci_low=effect.ci[0] if effect.ci else None,
                ci_high=effect.ci[1] if effect.ci else None,
                applied_ratio=round(ratio, 3),
                source_id=effect.source,
                note=effect.note,
            )
        )
    return Adjusted(
        value=round(min(point, CAP), 2),
        low=round(min(low, CAP), 2),
        high=round(min(high, CAP), 2),
        applied=applied,
    )
