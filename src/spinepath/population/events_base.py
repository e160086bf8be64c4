"""What every kind of care event shares: the person's case, the figures read once, the codes.

The figures are read from the plan once per generator, not once per person: a million people
would otherwise spend most of their time looking them up.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spinepath.population.care_codes import coded
from spinepath.population.care_plan import FOLLOW_UPS, STARTBACK_GROUPS, CarePlan, Clinic
from spinepath.population.generate import Json

Row = tuple[Any, ...]
Rows = dict[str, list[Row]]
"""Rows drawn so far, by table, each a tuple in the order of the table's columns."""

RADICULAR = frozenset({"radiculopathy", "stenosis", "cervical_radiculopathy"})
"""Subgroups with nerve-root or canal pain (the imaging and baseline-disability group)."""
SCIATICA = frozenset({"radiculopathy", "stenosis", "cauda_equina"})
"""Subgroups with leg symptoms from the lumbar spine."""
URGENT = frozenset({"cauda_equina", "cancer", "infection"})
"""Subgroups referred for a surgical opinion the same or the next day."""


def between(r: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` inclusive (``randint`` costs several times more)."""
    return low + int(r.random() * (high - low + 1))


def pick(r: random.Random, options: tuple[str, ...]) -> str:
    return options[int(r.random() * len(options))]


@dataclass(slots=True)
class Case:
    """What the draws for one person share: who, where, when, and the intake's main facts.

    Dates are whole days since 1970-01-01, the way Parquet and Polars store a date."""

    person_id: str
    subgroup: str
    intake: Json
    clinic: Clinic
    region: str
    weeks: int
    band: str
    group: str
    diagnosed: int
    assessed: int
    setting: str


class Coder:
    """(system URI, code) for a code id of ``care_codes.yaml``, looked up once each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[str, tuple[str, str]] = {}

    def __call__(self, code_id: str) -> tuple[str, str]:
        found = self._cache.get(code_id)
        if found is None:
            found = self._cache[code_id] = coded(code_id, self.path)
        return found


def _ints(values: Mapping[str, float]) -> dict[str, int]:
    return {key: int(value) for key, value in values.items()}


@dataclass(frozen=True)
class EventFigures:
    """The care-event figures as the draws use them."""

    acute_below: int
    chronic_above: int
    same_day_share: float
    assessment_delay_max: int
    prior_episode: dict[str, float]
    found_within_28_days: float
    condition_timing: dict[str, int]
    background: dict[str, float]
    early_last_day: int
    late_last_day: int
    prescriptions: dict[str, float]
    days_supply: dict[str, int]
    prescription_timing: dict[str, int]
    steroid_prescriptions: dict[str, int]
    exercise: dict[str, float]
    psychological: dict[str, float]
    procedures: dict[str, float]
    procedure_timing: dict[str, int]
    surgical_referral: dict[str, float]
    referral_timing: dict[str, int]
    opinion: dict[str, float]
    sciatica_surgery: float
    surgery_after_opinion: dict[str, float]
    surgery_wait: dict[str, int]
    physiotherapy: dict[str, float]
    pain_service: float
    prom_due: dict[str, int]
    prom_delay_max: int
    baseline_disability: dict[str, float]
    baseline_extra: dict[str, float]
    improvement: dict[str, float]
    non_responder: dict[str, float]
    noise: dict[str, float]

    @classmethod
    def read(cls, plan: CarePlan) -> EventFigures:
        bands = plan.mix("duration_bands_weeks", ("acute_below", "chronic_above"))
        delay = plan.mix("assessment_delay_days", ("same_day_share", "max_days"))
        return cls(
            acute_below=int(bands["acute_below"]),
            chronic_above=int(bands["chronic_above"]),
            same_day_share=delay["same_day_share"],
            assessment_delay_max=int(delay["max_days"]),
            prior_episode=plan.mix("prior_episode", ("share", "min_gap_days", "max_gap_days")),
            found_within_28_days=plan.share("condition_found_within_28_days_share"),
            condition_timing=_ints(plan.mix("condition_timing_days", _CONDITION_TIMING)),
            background=plan.mix("condition_background_shares", _BACKGROUND),
            early_last_day=int(plan.share("imaging_early_window_days")),
            late_last_day=int(plan.share("imaging_late_window_last_day")),
            prescriptions=plan.mix("prescription_shares", _PRESCRIPTIONS),
            days_supply=_ints(plan.mix("prescription_days_supply", _DAYS_SUPPLY)),
            prescription_timing=_ints(
                plan.mix("prescription_timing_days", ("first_line_max", "opioid_max"))
            ),
            steroid_prescriptions=_ints(
                plan.mix("long_term_steroid_prescriptions", ("min", "max"))
            ),
            exercise=plan.mix("exercise_programme_share", STARTBACK_GROUPS),
            psychological=plan.mix("psychological_programme_share", ("high", "other")),
            procedures=plan.mix("procedure_shares", _PROCEDURES),
            procedure_timing=_ints(plan.mix("procedure_timing_days", _PROCEDURE_TIMING)),
            surgical_referral=plan.mix("surgical_referral_share", ("other",)),
            referral_timing=_ints(plan.mix("surgical_referral_timing_days", _REFERRAL_TIMING)),
            opinion=plan.mix("surgical_opinion", _OPINION),
            sciatica_surgery=plan.share("sciatica_surgery_share"),
            surgery_after_opinion=plan.mix("surgery_share_after_opinion", ("other",)),
            surgery_wait=_ints(plan.mix("surgery_wait_days", ("min", "max"))),
            physiotherapy=plan.mix("physiotherapy_referral_share", STARTBACK_GROUPS),
            pain_service=plan.share("pain_service_referral_share"),
            prom_due=_ints(plan.mix("prom_due_days", FOLLOW_UPS)),
            prom_delay_max=int(plan.share("prom_completion_max_delay_days")),
            baseline_disability=plan.mix("prom_baseline_disability", _BASELINE),
            baseline_extra=plan.mix("prom_baseline_extra", ("radicular", "serious", "axial_spa")),
            improvement=plan.mix("prom_improvement", (*FOLLOW_UPS, *_IMPROVEMENT)),
            non_responder=plan.mix("prom_non_responder_share", STARTBACK_GROUPS),
            noise=plan.mix("prom_noise", ("disability_sd", "pain_sd", "non_responder_sd")),
        )


_CONDITION_TIMING = (
    "history_min",
    "history_max",
    "iv_drug_use_max",
    "recent_trauma_max",
    "old_trauma_min",
    "old_trauma_max",
    "trauma_resolves",
    "found_late_max",
    "axial_spa_min",
    "axial_spa_max",
    "recent_surgery_min",
    "recent_surgery_max",
    "old_surgery_min",
    "palliative_min",
    "palliative_max",
)
_BACKGROUND = (
    "old_trauma",
    "lumbar_spondylosis",
    "unasked_history",
    "hiv_if_immunosuppressed",
    "transplant_if_immunosuppressed",
    "palliative_if_cancer",
    "hospice_if_cancer",
)
_PRESCRIPTIONS = (
    "nsaid",
    "paracetamol",
    "gabapentinoid_sciatica",
    "gabapentinoid_other",
    "benzodiazepine",
    "antidepressant_chronic",
    "antidepressant_other",
    "short_corticosteroid",
    "osteoporosis_therapy",
)
_DAYS_SUPPLY = (
    "opioid_acute",
    "opioid_chronic",
    "nsaid",
    "paracetamol",
    "gabapentinoid",
    "benzodiazepine",
    "antidepressant",
    "short_corticosteroid",
    "long_corticosteroid",
    "osteoporosis_therapy",
)
_PROCEDURES = (
    "manual_therapy",
    "spinal_injection",
    "epidural_injection_sciatica",
    "radiofrequency_denervation_chronic",
)
_PROCEDURE_TIMING = (
    "programme_min",
    "programme_max",
    "injection_min",
    "injection_max",
    "rfd_min",
    "rfd_max",
)
_REFERRAL_TIMING = ("urgent_max", "routine_min", "routine_max")
_OPINION = ("seen_share", "median_wait_days", "wait_spread", "urgent_wait_max_days")
_BASELINE = (*STARTBACK_GROUPS, "sd", "per_pain_point")
_IMPROVEMENT = ("person_sd", "high_risk_factor", "chronic_factor")
