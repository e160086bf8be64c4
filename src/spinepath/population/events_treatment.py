"""Care given to a generated person: imaging, prescriptions, referrals, procedures.

Shares that vary between clinics (imaging, opioids, risk stratification, spinal injections)
come from the person's clinic; the rest are the cohort figures. Each kind of care follows the
guideline's direction without always obeying it, so that measures have something to find:
imaging mostly for serious pathology and red flags, some within 28 days of the diagnosis and
some after; opioids more often in chronic pain; now and then a spinal injection for low back
pain without sciatica.
"""

from __future__ import annotations

import random

from spinepath.population.events_base import (
    RADICULAR,
    SCIATICA,
    URGENT,
    Case,
    Coder,
    EventFigures,
    Rows,
    between,
    pick,
)
from spinepath.population.generate import SERIOUS, Choice, has_red_flag

_SITES = {"low_back": "lumbar", "neck": "cervical", "upper_back": "thoracic"}
_NSAIDS = ("drug.ibuprofen", "drug.naproxen")
_GABAPENTINOIDS = ("drug.gabapentin", "drug.pregabalin")
_OPIOIDS = {
    "acute": ("drug.codeine_paracetamol", "drug.tramadol"),
    "subacute": ("drug.codeine_paracetamol", "drug.tramadol"),
    "chronic": ("drug.tramadol", "drug.oxycodone", "drug.codeine_paracetamol"),
}
_LAMINECTOMY = frozenset({"stenosis", "cauda_equina", "cancer", "infection", "fracture"})
_SPECIALIST_IMAGING = frozenset({"serious", "radicular", "axial_spa"})


def imaging_group(case: Case) -> str:
    """The imaging figures' group of a person (see ``imaging_within_28_days``)."""
    if case.subgroup in SERIOUS:
        return "serious"
    if case.subgroup == "axial_spa":
        return "axial_spa"
    if case.subgroup in RADICULAR:
        return "radicular"
    return "non_specific_red_flag" if has_red_flag(case.intake) else "non_specific"


