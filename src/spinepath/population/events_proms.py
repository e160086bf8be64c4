"""Outcome questionnaires (PROMs) for a generated person: due dates, completion, scores.

Each person has a disability questionnaire for the painful region (the ODI for low back pain,
the NDI for neck pain; none is validated for upper-back pain) and a 0-10 pain rating, due at the
assessment (baseline) and at each follow-up. The instrument ids are those of spinepath's
instrument registry, and each score is on the instrument's own scale (ODI 0-100 %, NDI 0-50
points, pain 0-10), within the scale's bounds.

Disability is drawn as a percentage of the scale's maximum: a baseline by STarT Back group, pain
intensity and subgroup; then, for a responder, a share of it recovered by each follow-up (less
for high risk and chronic pain, varying per person); a non-responder stays about where they
were. The baseline pain rating is the intake's own rating of the main region.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from spinepath.instruments import catalogue
from spinepath.population.care_plan import TIMEPOINTS
from spinepath.population.events_base import RADICULAR, Case, EventFigures, Rows, between
from spinepath.population.generate import SERIOUS

PROM_INSTRUMENTS = {
    "low_back": ("odi", "nrs_back"),
    "neck": ("ndi", "nrs_neck"),
    "upper_back": ("nrs_back",),
}
"""The questionnaires each region's people answer, by instrument id of the registry."""

# ODI % is the 0-50 section sum times 2, so it moves in steps of 2; the NDI is the 0-50 total.
_DISABILITY_STEP = {"odi": 2.0, "ndi": 1.0}


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float


class PromDraws:
    """Draws the ``proms`` rows of one person at a time."""

    def __init__(self, figures: EventFigures) -> None:
        self.f = figures
        self.scales = {
            code: _Scale(d.scoring.primary_min, d.scoring.primary_max)
            for code, d in (
                (code, catalogue.get(code)) for codes in PROM_INSTRUMENTS.values() for code in codes
            )
        }

    def add(self, r: random.Random, case: Case, rows: Rows) -> None:
        instruments = PROM_INSTRUMENTS[case.region]
        disability = self._baseline(r, case)
        pain = float(case.intake["regions"][0]["intensity"])
        responder = r.random() >= self.f.non_responder[case.group]
        pace = self._pace(r, case)
        for timepoint in TIMEPOINTS:
            due = case.assessed + self.f.prom_due.get(timepoint, 0)
            if r.random() >= case.clinic.p(f"prom:{timepoint}"):
                for instrument in instruments:
                    rows["proms"].append((case.person_id, instrument, timepoint, due, None, None))
                continue
            recovered = 0.0
            completed = due
            if timepoint != "baseline":
                completed = due + between(r, 0, self.f.prom_delay_max)
                recovered = self._recovered(r, timepoint, responder, pace)
            for instrument in instruments:
                score = self._score(r, instrument, disability, pain, recovered, timepoint)
                rows["proms"].append((case.person_id, instrument, timepoint, due, completed, score))

    def _baseline(self, r: random.Random, case: Case) -> float:
        """Baseline disability, as a percentage of the scale's maximum."""
        base, extra = self.f.baseline_disability, self.f.baseline_extra
        intensity = float(case.intake["regions"][0]["intensity"])
        mean = base[case.group] + base["per_pain_point"] * (intensity - 5.0)
        if case.subgroup in RADICULAR or case.subgroup == "cauda_equina":
            mean += extra["radicular"]
        elif case.subgroup in SERIOUS:
            mean += extra["serious"]
        elif case.subgroup == "axial_spa":
            mean += extra["axial_spa"]
        return min(100.0, max(0.0, r.gauss(mean, base["sd"])))

    def _pace(self, r: random.Random, case: Case) -> float:
        """How fast this person recovers, relative to the figure for a typical responder."""
        improvement = self.f.improvement
        pace = max(0.0, r.gauss(1.0, improvement["person_sd"]))
        if case.group == "high":
            pace *= improvement["high_risk_factor"]
        if case.band == "chronic":
            pace *= improvement["chronic_factor"]
        return pace

    def _recovered(self, r: random.Random, timepoint: str, responder: bool, pace: float) -> float:
        if responder:
            return min(1.0, self.f.improvement[timepoint] * pace)
        return r.gauss(0.0, self.f.noise["non_responder_sd"])

    def _score(
        self,
        r: random.Random,
        instrument: str,
        disability: float,
        pain: float,
        recovered: float,
        timepoint: str,
    ) -> float:
        scale = self.scales[instrument]
        step = _DISABILITY_STEP.get(instrument)
        if step is not None:
            percent = disability * (1.0 - recovered) + r.gauss(0.0, self.f.noise["disability_sd"])
            value = step * round(percent / 100.0 * scale.high / step)
        elif timepoint == "baseline":
            value = pain
        else:
            value = round(pain * (1.0 - recovered) + r.gauss(0.0, self.f.noise["pain_sd"]))
        return float(min(scale.high, max(scale.low, value)))
