"""Coded conditions for a generated person, consistent with the intake and the subgroup.

Three sources, each with its own timing relative to the diagnosis date (so that the measures'
look-back windows see conditions on both sides of their bounds):

* the intake's history (cancer, osteoporosis, a fragility fracture, injecting drug use,
  immunosuppression, a recent spinal procedure, a slip or fall): recorded before the episode;
* the serious or specific pathology of the subgroup (fracture, metastasis, spinal infection,
  cauda equina, axial SpA, stenosis) and neurological weakness: found during or after it;
* a small background: an old injury, lumbar spondylosis, and a history question the person left
  unanswered that is nonetheless on record.

A condition is never drawn against an intake answer of "no".
"""

from __future__ import annotations

import random

from spinepath.population.events_base import Case, Coder, EventFigures, Rows, between, pick

_CANCERS = ("condition.cancer_breast", "condition.cancer_prostate", "condition.cancer_lung")
_SPINAL_INFECTIONS = (
    "condition.osteomyelitis_vertebra",
    "condition.disc_infection",
    "condition.discitis",
)
_TRAUMA = {"low_back": "condition.trauma_lumbar", "neck": "condition.trauma_cervical"}
# A history question left unanswered may still be on record: intake key → condition.
_UNASKED_HISTORY = {
    "cancer": ("cancer", "condition.cancer_breast"),
    "osteoporosis": ("osteoporosis", "condition.osteoporosis"),
    "iv_drug_use": ("iv_drug_use", "condition.iv_drug_use"),
    "immunosuppression": ("hiv", "condition.hiv"),
    "prior_spine_surgery": ("lumbar_surgery", "condition.lumbar_surgery"),
}


