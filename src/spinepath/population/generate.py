"""Synthetic cohorts of adults with back pain, as intake NDJSON (one :class:`Intake` per line).

The figures (shares of serious pathology, red flags, subgroups, durations, STarT Back risk groups,
unanswered questions) live in ``cohort.yaml`` next to this module, each with its source in the
clinical reference notes or marked as an assumption; see docs/population.md.

One :class:`random.Random` seeded with the seed draws every person in order, so a seed always
gives the same people and the same bytes, whatever the chunk size. numpy is not a dependency; the
generator builds plain dicts from shared templates (a shallow copy each) and writes them with
the C JSON encoder.

These are the intakes only; :mod:`spinepath.population.generate_dataset` adds each person's care
events (from random streams of their own, so the intakes stay exactly these) and writes a
population data set.
"""

from __future__ import annotations

import json
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from spinepath.pathway.intake import (
    CaudaEquina,
    Health,
    History,
    Mimics,
    Neurology,
    Radiation,
    Side,
    Systemic,
)
from spinepath.yamlio import read_data_file

COHORT_FILE = Path(__file__).with_name("cohort.yaml")

SERIOUS = ("fracture", "cancer", "cauda_equina", "infection")
NON_SPECIFIC = ("low_back", "neck", "upper_back")
SUBGROUPS = (
    *SERIOUS,
    "axial_spa",
    "radiculopathy",
    "stenosis",
    "cervical_radiculopathy",
    *NON_SPECIFIC,
)
"""Every subgroup a person can belong to; ``low_back``, ``neck`` and ``upper_back`` are
non-specific pain in that region."""

Json = dict[str, Any]


class CohortError(ValueError):
    """The cohort file is missing, not valid YAML, or a figure lacks its value or source."""


class Figure(BaseModel):
    """One figure: its value and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | dict[str, float]
    source: Literal["reference", "literature", "assumption"]
    reference: str | None = None
    primary: str | None = None
    seen: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Figure:
        if self.source == "reference" and not (self.reference and self.primary):
            raise ValueError("a reference figure needs `reference` and `primary`")
        if self.source == "literature" and not (self.primary and self.seen and self.reason):
            raise ValueError("a literature figure needs `primary`, `seen` and `reason`")
        if self.source == "assumption" and not self.reason:
            raise ValueError("an assumption needs a `reason`")
        return self

    def share(self) -> float:
        if not isinstance(self.value, float):
            raise CohortError("expected a single number")
        return self.value

    def mix(self) -> dict[str, float]:
        if not isinstance(self.value, dict):
            raise CohortError("expected a mapping of categories to numbers")
        return self.value


class CohortFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    figures: dict[str, Figure]


@cache
def load_cohort(path: Path = COHORT_FILE) -> CohortFile:
    """The cohort figures in ``path`` (by default the bundled ``cohort.yaml``)."""
    data = read_data_file(path, path.name, CohortError)
    try:
        return CohortFile.model_validate(data)
    except ValueError as exc:
        raise CohortError(f"{path.name}: {exc}") from exc


def _int(r: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` inclusive; ``randint`` costs several times more."""
    return low + int(r.random() * (high - low + 1))


def _pick(r: random.Random, options: tuple[str, ...]) -> str:
    return options[int(r.random() * len(options))]


