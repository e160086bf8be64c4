"""Care events for each generated person: the rows of a population data set.

For person ``i`` of a cohort (its intake drawn by :mod:`spinepath.population.generate`), this
draws the record a health system would hold: the person and their clinic, the back-pain
episode, the assessment holding the intake, coded conditions, imaging, prescriptions,
procedures, referrals and outcome questionnaires. Every figure comes from ``cohort.yaml``
(see docs/population.md), every code from ``care_codes.yaml``.

The draws come from their own random streams, never from the intake stream, so the intakes are
exactly those of the NDJSON output. Person ``i`` draws from the stream of block
``i // EVENT_BLOCK``, seeded from (seed, "events", block): the events depend on the seed and the
person only, whatever the chunk size.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from spinepath.instruments.startback import risk_group
from spinepath.population.care_codes import CODES_FILE
from spinepath.population.care_plan import CarePlan, CareSettings, build_clinics, care_plan
from spinepath.population.events_base import Case, Coder, EventFigures, Rows, between
from spinepath.population.events_conditions import ConditionDraws
from spinepath.population.events_proms import PromDraws
from spinepath.population.events_treatment import TreatmentDraws
from spinepath.population.generate import COHORT_FILE, SERIOUS, Choice, Json

EVENT_BLOCK = 1024
"""People per events stream: a fixed block, so the draws never depend on the chunk size."""

EPOCH = date(1970, 1, 1).toordinal()
"""Dates in the rows are whole days since 1970-01-01, as Parquet and Polars store them."""

_SEX = {"female": "female", "male": "male", "other": "other"}
_SPECIFIC_EPISODES = {
    "stenosis": "episode.stenosis_lumbar",
    "cervical_radiculopathy": "episode.radiculopathy_cervical",
    "cauda_equina": "episode.disc_radiculopathy",
}


def startback_group(intake: Json) -> str:
    """The STarT Back risk group of the intake's answers (Keele's scoring), or ``unanswered``."""
    answers = intake.get("startback")
    if answers is None:
        return "unanswered"
    agreed = [answers[f"q{i}"] is True for i in range(1, 9)]
    bothersome = int(answers["q9"] in ("very_much", "extremely"))
    psychosocial = sum(agreed[4:]) + bothersome
    return risk_group(sum(agreed) + bothersome, psychosocial)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return date(day.year - years, 2, 28)


def episode_code_id(case: Case) -> str:
    """The code id of the episode's diagnosis: the pain pattern, or the painful region."""
    if case.subgroup == "radiculopathy":
        # Leg pain worse than back pain is the pattern of a disc.
        disc = case.intake["radiation"].get("leg_pain_worse_than_back") is True
        return "episode.disc_radiculopathy" if disc else "episode.radiculopathy_lumbar"
    return _SPECIFIC_EPISODES.get(case.subgroup, f"episode.{case.region}")


