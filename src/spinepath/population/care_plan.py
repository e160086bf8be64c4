"""The care-event figures of ``cohort.yaml`` made ready to draw, and the clinics with their
practice styles.

Every clinic draws its own propensity for each practice style (imaging, opioids, risk
stratification, spinal injections, PROM follow-up) as an offset on the log-odds scale around
the cohort figure. The offsets are re-centred for each figure so that, over the cohort's mix of
clinics, the expected share is still the figure: the clinics differ, the cohort does not drift.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from spinepath.population.generate import COHORT_FILE, Choice, CohortError, Figure, load_cohort

PRACTICE_STYLES = ("imaging", "opioid", "stratification", "injection", "prom_completion")
"""Practice styles that vary between clinics as a share; referral waits vary as a factor."""

IMAGING_GROUPS = ("non_specific", "non_specific_red_flag", "radicular", "axial_spa", "serious")
DURATION_BANDS = ("acute", "subacute", "chronic")
FOLLOW_UPS = ("6_weeks", "3_months", "12_months")
TIMEPOINTS = ("baseline", *FOLLOW_UPS)
STARTBACK_GROUPS = ("low", "medium", "high", "unanswered")


@dataclass(frozen=True)
class CareSettings:
    """What the command line chooses: how many clinics, and the measurement year."""

    clinics: int = 40
    year: int = 2025

    def __post_init__(self) -> None:
        if self.clinics < 1:
            raise ValueError(f"clinics must be 1 or more, not {self.clinics}")
        if not 1900 <= self.year <= 2200:
            raise ValueError(f"year must be from 1900 to 2200, not {self.year}")


@dataclass(frozen=True)
class CarePlan:
    """The care-event figures by name, checked for the keys the generator reads."""

    figures: Mapping[str, Figure]

    def share(self, name: str) -> float:
        return self._figure(name).share()

    def mix(self, name: str, keys: Sequence[str] = ()) -> dict[str, float]:
        """The mapping figure ``name``; ``CohortError`` naming a missing key of ``keys``."""
        values = self._figure(name).mix()
        missing = [key for key in keys if key not in values]
        if missing:
            raise CohortError(f"cohort.yaml: figure {name} lacks {', '.join(missing)}")
        return values

    def days(self, name: str, key: str) -> int:
        return int(self.mix(name, (key,))[key])

    def choice(self, name: str) -> Choice:
        return Choice(self.mix(name))

    def _figure(self, name: str) -> Figure:
        if name not in self.figures:
            raise CohortError(f"cohort.yaml: no figure {name}")
        return self.figures[name]


@cache
def care_plan(path: Path = COHORT_FILE) -> CarePlan:
    return CarePlan(load_cohort(path).figures)


@dataclass(frozen=True)
class Clinic:
    """One clinic: its id and its own share for every clinic-varying figure."""

    clinic_id: str
    shares: Mapping[str, float]
    wait_factor: float

    def p(self, key: str) -> float:
        return self.shares[key]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def calibrated(share: float, offsets: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Each clinic's share: ``share`` moved by the clinic's log-odds offset, all shifted by one
    amount so that the weighted mean over clinics is ``share`` again (found by bisection)."""
    if share <= 0.0 or share >= 1.0:
        return [share] * len(offsets)
    base = _logit(share)

    def mean(shift: float) -> float:
        return sum(w * _expit(base + shift + z) for w, z in zip(weights, offsets, strict=True))

    low, high = -40.0, 40.0
    for _ in range(60):
        middle = (low + high) / 2
        if mean(middle) < share:
            low = middle
        else:
            high = middle
    shift = (low + high) / 2
    return [_expit(base + shift + z) for z in offsets]


def clinic_varying_shares(plan: CarePlan) -> dict[str, tuple[str, float]]:
    """Every figure that varies by clinic: key → (practice style, cohort share)."""
    shares: dict[str, tuple[str, float]] = {}
    for window in ("imaging_within_28_days", "imaging_days_29_to_60"):
        for group, value in plan.mix(window, IMAGING_GROUPS).items():
            shares[f"{window}:{group}"] = ("imaging", value)
    for band, value in plan.mix("opioid_share_by_duration", DURATION_BANDS).items():
        shares[f"opioid:{band}"] = ("opioid", value)
    shares["stratification"] = ("stratification", plan.share("risk_stratification_recorded_share"))
    injection = plan.mix("procedure_shares", ("spinal_injection",))["spinal_injection"]
    shares["spinal_injection"] = ("injection", injection)
    for timepoint, value in plan.mix("prom_completion_share", TIMEPOINTS).items():
        shares[f"prom:{timepoint}"] = ("prom_completion", value)
    return shares


def clinic_id(number: int, count: int) -> str:
    """``c001``, ``c002``, …: zero-padded so ids sort in order, at least three digits."""
    return f"c{number:0{max(3, len(str(count)))}d}"


def build_clinics(seed: int, count: int, plan: CarePlan) -> tuple[list[Clinic], list[float]]:
    """``count`` clinics and their shares of the people, drawn from their own stream of ``seed``."""
    r = random.Random(f"{seed}:clinics")  # noqa: S311 - synthetic data, not security
    spread = plan.share("clinic_size_spread")
    sizes = [r.lognormvariate(0.0, spread) for _ in range(count)]
    total = sum(sizes)
    weights = [size / total for size in sizes]
    variation = plan.mix("clinic_practice_variation", (*PRACTICE_STYLES, "referral_wait"))
    offsets = {
        style: [r.gauss(0.0, variation[style]) for _ in range(count)] for style in PRACTICE_STYLES
    }
    waits = [math.exp(r.gauss(0.0, variation["referral_wait"])) for _ in range(count)]
    per_key = {
        key: calibrated(share, offsets[style], weights)
        for key, (style, share) in clinic_varying_shares(plan).items()
    }
    clinics = [
        Clinic(
            clinic_id=clinic_id(i + 1, count),
            shares={key: values[i] for key, values in per_key.items()},
            wait_factor=waits[i],
        )
        for i in range(count)
    ]
    return clinics, weights