def _some(r: random.Random, pool: list[int], k: int) -> set[int]:
    """``k`` distinct members of ``pool`` (a partial shuffle; ``random.sample`` costs more)."""
    pool = list(pool)
    for i in range(k):
        j = i + int(r.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return set(pool[:k])


class Choice:
    """A categorical draw from weights, by bisection on the cumulative weights."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.names = list(weights)
        total = sum(weights.values())
        self.cumulative = [w / total for w in accumulate(weights.values())]

    def __call__(self, r: random.Random) -> str:
        return self.names[min(bisect(self.cumulative, r.random()), len(self.names) - 1)]


_AGE_BANDS = {"16-29": (16, 29), "30-44": (30, 44), "45-59": (45, 59), "60-74": (60, 74)}
_AGE_BANDS["75-95"] = (75, 95)

_ANSWERED_NO_SECTIONS: dict[str, type[BaseModel]] = {
    "health": Health,
    "cauda_equina": CaudaEquina,
    "systemic": Systemic,
    "history": History,
    "mimics": Mimics,
    "neurology": Neurology,
    "radiation": Radiation,
}
# Asked only after spinal surgery, so it stays unanswered unless a draw sets prior surgery.
_ONLY_AFTER_SURGERY = "spine_surgery_wound_problem"
_YES_NO: object = bool | None
_SIDE: object = Side | None


def _answered_no(model: type[BaseModel]) -> Json:
    """Every yes/no question of an intake section answered no and every side "none", read from
    the intake model so that a question added there is answered here too."""
    answers: Json = {}
    for name, field in model.model_fields.items():
        if field.annotation == _YES_NO and name != _ONLY_AFTER_SURGERY:
            answers[name] = False
        elif field.annotation == _SIDE:
            answers[name] = "none"
    return answers


_FALSE_SECTIONS: dict[str, Json] = {
    name: _answered_no(model) for name, model in _ANSWERED_NO_SECTIONS.items()
}
_FALSE_SECTIONS["history"]["trauma"] = "none"
_TRI_STATE_KEYS = {
    section: tuple(k for k, v in answers.items() if v is False)
    for section, answers in _FALSE_SECTIONS.items()
}
_REGION_FLAGS = ("worse_with_movement", "not_eased_by_rest", "worse_at_night", "worse_on_straining")
_SIDES = ("left", "right")
_SPINE_LEVELS = {"low_back": "L4-L5", "neck": "C5-C6", "upper_back": "T7-T8"}
_HIGH_AGREE = ("very_much", "extremely")
_LOW_AGREE = ("not_at_all", "slightly", "moderately")


def has_red_flag(intake: Json) -> bool:
    """Whether a generated person has at least one red flag, as the cohort counts them.

    Henschke's list is not in the reference notes, so this is the generator's own reading of
    "a red flag": age over 50, a weak flag (night pain, pain not eased by rest, a slip or fall),
    or any strong flag (cancer, steroids, osteoporosis, weight loss, fever, infection risk,
    cauda equina features, weakness, bilateral leg symptoms).
    """
    if intake["age"] > 50:
        return True
    history = intake.get("history", {})
    if history.get("trauma") in ("minor", "major"):
        return True
    strong = (
        "cancer",
        "long_term_steroids",
        "osteoporosis",
        "previous_fragility_fracture",
        "iv_drug_use",
        "immunosuppression",
        "recent_infection",
        "recent_spinal_procedure",
    )
    if any(history.get(k) is True for k in strong):
        return True
    if any(
        r.get("worse_at_night") is True or r.get("not_eased_by_rest") is True
        for r in intake["regions"]
    ):
        return True
    if any(v is True for v in intake.get("systemic", {}).values()):
        return True
    if any(v is True for v in intake.get("cauda_equina", {}).values()):
        return True
    neurology = intake.get("neurology", {})
    return neurology.get("leg_weakness") not in (None, "none") or neurology.get("foot_drop") is True


@dataclass(frozen=True)
class _Plan:
    """The figures turned into ready-to-draw shares and choices."""

    subgroup: Choice
    serious: Choice
    age: Choice
    sex: Choice
    duration: Choice
    acute_below: int
    chronic_above: int
    startback_group: Choice
    startback_unanswered: float
    high_psychosocial: int
    low_total: int
    second_region: float
    partial: float
    unanswered: float
    anticoagulants: float
    weak_flag: Choice
    weak_flag_if_young: float
    weak_flag_if_older: float
    background: dict[str, float]
    treatment_tried: dict[str, float]
    treatment: Choice
    imaging: dict[str, float]
    fever: float
    cancer_history: float
    fracture_over_70: float
    fracture_female: float
    fracture_factors: dict[str, float]
    radiculopathy_weakness: float


def _share_over_50(age_bands: dict[str, float]) -> float:
    total = sum(age_bands.values())
    over = 0.0
    for band, weight in age_bands.items():
        low, high = _AGE_BANDS[band]
        years = high - low + 1
        over += weight * max(0, high - max(low, 51) + 1) / years
    return over / total


@cache
def _plan(path: Path = COHORT_FILE) -> _Plan:
    f = load_cohort(path).figures
    serious_share = f["serious_pathology_share"].share()
    spa = f["axial_spa_share"].share()
    others = f["subgroup_shares"].mix()
    subgroups = {"serious": serious_share, "axial_spa": spa, **others}
    subgroups["low_back"] = 1.0 - sum(subgroups.values())
    if subgroups["low_back"] <= 0:
        raise CohortError("subgroup shares leave nothing for non-specific low back pain")
    fracture = f["fracture_share_of_serious"].share()
    causes = f["causes_in_primary_care"].mix()
    ces = f["cauda_equina_share_of_other_serious"].share()
    rest = 1.0 - fracture
    cancer_infection = causes["cancer"] + causes["spinal_infection"]
    serious = {
        "fracture": fracture,
        "cauda_equina": rest * ces,
        "cancer": rest * (1 - ces) * causes["cancer"] / cancer_infection,
        "infection": rest * (1 - ces) * causes["spinal_infection"] / cancer_infection,
    }
    # Serious pathology always carries a flag; for everyone else, over-50s count already, so
    # the weak-flag chance below 50 is set for the overall share to come out at the figure.
    ages = f["age_bands"].mix()
    over_50 = _share_over_50(ages)
    target = (f["red_flag_share"].share() - serious_share) / (1 - serious_share)
    young_flag = max(0.0, min(1.0, (target - over_50) / (1 - over_50)))
    bands = f["duration_bands_weeks"].mix()
    cutoffs = f["startback_cutoffs"].mix()
    return _Plan(
        subgroup=Choice(subgroups),
        serious=Choice(serious),
        age=Choice(ages),
        sex=Choice(f["sex_mix"].mix()),
        duration=Choice(f["duration_mix"].mix()),
        acute_below=int(bands["acute_below"]),
        chronic_above=int(bands["chronic_above"]),
        startback_group=Choice(f["startback_risk_mix"].mix()),
        startback_unanswered=f["startback_unanswered_share"].share(),
        high_psychosocial=int(cutoffs["high_psychosocial_at_least"]),
        low_total=int(cutoffs["low_total_at_most"]),
        second_region=f["second_region_share"].share(),
        partial=f["partial_answers_share"].share(),
        unanswered=f["unanswered_question_share"].share(),
        anticoagulants=f["anticoagulant_share"].share(),
        weak_flag=Choice(f["weak_flag_mix"].mix()),
        weak_flag_if_young=young_flag,
        weak_flag_if_older=young_flag / 2,
        background=f["background_history_shares"].mix(),
        treatment_tried=f["treatment_tried_share"].mix(),
        treatment=Choice(f["treatment_mix"].mix()),
        imaging=f["imaging_share"].mix(),
        fever=f["infection_fever_share"].share(),
        cancer_history=f["cancer_known_history_share"].share(),
        fracture_over_70=f["fracture_age_over_70_share"].share(),
        fracture_female=f["fracture_female_share"].share(),
        fracture_factors=f["fracture_risk_factor_shares"].mix(),
        radiculopathy_weakness=f["radiculopathy_weakness_share"].share(),
    )


def expected_shares(path: Path = COHORT_FILE) -> dict[str, float]:
    """The share of each subgroup in a large cohort, from the figures."""
    plan = _plan(path)
    top = dict(zip(plan.subgroup.names, _weights(plan.subgroup), strict=True))
    serious = top.pop("serious")
    for name, weight in zip(plan.serious.names, _weights(plan.serious), strict=True):
        top[name] = serious * weight
    return top


def _weights(choice: Choice) -> list[float]:
    return [b - a for a, b in zip([0.0, *choice.cumulative], choice.cumulative, strict=False)]


class _Person:
    """Draws one person of a subgroup; a class only so the draws share ``r`` and ``plan``."""

    def __init__(self, r: random.Random, plan: _Plan) -> None:
        self.r = r
        self.plan = plan

    def duration(self) -> tuple[str, int]:
        band = self.plan.duration(self.r)
        if band == "acute":
            return band, _int(self.r, 0, self.plan.acute_below - 1)
        if band == "subacute":
            return band, _int(self.r, self.plan.acute_below, self.plan.chronic_above)
        return band, _int(self.r, self.plan.chronic_above + 1, 156)

    def region(self, name: str, weeks: int, *, intensity: tuple[int, int] = (2, 8)) -> Json:
        r = self.r
        return {
            "region": name,
            "onset": "sudden" if r.random() < 0.3 else "gradual",
            "duration_weeks": weeks,
            "quality": ("dull", "sharp", "burning")[bisect((0.6, 0.9), r.random())],
            "extent": "focal" if r.random() < 0.5 else "spread",
            "intensity": _int(r, *intensity),
            "worse_with_movement": r.random() < 0.8,
            "not_eased_by_rest": False,
            "worse_at_night": False,
            "worse_on_straining": False,
        }

    def startback(self) -> Json | None:
        r, plan = self.r, self.plan
        if r.random() < plan.startback_unanswered:
            return None
        group = plan.startback_group(r)
        if group == "high":
            psychosocial = _int(r, plan.high_psychosocial, 5)
            physical = _int(r, 0, 4)
        elif group == "medium":
            psychosocial = _int(r, 0, plan.high_psychosocial - 1)
            physical = _int(r, max(0, plan.low_total + 1 - psychosocial), 4)
        else:
            total = _int(r, 0, plan.low_total)
            psychosocial = _int(r, max(0, total - 4), min(total, plan.high_psychosocial - 1))
            physical = total - psychosocial
        agree = _some(r, [1, 2, 3, 4], physical) | _some(r, [5, 6, 7, 8, 9], psychosocial)
        answers: Json = {f"q{i}": i in agree for i in range(1, 9)}
        answers["q9"] = _pick(r, _HIGH_AGREE if 9 in agree else _LOW_AGREE)
        return answers

    def draw(self, subgroup: str) -> Json:
        r, plan = self.r, self.plan
        band, weeks = self.duration()
        lo, hi = _AGE_BANDS[plan.age(r)]
        age = _int(r, lo, hi)
        sex = plan.sex(r)
        sections = {name: dict(answers) for name, answers in _FALSE_SECTIONS.items()}
        history = sections["history"]
        for key, share in plan.background.items():
            if r.random() < share:
                history[key] = True
        if r.random() < plan.anticoagulants:
            sections["health"]["anticoagulants"] = True
        region_name = subgroup if subgroup in ("neck", "upper_back") else "low_back"
        if subgroup == "cervical_radiculopathy":
            region_name = "neck"
        main = self.region(region_name, weeks)
        regions = [main]
        person: Json = {"age": age, "sex": sex, "regions": regions, **sections}
        getattr(self, f"_{subgroup}", self._non_specific)(person, main)
        if subgroup in NON_SPECIFIC or subgroup in ("radiculopathy", "stenosis"):
            self._weak_flag(person, main)
        if r.random() < plan.second_region:
            other = r.choice([n for n in ("neck", "upper_back", "low_back") if n != region_name])
            regions.append(self.region(other, _int(r, 0, weeks), intensity=(1, 5)))
        self._care(person, band, region_name)
        startback = self.startback()
        if startback is not None:
            person["startback"] = startback
        if r.random() < plan.partial:
            self._leave_unanswered(person)
        if person["sex"] == "unanswered":
            del person["sex"]
        return person

    def _weak_flag(self, person: Json, main: Json) -> None:
        r, plan = self.r, self.plan
        chance = plan.weak_flag_if_older if person["age"] > 50 else plan.weak_flag_if_young
        if r.random() >= chance:
            return
        flag = plan.weak_flag(r)
        if flag == "minor_trauma":
            # A slip in a neck of 65 or more is a high-risk neck injury; a strain is not.
            neck_risk = main["region"] == "neck" and person["age"] >= 65
            person["history"]["trauma"] = "strain" if neck_risk else "minor"
        else:
            main[flag] = True

    def _non_specific(self, person: Json, main: Json) -> None:
        if self.r.random() < 0.3:
            person["history"]["trauma"] = "strain"

    def _radiculopathy(self, person: Json, main: Json) -> None:
        r = self.r
        side = _pick(r, _SIDES)
        person["radiation"].update(
            leg=side, leg_below_knee=True, leg_pain_worse_than_back=r.random() < 0.7
        )
        main["worse_on_straining"] = r.random() < 0.5
        if r.random() < 0.6:
            person["neurology"]["leg_numbness_or_tingling"] = side
        if r.random() < self.plan.radiculopathy_weakness:
            person["neurology"]["leg_weakness"] = side

    def _stenosis(self, person: Json, main: Json) -> None:
        r = self.r
        person["age"] = _int(r, 60, 90)
        person["radiation"].update(leg=_pick(r, ("left", "right", "both")), leg_below_knee=True)
        # Both legs for years is claudication, not a new cauda equina warning.
        person["radiation"]["both_legs_since_days"] = _int(r, 60, 2000)
        person["neurology"]["walking_leg_pain_eased_by_sitting"] = True
        main["duration_weeks"] = max(main["duration_weeks"], _int(r, 13, 260))

    def _cervical_radiculopathy(self, person: Json, main: Json) -> None:
        r = self.r
        side = _pick(r, _SIDES)
        person["radiation"].update(arm=side)
        if r.random() < 0.6:
            person["neurology"]["arm_numbness_or_tingling"] = side

    def _neck(self, person: Json, main: Json) -> None:
        self._non_specific(person, main)

    def _upper_back(self, person: Json, main: Json) -> None:
        self._non_specific(person, main)

    def _low_back(self, person: Json, main: Json) -> None:
        self._non_specific(person, main)

    def _axial_spa(self, person: Json, main: Json) -> None:
        r = self.r
        person["age"] = _int(r, 18, 44)
        main.update(onset="gradual", duration_weeks=_int(r, 13, 300))
        person["inflammatory"] = {
            "started_before_35": True,
            "wakes_second_half_of_night": r.random() < 0.8,
            "buttock_pain": r.random() < 0.6,
            "improves_with_movement": True,
            "improves_within_48h_of_nsaid": r.random() < 0.7,
            "first_degree_relative_with_spa": r.random() < 0.2,
            "arthritis": r.random() < 0.2,
            "enthesitis": r.random() < 0.3,
            "psoriasis": r.random() < 0.1,
            "inflammatory_bowel_disease_or_uveitis": r.random() < 0.1,
        }

    def _fracture(self, person: Json, main: Json) -> None:
        r, plan = self.r, self.plan
        person["age"] = _int(r, 71, 95) if r.random() < plan.fracture_over_70 else _int(r, 55, 70)
        person["sex"] = "female" if r.random() < plan.fracture_female else "male"
        history = person["history"]
        factors = plan.fracture_factors
        for key in ("osteoporosis", "long_term_steroids", "previous_fragility_fracture"):
            history[key] = r.random() < factors[key]
        if person["age"] <= 70 and not any(history[k] for k in factors if k in history):
            history["osteoporosis"] = True
        history["trauma"] = "minor" if r.random() < factors["minor_trauma"] else "strain"
        main.update(onset="sudden", extent="focal", intensity=_int(r, 6, 9))
        main["duration_weeks"] = _int(r, 0, 6)

    def _cancer(self, person: Json, main: Json) -> None:
        r = self.r
        person["age"] = _int(r, 45, 90)
        known = r.random() < self.plan.cancer_history
        person["history"]["cancer"] = known
        person["systemic"]["weight_loss"] = (not known) or r.random() < 0.5
        person["systemic"]["night_sweats"] = r.random() < 0.2
        main.update(onset="gradual", not_eased_by_rest=r.random() < 0.7)
        main["worse_at_night"] = r.random() < 0.7

    def _cauda_equina(self, person: Json, main: Json) -> None:
        r = self.r
        ce = person["cauda_equina"]
        ce.update(saddle_numbness=True, urinary_difficulty=True, onset_days=_int(r, 0, 10))
        ce["bladder_sensation_change"] = r.random() < 0.5
        ce["sexual_dysfunction"] = r.random() < 0.3
        side = _pick(r, ("left", "right", "both"))
        person["radiation"].update(leg=side, leg_below_knee=True, leg_pain_worse_than_back=True)
        if side == "both":
            person["radiation"]["both_legs_since_days"] = _int(r, 0, 10)
        person["neurology"]["leg_numbness_or_tingling"] = side
        main["intensity"] = _int(r, 6, 10)

    def _infection(self, person: Json, main: Json) -> None:
        r = self.r
        person["age"] = _int(r, 25, 80)
        history = person["history"]
        risk = _pick(r, ("iv_drug_use", "immunosuppression", "recent_spinal_procedure"))
        history[risk] = True
        history["recent_infection"] = r.random() < 0.3
        person["systemic"]["fever"] = r.random() < self.plan.fever
        person["systemic"]["feels_unwell"] = r.random() < 0.6
        main.update(onset="gradual", not_eased_by_rest=True, intensity=_int(r, 6, 10))
        main["worse_at_night"] = r.random() < 0.6

    def _care(self, person: Json, band: str, region: str) -> None:
        r, plan = self.r, self.plan
        weeks = person["regions"][0]["duration_weeks"]
        if r.random() < plan.treatment_tried[band]:
            kinds = {plan.treatment(r) for _ in range(_int(r, 1, 3))}
            person["treatments_tried"] = [
                {
                    "type": kind,
                    "weeks": _int(r, 0, weeks),
                    "response": ("none", "partial", "good", "worse")[
                        bisect((0.35, 0.8, 0.95), r.random())
                    ],
                }
                for kind in sorted(kinds)
            ]
        if r.random() < plan.imaging[band]:
            person["imaging"] = [
                {
                    "modality": "xray" if r.random() < 0.5 else "mri",
                    "finding": "degenerative_changes" if r.random() < 0.6 else "normal",
                    "level": _SPINE_LEVELS[region],
                    "weeks_ago": _int(r, 0, weeks),
                }
            ]

    def _leave_unanswered(self, person: Json) -> None:
        r, share = self.r, self.plan.unanswered
        for section, keys in _TRI_STATE_KEYS.items():
            answers = person[section]
            for key in keys:
                if r.random() < share and answers.get(key) is not None:
                    del answers[key]
        for region in person["regions"]:
            for key in _REGION_FLAGS:
                if r.random() < share:
                    del region[key]


def people(
    count: int, seed: int, *, subgroup: str | None = None, path: Path = COHORT_FILE
) -> Iterator[Json]:
    """``count`` people (intake JSON objects) drawn with ``seed``; all of one ``subgroup`` when
    given, else in the cohort's mix."""
    for _, person in labelled_people(count, seed, subgroup=subgroup, path=path):
        yield person


def labelled_people(
    count: int, seed: int, *, subgroup: str | None = None, path: Path = COHORT_FILE
) -> Iterator[tuple[str, Json]]:
    """Each person with the subgroup they were drawn from, for checking the generator."""
    if subgroup is not None and subgroup not in SUBGROUPS:
        raise ValueError(f"unknown subgroup {subgroup!r}; one of {', '.join(SUBGROUPS)}")
    plan = _plan(path)
    r = random.Random(seed)  # noqa: S311 - synthetic data, not security
    drawer = _Person(r, plan)
    for _ in range(count):
        name = subgroup
        if name is None:
            name = plan.subgroup(r)
            if name == "serious":
                name = plan.serious(r)
        yield name, drawer.draw(name)


encode_intake = json.JSONEncoder(separators=(",", ":")).encode
"""An intake as compact JSON text, exactly as a line of the NDJSON output (and the ``intake`` of
a data set's ``assessments``) holds it."""


def ndjson_chunks(
    count: int, seed: int, *, chunk: int = 10_000, path: Path = COHORT_FILE
) -> Iterator[tuple[int, str]]:
    """The cohort as NDJSON text in chunks of up to ``chunk`` lines: (lines, text) each."""
    lines: list[str] = []
    for person in people(count, seed, path=path):
        lines.append(encode_intake(person))
        if len(lines) == chunk:
            yield len(lines), "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield len(lines), "\n".join(lines) + "\n"