class CareEvents:
    """Draws the care events of each person of a cohort, in the order of the cohort."""

    def __init__(
        self,
        seed: int,
        settings: CareSettings | None = None,
        *,
        path: Path = COHORT_FILE,
        codes: Path = CODES_FILE,
    ) -> None:
        self.seed = seed
        self.settings = settings or CareSettings()
        self.plan: CarePlan = care_plan(path)
        self.figures = EventFigures.read(self.plan)
        self.code = Coder(codes)
        self.clinics, weights = build_clinics(seed, self.settings.clinics, self.plan)
        self._clinic = Choice({c.clinic_id: w for c, w in zip(self.clinics, weights, strict=True)})
        self._clinic_by_id = {c.clinic_id: c for c in self.clinics}
        self._year_start = date(self.settings.year, 1, 1).toordinal() - EPOCH
        self._year_days = date(self.settings.year + 1, 1, 1).toordinal() - EPOCH - self._year_start
        self._setting = self.plan.choice("episode_setting_mix")
        self._serious_setting = self.plan.choice("serious_setting_mix")
        self._conditions = ConditionDraws(self.figures, self.code)
        self._treatment = TreatmentDraws(
            self.figures,
            self.code,
            self.plan.choice("imaging_modality_mix"),
            self.plan.choice("serious_imaging_modality_mix"),
        )
        self._proms = PromDraws(self.figures)
        self._next = 0
        self._r = random.Random()  # noqa: S311 - replaced by the first person's stream

    def start_at(self, index: int) -> None:
        """Draw from person ``index`` on, which must be the first person of a block: a block's
        stream is only ever read from its start, so a chunk of whole blocks can be drawn alone."""
        if index % EVENT_BLOCK:
            raise ValueError(f"a chunk must start at a multiple of {EVENT_BLOCK}, not at {index}")
        self._next = index

    def add(self, index: int, subgroup: str, intake: Json, text: str, rows: Rows) -> None:
        """Append person ``index``'s rows to ``rows``; ``text`` is the intake as JSON text.

        People are drawn in order from 0: each block's stream starts at its first person."""
        if index != self._next:
            raise ValueError(
                f"people are drawn in order: expected person {self._next}, not {index}"
            )
        self._next += 1
        if index % EVENT_BLOCK == 0:
            block = index // EVENT_BLOCK
            self._r = random.Random(f"{self.seed}:events:{block}")  # noqa: S311 - synthetic data
        r = self._r
        case = self._case(r, index, subgroup, intake)
        self._person(r, case, rows)
        self._episode(r, case, index, text, rows)
        self._conditions.add(r, case, rows)
        self._treatment.add(r, case, rows)
        self._proms.add(r, case, rows)

    def _case(self, r: random.Random, index: int, subgroup: str, intake: Json) -> Case:
        f = self.figures
        main = intake["regions"][0]
        weeks = int(main["duration_weeks"])
        band = "acute" if weeks < f.acute_below else "subacute"
        if weeks > f.chronic_above:
            band = "chronic"
        diagnosed = self._year_start + int(r.random() * self._year_days)
        assessed = diagnosed
        if r.random() >= f.same_day_share:
            assessed += between(r, 1, f.assessment_delay_max)
        setting = (self._serious_setting if subgroup in SERIOUS else self._setting)(r)
        return Case(
            person_id=f"p{index + 1:07d}",
            subgroup=subgroup,
            intake=intake,
            clinic=self._clinic_by_id[self._clinic(r)],
            region=main["region"],
            weeks=weeks,
            band=band,
            group=startback_group(intake),
            diagnosed=diagnosed,
            assessed=assessed,
            setting=setting,
        )

    def _person(self, r: random.Random, case: Case, rows: Rows) -> None:
        # Born so that the intake's age is the age on the diagnosis date.
        day = date.fromordinal(case.diagnosed + EPOCH)
        age = int(case.intake["age"])
        latest = _years_before(day, age).toordinal()
        earliest = _years_before(day, age + 1).toordinal() + 1
        born = between(r, earliest, latest) - EPOCH
        sex = _SEX.get(case.intake.get("sex") or "", "unknown")
        rows["people"].append((case.person_id, case.clinic.clinic_id, sex, born))

    def _episode(self, r: random.Random, case: Case, index: int, text: str, rows: Rows) -> None:
        onset = case.diagnosed - case.weeks * 7 - between(r, 0, 6)
        system, code = self.code(episode_code_id(case))
        episode_id = f"e{index + 1:07d}-1"
        episode = (case.person_id, episode_id, case.region, case.diagnosed, onset, case.setting)
        rows["episodes"].append((*episode, system, code))
        rows["assessments"].append(
            (case.person_id, f"a{index + 1:07d}", episode_id, case.assessed, text)
        )
        prior = self.figures.prior_episode
        if r.random() < prior["share"]:
            # An earlier episode of the same region, over before this pain began.
            gap = between(r, int(prior["min_gap_days"]), int(prior["max_gap_days"]))
            seen = onset - gap
            began = seen - between(r, 0, 28)
            earlier = (case.person_id, f"e{index + 1:07d}-0", case.region, seen, began)
            rows["episodes"].append((*earlier, "outpatient", system, code))
