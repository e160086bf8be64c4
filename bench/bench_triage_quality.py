"""Clinical quality of triage: a benign synthetic population and the labelled vignettes.

Run: .venv/bin/python bench/bench_triage_quality.py [--n 3000] [--seed 20261121] [--check]
     [--json PATH]

(a) N people per region group (neck, upper_back, low_back, multi) who answer every warning-sign
    question "no": the share at each triage level by region, by age band and overall. Nobody in
    this population should be sent to urgent or emergency care, and few under 50 to "soon".
(b) Every vignette (tests/vignettes/cases) and labelled example (examples/): under- and
    over-triage, concern-set and candidacy agreement against the clinical labels.
With --check, exit 1 when any target fails. This is a benchmark, not a test: the figures are for
review while the engine changes.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from spinepath.pathway.assessment import Level
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Health, Intake, Radiation, RegionPain, TreatmentType

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ("neck", "upper_back", "low_back")
GROUPS = (*REGIONS, "multi")
AGE_BANDS = ((16, 49), (50, 69), (70, 90))
LEVELS = tuple(sorted(Level, key=lambda level: level.rank, reverse=True))
# Whole intake sections that hold only warning-sign questions (or their context): all "no".
RED_FLAG_SECTIONS = ("cauda_equina", "systemic", "history", "mimics", "neurology", "inflammatory")
TREATMENTS: tuple[str, ...] = get_args(TreatmentType)
SOON_UNDER_50_MAX = 5.0
OVER_TRIAGE_MAX = 10.0
CANDIDACY_MIN = 90.0


def no_answer(annotation: object) -> object:
    """The "no" answer for a question's type, or None when it is not a yes/no-style question.

    Tri-state questions answer False; side and trauma questions answer the literal "none".
    """
    options = get_args(annotation)
    if set(options) == {bool, type(None)}:
        return False
    for option in options or (annotation,):
        if get_origin(option) is Literal and "none" in get_args(option):
            return "none"
    return None


def all_no(model: type[BaseModel]) -> dict[str, object]:
    """Every question of `model` answered "no", read from the model so new questions are covered."""
    answers = {name: no_answer(field.annotation) for name, field in model.model_fields.items()}
    return {name: value for name, value in answers.items() if value is not None}


def section_model(name: str) -> type[BaseModel]:
    """The model class of one intake section (``"history"`` -> ``History``)."""
    model = Intake.model_fields[name].annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"intake field {name!r} is not a section")
    return model


def age_band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    raise ValueError(f"age {age} is outside the population's bands")


@dataclass(frozen=True)
class Person:
    group: str
    intake: Intake

    @property
    def band(self) -> str:
        return age_band(self.intake.age)


def _duration(rng: random.Random) -> int:
    # Most episodes seen are recent; a long tail runs to two years.
    return min(104, int(rng.expovariate(1 / 10)))


def _region(rng: random.Random, region: str) -> dict[str, object]:
    pain = all_no(RegionPain)
    pain.update(
        region=region,
        onset=rng.choice(["sudden", "gradual"]),
        duration_weeks=_duration(rng),
        quality=rng.choice([None, "dull", "sharp", "burning"]),
        extent=rng.choice([None, "focal", "spread"]),
        intensity=rng.choices(range(1, 11), weights=[3, 6, 9, 11, 12, 12, 10, 8, 5, 3])[0],
        worse_with_movement=rng.random() < 0.7,
    )
    return pain


def _radiation(rng: random.Random, regions: Sequence[str]) -> dict[str, object]:
    radiation = all_no(Radiation)
    if "neck" in regions and rng.random() < 0.3:
        radiation["arm"] = rng.choice(["left", "right"])
    if "low_back" in regions and rng.random() < 0.35:
        radiation["leg"] = rng.choice(["left", "right"])
        radiation["leg_below_knee"] = rng.random() < 0.5
        radiation["leg_pain_worse_than_back"] = rng.random() < 0.4
    return radiation


def _startback(rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {f"q{i}": rng.random() < 0.3 for i in range(1, 9)}
    answers["q9"] = rng.choices(
        ["not_at_all", "slightly", "moderately", "very_much", "extremely"],
        weights=[10, 30, 35, 18, 7],
    )[0]
    return answers


def _treatments(rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "type": kind,
            "weeks": rng.randint(0, 12),
            "response": rng.choice([None, "worse", "none", "partial", "good"]),
        }
        for kind in rng.sample(TREATMENTS, k=rng.randint(1, 3))
    ]


def benign_intake(rng: random.Random, group: str) -> Intake:
    """One adult with back or neck pain who answers every warning-sign question "no"."""
    regions = [group] if group in REGIONS else rng.sample(REGIONS, k=rng.choice([2, 2, 3]))
    data: dict[str, Any] = {
        section: all_no(section_model(section)) for section in RED_FLAG_SECTIONS
    }
    data.update(
        age=min(90, round(rng.triangular(16, 90, 45))),
        sex=rng.choices(["female", "male", "other"], weights=[52, 46, 2])[0],
        regions=[_region(rng, region) for region in regions],
        radiation=_radiation(rng, regions),
        health=all_no(Health),
    )
    if rng.random() < 0.5:
        data["startback"] = _startback(rng)
    if rng.random() < 0.5:
        data["treatments_tried"] = _treatments(rng)
    return Intake.model_validate(data)


def generate_population(n: int, seed: int) -> list[Person]:
    """`n` people per region group, reproducible from `seed`."""
    rng = random.Random(seed)
    return [Person(group, benign_intake(rng, group)) for group in GROUPS for _ in range(n)]


def _progress(label: str, done: int, total: int) -> None:
    """Progress on stderr: a line redrawn in a terminal, a few plain lines in a log."""
    live = sys.stderr.isatty()
    step = max(1, total // (20 if live else 4))
    if done != total and done % step:
        return
    if live:
        print(f"\r{label}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr)
    else:
        print(f"{label}: {done}/{total}", file=sys.stderr)


def population_shares(people: Sequence[Person]) -> dict[str, dict[str, float]]:
    """Per row (region group, age band, overall): n and % at each triage level."""
    counts: dict[str, Counter[str]] = {}
    for done, person in enumerate(people, start=1):
        level = assess(person.intake).triage.level.value
        for row in (person.group, person.band, "overall"):
            counts.setdefault(row, Counter())[level] += 1
        _progress("assessing population", done, len(people))
    rows = [*GROUPS, *(age_band(low) for low, _ in AGE_BANDS), "overall"]
    shares: dict[str, dict[str, float]] = {}
    for row in rows:
        tally = counts.get(row, Counter())
        total = sum(tally.values())
        shares[row] = {"n": total}
        for level in LEVELS:
            shares[row][level.value] = 100 * tally[level.value] / total if total else 0.0
    return shares


def _table(shares: dict[str, dict[str, float]]) -> Iterator[str]:
    yield f"{'':<12}{'n':>7}" + "".join(f"{level.value:>11}" for level in LEVELS)
    for row, figures in shares.items():
        cells = "".join(f"{figures[level.value]:>10.1f}%" for level in LEVELS)
        yield f"{row:<12}{int(figures['n']):>7}{cells}"


@dataclass(frozen=True)
class Labelled:
    id: str
    expected: dict[str, object]
    got: dict[str, object]

    @property
    def expected_rank(self) -> int:
        return Level(str(self.expected["level"])).rank

    @property
    def got_rank(self) -> int:
        return Level(str(self.got["level"])).rank

    @property
    def shift(self) -> str:
        return f"{self.id} ({self.expected['level']}->{self.got['level']})"


def labelled_outcomes() -> list[Labelled]:
    """Engine vs label for every vignette and example, in the shape of the vignette tests."""
    # The vignette loader lives with the tests (importable as `vignettes`, as pytest names it);
    # importing it here, after the path is set, keeps one reading of the case-file format.
    sys.path.insert(0, str(ROOT / "tests"))
    from vignettes.cases import expected_outcome, load_cases, load_examples, outcome

    pairs = [(c.id, c.vignette.intake, c.vignette.expected) for c in load_cases()]
    pairs += [(e.name, e.intake, e.expected) for e in load_examples()]
    out = []
    for done, (case_id, intake, expected) in enumerate(pairs, start=1):
        got = outcome(assess(intake), with_pattern=False)
        want = expected_outcome(expected)
        want.pop("pattern", None)
        out.append(Labelled(case_id, want, got))
        _progress("assessing vignettes and examples", done, len(pairs))
    return out


def labelled_figures(cases: Sequence[Labelled]) -> dict[str, Any]:
    under = [c.shift for c in cases if c.got_rank < c.expected_rank]
    over = [c.shift for c in cases if c.got_rank > c.expected_rank]
    non_urgent = [c for c in cases if c.expected_rank < Level.URGENT.rank]
    over_non_urgent = [c.shift for c in non_urgent if c.got_rank > c.expected_rank]

    def agree(key: str) -> float:
        return 100 * sum(c.got[key] == c.expected[key] for c in cases) / len(cases)

    return {
        "cases": len(cases),
        "under_triage": under,
        "over_triage": over,
        "non_urgent_cases": len(non_urgent),
        "over_triage_non_urgent": over_non_urgent,
        "over_triage_non_urgent_percent": 100 * len(over_non_urgent) / max(1, len(non_urgent)),
        "concern_agreement_percent": agree("concerns"),
        "candidacy_agreement_percent": agree("candidacy"),
    }


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool
    figure: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.figure}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=3000, help="people per region group")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all figures as JSON")
    args = parser.parse_args(argv)
    print("$ " + shlex.join(sys.orig_argv))
    start = time.perf_counter()

    people = generate_population(args.n, args.seed)
    shares = population_shares(people)
    print(f"\n(a) benign population: {args.n} per region group, seed {args.seed}")
    print("\n".join(_table(shares)))
    overall = shares["overall"]
    urgent_or_worse = overall[Level.URGENT.value] + overall[Level.EMERGENCY.value]
    soon_young = shares[age_band(16)][Level.SOON.value]

    cases = labelled_outcomes()
    figures = labelled_figures(cases)
    print(f"\n(b) {figures['cases']} vignettes and examples")
    for kind in ("under_triage", "over_triage"):
        shifts = figures[kind]
        print(f"{kind.replace('_', '-')}: {len(shifts)}" + "".join(f"\n  {s}" for s in shifts))
    print(
        f"over-triage of non-urgent cases: {len(figures['over_triage_non_urgent'])}"
        f"/{figures['non_urgent_cases']} = {figures['over_triage_non_urgent_percent']:.1f}%"
    )
    print(f"concern-set agreement: {figures['concern_agreement_percent']:.1f}%")
    print(f"candidacy agreement: {figures['candidacy_agreement_percent']:.1f}%")

    targets = [
        Target(
            "benign urgent+emergency overall = 0%", urgent_or_worse == 0, f"{urgent_or_worse:.2f}%"
        ),
        Target(
            f"benign 'soon' under 50 <= {SOON_UNDER_50_MAX:g}%",
            soon_young <= SOON_UNDER_50_MAX,
            f"{soon_young:.2f}%",
        ),
        Target(
            "vignette under-triage = 0",
            not figures["under_triage"],
            str(len(figures["under_triage"])),
        ),
        Target(
            f"vignette over-triage of non-urgent <= {OVER_TRIAGE_MAX:g}%",
            figures["over_triage_non_urgent_percent"] <= OVER_TRIAGE_MAX,
            f"{figures['over_triage_non_urgent_percent']:.1f}%",
        ),
        Target(
            f"vignette candidacy agreement >= {CANDIDACY_MIN:g}%",
            figures["candidacy_agreement_percent"] >= CANDIDACY_MIN,
            f"{figures['candidacy_agreement_percent']:.1f}%",
        ),
    ]
    print("\ntargets:")
    print("\n".join(target.line() for target in targets))
    print(f"\n{len(people) + len(cases)} assessments in {time.perf_counter() - start:.1f} s")

    if args.json:
        report = {
            "command": shlex.join(sys.orig_argv),
            "n_per_group": args.n,
            "seed": args.seed,
            "population": shares,
            "labelled": figures,
            "targets": [
                {"target": t.name, "figure": t.figure, "passed": t.passed} for t in targets
            ],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    failed = not all(target.passed for target in targets)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