class TreatmentDraws:
    """Draws the imaging, medication, referral and procedure rows of one person at a time."""

    def __init__(
        self, figures: EventFigures, code: Coder, modality: Choice, serious_modality: Choice
    ) -> None:
        self.f = figures
        self.code = code
        self.modality = modality
        self.serious_modality = serious_modality

    def add(self, r: random.Random, case: Case, rows: Rows) -> None:
        self._imaging(r, case, rows)
        self._first_line_drugs(r, case, rows)
        self._other_drugs(r, case, rows)
        self._long_term_steroids(r, case, rows)
        self._referrals(r, case, rows)
        self._stratification_and_programmes(r, case, rows)
        self._injections(r, case, rows)

    # --- imaging --------------------------------------------------------------------------------

    def _imaging(self, r: random.Random, case: Case, rows: Rows) -> None:
        group = imaging_group(case)
        if r.random() < case.clinic.p(f"imaging_within_28_days:{group}"):
            day = case.diagnosed + between(r, 0, self.f.early_last_day)
            ordered = (
                case.setting if case.setting in ("emergency", "specialist") else "primary_care"
            )
            self._study(r, case, group, day, ordered, rows)
        if r.random() < case.clinic.p(f"imaging_days_29_to_60:{group}"):
            day = case.diagnosed + between(r, self.f.early_last_day + 1, self.f.late_last_day)
            ordered = "specialist" if group in _SPECIALIST_IMAGING else "primary_care"
            self._study(r, case, group, day, ordered, rows)

    def _study(
        self, r: random.Random, case: Case, group: str, day: int, ordered: str, rows: Rows
    ) -> None:
        modality = (self.serious_modality if group == "serious" else self.modality)(r)
        site = _SITES[case.region]
        system, code = self.code(f"imaging.{modality}.{site}")
        rows["imaging"].append((case.person_id, day, modality, site, ordered, system, code))

    # --- prescriptions --------------------------------------------------------------------------

    def _drug(
        self, rows: Rows, case: Case, drug_class: str, code_id: str, day: int, supply: int
    ) -> None:
        system, code = self.code(code_id)
        rows["medications"].append((case.person_id, day, drug_class, system, code, supply))

    def _soon(self, r: random.Random, case: Case) -> int:
        return case.diagnosed + between(r, 0, self.f.prescription_timing["first_line_max"])

    def _first_line_drugs(self, r: random.Random, case: Case, rows: Rows) -> None:
        shares, supply = self.f.prescriptions, self.f.days_supply
        if r.random() < shares["nsaid"]:
            drug = pick(r, _NSAIDS)
            self._drug(rows, case, "nsaid", drug, self._soon(r, case), supply["nsaid"])
        if r.random() < shares["paracetamol"]:
            day = self._soon(r, case)
            self._drug(rows, case, "paracetamol", "drug.paracetamol", day, supply["paracetamol"])
        if r.random() < case.clinic.p(f"opioid:{case.band}"):
            day = case.diagnosed + between(r, 0, self.f.prescription_timing["opioid_max"])
            days = supply["opioid_chronic" if case.band == "chronic" else "opioid_acute"]
            self._drug(rows, case, "opioid", pick(r, _OPIOIDS[case.band]), day, days)

    def _other_drugs(self, r: random.Random, case: Case, rows: Rows) -> None:
        shares, supply = self.f.prescriptions, self.f.days_supply
        sciatica = case.subgroup in SCIATICA or case.subgroup == "cervical_radiculopathy"
        if r.random() < shares["gabapentinoid_sciatica" if sciatica else "gabapentinoid_other"]:
            drug = pick(r, _GABAPENTINOIDS)
            self._drug(
                rows, case, "gabapentinoid", drug, self._soon(r, case), supply["gabapentinoid"]
            )
        if r.random() < shares["benzodiazepine"]:
            day = self._soon(r, case)
            self._drug(rows, case, "benzodiazepine", "drug.diazepam", day, supply["benzodiazepine"])
        chronic = case.band == "chronic"
        if r.random() < shares["antidepressant_chronic" if chronic else "antidepressant_other"]:
            day = self._soon(r, case)
            days = supply["antidepressant"]
            self._drug(rows, case, "antidepressant", "drug.amitriptyline", day, days)
        if r.random() < shares["short_corticosteroid"]:
            day = self._soon(r, case)
            days = supply["short_corticosteroid"]
            self._drug(rows, case, "systemic_corticosteroid", "drug.prednisolone", day, days)
        self._osteoporosis_therapy(r, case, rows)

    def _osteoporosis_therapy(self, r: random.Random, case: Case, rows: Rows) -> None:
        history = case.intake["history"]
        known = history.get("osteoporosis") is True
        known = known or history.get("previous_fragility_fracture") is True
        if not (known or case.subgroup == "fracture"):
            return
        if r.random() >= self.f.prescriptions["osteoporosis_therapy"]:
            return
        # Known osteoporosis is treated before the episode; a new fracture after it.
        day = case.diagnosed - between(r, 1, 365) if known else case.diagnosed + between(r, 14, 90)
        days = self.f.days_supply["osteoporosis_therapy"]
        self._drug(rows, case, "osteoporosis_therapy", "drug.alendronic_acid", day, days)

    def _long_term_steroids(self, r: random.Random, case: Case, rows: Rows) -> None:
        if case.intake["history"].get("long_term_steroids") is not True:
            return
        courses = self.f.steroid_prescriptions
        count = between(r, courses["min"], courses["max"])
        days = self.f.days_supply["long_corticosteroid"]
        first = case.diagnosed - count * days - between(r, 0, 30)
        for course in range(count):
            day = first + course * days
            self._drug(rows, case, "systemic_corticosteroid", "drug.prednisolone", day, days)

    # --- referrals, surgical opinions and surgery -----------------------------------------------

    def _referrals(self, r: random.Random, case: Case, rows: Rows) -> None:
        share = self.f.surgical_referral.get(case.subgroup, self.f.surgical_referral["other"])
        if r.random() < share:
            self._surgical_referral(r, case, rows)
        if case.subgroup not in SERIOUS and r.random() < self.f.physiotherapy[case.group]:
            day = case.assessed + between(r, 0, 14)
            self._referral(rows, case, "physiotherapy", "referral.physiotherapy", day)
        if case.band == "chronic" and r.random() < self.f.pain_service:
            day = case.assessed + between(r, 14, 90)
            self._referral(rows, case, "pain_service", "referral.pain_service", day)

    def _referral(self, rows: Rows, case: Case, kind: str, code_id: str, day: int) -> None:
        system, code = self.code(code_id)
        rows["referrals"].append((case.person_id, day, kind, system, code))

    def _procedure(self, rows: Rows, case: Case, kind: str, code_id: str, day: int) -> None:
        system, code = self.code(code_id)
        rows["procedures"].append((case.person_id, day, kind, system, code))

    def _surgical_referral(self, r: random.Random, case: Case, rows: Rows) -> None:
        timing, opinion = self.f.referral_timing, self.f.opinion
        service = "referral.neurosurgical" if case.region == "neck" else "referral.orthopaedic"
        if case.subgroup in URGENT:
            referred = case.assessed + between(r, 0, timing["urgent_max"])
            seen: int | None = referred + between(r, 0, int(opinion["urgent_wait_max_days"]))
        else:
            referred = case.assessed + between(r, timing["routine_min"], timing["routine_max"])
            seen = None
            if r.random() < opinion["seen_share"]:
                spread = r.lognormvariate(0.0, opinion["wait_spread"])
                seen = referred + round(
                    opinion["median_wait_days"] * case.clinic.wait_factor * spread
                )
        self._referral(rows, case, "surgical_opinion", service, referred)
        if seen is not None:
            self._procedure(rows, case, "surgical_opinion", "procedure.surgical_opinion", seen)
            self._surgery(r, case, rows, seen)

    def _surgery(self, r: random.Random, case: Case, rows: Rows, seen: int) -> None:
        if case.subgroup == "radiculopathy":
            share = self.f.sciatica_surgery
        else:
            after = self.f.surgery_after_opinion
            share = after.get(case.subgroup, after["other"])
        if r.random() >= share:
            return
        if case.subgroup == "cauda_equina":
            day = seen + between(r, 0, 1)
        else:
            day = seen + between(r, self.f.surgery_wait["min"], self.f.surgery_wait["max"])
        code = "procedure.laminectomy" if case.subgroup in _LAMINECTOMY else "procedure.discectomy"
        self._procedure(rows, case, "spinal_surgery", code, day)

    # --- stratification, programmes, injections -------------------------------------------------

    def _programme_day(self, r: random.Random, case: Case) -> int:
        timing = self.f.procedure_timing
        return case.assessed + between(r, timing["programme_min"], timing["programme_max"])

    def _stratification_and_programmes(self, r: random.Random, case: Case, rows: Rows) -> None:
        if case.group != "unanswered" and r.random() < case.clinic.p("stratification"):
            code = "procedure.risk_stratification"
            self._procedure(rows, case, "risk_stratification", code, case.assessed)
        if case.subgroup in SERIOUS:
            return
        if r.random() < self.f.exercise[case.group]:
            code = "procedure.exercise_programme"
            self._procedure(rows, case, "exercise_programme", code, self._programme_day(r, case))
        psychological = self.f.psychological["high" if case.group == "high" else "other"]
        if r.random() < psychological:
            code = "procedure.psychological_programme"
            day = self._programme_day(r, case)
            self._procedure(rows, case, "psychological_programme", code, day)
        if r.random() < self.f.procedures["manual_therapy"]:
            code = "procedure.manual_therapy"
            self._procedure(rows, case, "manual_therapy", code, self._programme_day(r, case))

    def _injections(self, r: random.Random, case: Case, rows: Rows) -> None:
        if case.subgroup in SERIOUS or case.region != "low_back":
            return
        timing = self.f.procedure_timing
        later = case.assessed + between(r, timing["injection_min"], timing["injection_max"])
        sciatica = case.subgroup in SCIATICA
        # NG59: no spinal injections for low back pain without sciatica.
        if not sciatica and r.random() < case.clinic.p("spinal_injection"):
            self._procedure(rows, case, "spinal_injection", "procedure.spinal_injection", later)
        if sciatica and r.random() < self.f.procedures["epidural_injection_sciatica"]:
            self._procedure(rows, case, "epidural_injection", "procedure.epidural_injection", later)
        chronic_non_specific = case.subgroup == "low_back" and case.band == "chronic"
        if (
            chronic_non_specific
            and r.random() < self.f.procedures["radiofrequency_denervation_chronic"]
        ):
            day = case.assessed + between(r, timing["rfd_min"], timing["rfd_max"])
            code = "procedure.radiofrequency_denervation"
            self._procedure(rows, case, "radiofrequency_denervation", code, day)