class ConditionDraws:
    """Draws the ``conditions`` rows of one person at a time."""

    def __init__(self, figures: EventFigures, code: Coder) -> None:
        self.f = figures
        self.timing = figures.condition_timing
        self.code = code

    def add(self, r: random.Random, case: Case, rows: Rows) -> None:
        self._history(r, case, rows)
        self._unasked(r, case, rows)
        self._found(r, case, rows)
        self._neurological(r, case, rows)
        self._background(r, case, rows)

    def _row(
        self, rows: Rows, case: Case, category: str, code_id: str, recorded: int, ended: int | None
    ) -> None:
        system, code = self.code(code_id)
        rows["conditions"].append((case.person_id, category, system, code, recorded, ended))

    def _before(self, r: random.Random, case: Case, low: int, high: int) -> int:
        return case.diagnosed - between(r, low, high)

    def _long_ago(self, r: random.Random, case: Case) -> int:
        return self._before(r, case, self.timing["history_min"], self.timing["history_max"])

    def _history(self, r: random.Random, case: Case, rows: Rows) -> None:
        history = case.intake["history"]
        if history.get("cancer") is True:
            self._row(rows, case, "cancer", pick(r, _CANCERS), self._long_ago(r, case), None)
        if history.get("osteoporosis") is True:
            code = "condition.osteoporosis"
            self._row(rows, case, "osteoporosis", code, self._long_ago(r, case), None)
        if history.get("previous_fragility_fracture") is True:
            code = fracture_code(case)
            self._row(rows, case, "fragility_fracture", code, self._long_ago(r, case), None)
        if history.get("iv_drug_use") is True:
            recorded = self._before(r, case, 1, self.timing["iv_drug_use_max"])
            self._row(rows, case, "iv_drug_use", "condition.iv_drug_use", recorded, None)
        if history.get("immunosuppression") is True:
            self._immunosuppression(r, case, rows)
        if history.get("recent_spinal_procedure") is True and case.region == "low_back":
            low, high = self.timing["recent_surgery_min"], self.timing["recent_surgery_max"]
            recorded = self._before(r, case, low, high)
            self._row(rows, case, "lumbar_surgery", "condition.lumbar_surgery", recorded, None)
        if history.get("trauma") in ("minor", "major"):
            recorded = self._before(r, case, 0, self.timing["recent_trauma_max"])
            self._trauma(rows, case, recorded)

    def _trauma(self, rows: Rows, case: Case, recorded: int) -> None:
        ended = recorded + self.timing["trauma_resolves"]
        code = _TRAUMA.get(case.region, "condition.trauma_thoracic")
        self._row(rows, case, "trauma", code, recorded, ended)

    def _immunosuppression(self, r: random.Random, case: Case, rows: Rows) -> None:
        hiv = self.f.background["hiv_if_immunosuppressed"]
        transplant = hiv + self.f.background["transplant_if_immunosuppressed"]
        draw = r.random()
        if draw < hiv:
            self._row(rows, case, "hiv", "condition.hiv", self._long_ago(r, case), None)
        elif draw < transplant:
            code = "condition.organ_transplant"
            self._row(rows, case, "organ_transplant", code, self._long_ago(r, case), None)

    def _unasked(self, r: random.Random, case: Case, rows: Rows) -> None:
        history = case.intake["history"]
        chance = self.f.background["unasked_history"]
        for key, (category, code_id) in _UNASKED_HISTORY.items():
            if key in history or r.random() >= chance:
                continue
            low = self.timing["history_min"]
            if category == "lumbar_surgery":
                low = self.timing["old_surgery_min"]
            recorded = self._before(r, case, low, self.timing["history_max"])
            self._row(rows, case, category, code_id, recorded, None)

    def _when_found(self, r: random.Random, case: Case) -> int:
        """When serious pathology is coded: within 28 days for most, later for the rest."""
        if r.random() < self.f.found_within_28_days:
            return case.diagnosed + between(r, 0, 28)
        return case.diagnosed + between(r, 29, self.timing["found_late_max"])

    def _found(self, r: random.Random, case: Case, rows: Rows) -> None:
        subgroup = case.subgroup
        if subgroup == "fracture":
            found = self._when_found(r, case)
            self._row(rows, case, "fragility_fracture", fracture_code(case), found, None)
        elif subgroup == "cancer":
            self._cancer(r, case, rows)
        elif subgroup == "infection":
            code = pick(r, _SPINAL_INFECTIONS)
            self._row(rows, case, "spinal_infection", code, self._when_found(r, case), None)
        elif subgroup == "cauda_equina":
            found = case.diagnosed + between(r, 0, 2)
            self._row(rows, case, "cauda_equina", "condition.cauda_equina", found, None)
        elif subgroup == "axial_spa":
            low, high = self.timing["axial_spa_min"], self.timing["axial_spa_max"]
            found = case.diagnosed + between(r, low, high)
            code = "condition.axial_spondyloarthritis"
            self._row(rows, case, "axial_spondyloarthritis", code, found, None)
        elif subgroup == "stenosis":
            found = case.diagnosed + between(r, 0, 60)
            self._row(rows, case, "spondylopathy", "condition.spinal_stenosis_lumbar", found, None)

    def _cancer(self, r: random.Random, case: Case, rows: Rows) -> None:
        found = self._when_found(r, case)
        self._row(rows, case, "cancer", "condition.bone_metastasis", found, None)
        later = (self.timing["palliative_min"], self.timing["palliative_max"])
        if r.random() < self.f.background["palliative_if_cancer"]:
            code = "condition.palliative_care"
            self._row(rows, case, "palliative_care", code, found + between(r, *later), None)
        if r.random() < self.f.background["hospice_if_cancer"]:
            self._row(rows, case, "hospice", "condition.hospice", found + between(r, *later), None)

    def _neurological(self, r: random.Random, case: Case, rows: Rows) -> None:
        neurology = case.intake["neurology"]
        leg = neurology.get("leg_weakness") not in (None, "none") or neurology.get("foot_drop")
        arm = neurology.get("arm_weakness") not in (None, "none")
        if not (leg or arm):
            return
        code = "condition.neurological_impairment_" + ("leg" if leg else "arm")
        found = case.diagnosed + between(r, 0, 28)
        self._row(rows, case, "neurological_impairment", code, found, None)

    def _background(self, r: random.Random, case: Case, rows: Rows) -> None:
        if r.random() < self.f.background["old_trauma"]:
            low, high = self.timing["old_trauma_min"], self.timing["old_trauma_max"]
            self._trauma(rows, case, self._before(r, case, low, high))
        if case.region == "low_back" and r.random() < self.f.background["lumbar_spondylosis"]:
            recorded = self._before(r, case, 0, self.timing["history_max"])
            code = "condition.spondylosis_lumbar"
            self._row(rows, case, "spondylopathy", code, recorded, None)


def fracture_code(case: Case) -> str:
    """A fragility fracture is postmenopausal osteoporosis in a woman of 50 or more."""
    postmenopausal = case.intake.get("sex") == "female" and int(case.intake["age"]) >= 50
    if postmenopausal:
        return "condition.fragility_fracture_postmenopausal"
    return "condition.fragility_fracture_other"
