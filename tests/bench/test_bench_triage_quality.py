"""The benign population of bench/bench_triage_quality.py answers every warning sign "no".

The benchmark's "0% urgent" target only means something while that holds, so the check reads the
intake model afresh (not the generator's own helpers): a red-flag question added to a section
later must be answered "no" by the generator too, or this test fails.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

from spinepath.pathway.intake import Intake, RegionPain
from vignettes.cases import red_flags

ROOT = Path(__file__).resolve().parents[2]
# Sections whose every question is a warning sign (or its context, such as which side).
RED_FLAG_SECTIONS = (
    "cauda_equina",
    "systemic",
    "history",
    "mimics",
    "neurology",
    "inflammatory",
    "radiation",
    "health",
)
# Descriptive answers the population may vary; everything else in those sections must be "no".
MAY_VARY: dict[str, frozenset[str]] = {
    "radiation": frozenset({"arm", "leg", "leg_below_knee", "leg_pain_worse_than_back"}),
    "regions": frozenset({"worse_with_movement"}),
}
ONE_SIDE_OR_NONE = {"none", "left", "right"}
EXPLICIT_NO: dict[str, object] = {
    "radiation.sudden_onset": False,
    "history.trauma": "none",
    "health.anticoagulants": False,
    "health.pregnant": False,
}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    # bench/ is a folder of scripts, not a package: import the script by its folder.
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_triage_quality

    return bench_triage_quality


def _is_tri_state(annotation: object) -> bool:
    return set(get_args(annotation)) == {bool, type(None)}


def _none_option(annotation: object) -> bool:
    return any(
        get_origin(option) is Literal and "none" in get_args(option)
        for option in get_args(annotation)
    )


def _is_no(annotation: object, value: object) -> bool:
    """Whether `value` is the "no" answer; questions without a "no" (counts, days) always pass."""
    if _is_tri_state(annotation):
        return value is False
    return value == "none" or not _none_option(annotation)


def _section_violations(
    where: str, model: type[BaseModel], answers: dict[str, Any], may_vary: frozenset[str]
) -> list[str]:
    bad = []
    for name, field in model.model_fields.items():
        value = answers.get(name)
        if name in may_vary:
            if _none_option(field.annotation) and value not in ONE_SIDE_OR_NONE:
                bad.append(f"{where}.{name}={value!r} (not one side)")
        elif not _is_no(field.annotation, value):
            bad.append(f"{where}.{name}={value!r}")
    return bad


def violations(intake: Intake) -> list[str]:
    """Every warning-sign answer in `intake` that is not a definite "no"."""
    raw = intake.model_dump(mode="json")
    bad: list[str] = []
    for section in RED_FLAG_SECTIONS:
        model = type(getattr(intake, section))
        may_vary = MAY_VARY.get(section, frozenset())
        bad += _section_violations(section, model, raw[section], may_vary)
    for index, region in enumerate(raw["regions"]):
        bad += _section_violations(f"regions[{index}]", RegionPain, region, MAY_VARY["regions"])
    for path, no in EXPLICIT_NO.items():
        section, name = path.split(".")
        if raw[section][name] != no:
            bad.append(f"{path}={raw[section][name]!r}")
    # The vignette suite's curated list of red-flag questions, as a second opinion.
    bad += [f"{f.label}={f.get(raw)!r}" for f in red_flags(raw) if f.get(raw) != f.no_answer]
    return bad


def test_benign_population_answers_every_red_flag_no(bench: ModuleType) -> None:
    people = bench.generate_population(40, seed=7)
    assert {p.group for p in people} == {"neck", "upper_back", "low_back", "multi"}
    assert all(16 <= p.intake.age <= 90 for p in people)
    found = {f"person {i}: {v}" for i, p in enumerate(people) for v in violations(p.intake)}
    assert not found, sorted(found)[:20]


@pytest.mark.parametrize(
    ("path", "value", "label"),
    [
        (("cauda_equina", "saddle_numbness"), None, "cauda_equina.saddle_numbness=None"),
        (("history", "trauma"), "minor", "history.trauma='minor'"),
        (("neurology", "leg_weakness"), "left", "neurology.leg_weakness='left'"),
        (("radiation", "leg"), "both", "radiation.leg='both' (not one side)"),
        (("regions", 0, "worse_at_night"), True, "regions[0].worse_at_night=True"),
        (("health", "pregnant"), None, "health.pregnant=None"),
    ],
)
def test_check_reports_an_answer_that_is_not_no(
    bench: ModuleType, path: tuple[str | int, ...], value: object, label: str
) -> None:
    # The check above must be able to fail: plant one answer that is not "no" and it is reported.
    person = bench.generate_population(1, seed=3)[0]
    assert violations(person.intake) == []
    raw = person.intake.model_dump(mode="json")
    *parents, name = path
    target = raw
    for key in parents:
        target = target[key]
    target[name] = value
    assert label in violations(Intake.model_validate(raw))
