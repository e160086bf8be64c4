"""PROM completion at each time point, MCID responders by the registry's thresholds (checked
against the per-person progress report), and the case-mix adjustment on a constructed example."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from population.measures.builders import Dataset, run
from population.measures.cases import Build, Case, row, run_cases
from population.measures.steps import DAY, prom, steps
from spinepath.instruments.progress import SeriesEntry, progress

B = date(2024, 3, 1)
LATER = date(2024, 11, 1)


def person(*parts: Build) -> Build:
    return steps(lambda ds, pid: ds.person(pid), *parts)


def done(timepoint: str, score: float | None = 30.0, instrument: str = "odi") -> Build:
    due = B if timepoint == "baseline" else LATER
    return prom(timepoint, due, instrument=instrument, completed=due + DAY, score=score)


COMPLETION = [
    Case("c-done", person(done("baseline")), ("prom-completion-baseline", True)),
    Case("c-missed", person(prom("6_weeks", B)), ("prom-completion-6-weeks", False)),
    Case(
        "c-half",
        person(done("3_months"), prom("3_months", LATER, instrument="nrs_back")),
        ("prom-completion-3-months", False),
    ),
    Case(
        "c-outside",
        person(prom("12_months", date(2025, 3, 1))),
        ("prom-completion-12-months", None),
    ),
]


@pytest.fixture(scope="module")
def completion(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    ids = [f"prom-completion-{t}" for t in ("baseline", "6-weeks", "3-months", "12-months")]
    return run_cases(COMPLETION, tmp_path_factory.mktemp("completion"), *ids)


@pytest.mark.parametrize("case", COMPLETION, ids=lambda c: c.name)
def test_completion_needs_every_questionnaire_due_at_the_time_point(
    completion: pl.DataFrame, case: Case
) -> None:
    measure, completed = case.expected
    found = row(completion, measure, case.name)
    assert (found is None) is (completed is None)
    if found is not None:
        assert found["in_denominator"]
        assert found["in_numerator"] is completed


def test_a_missed_questionnaire_says_what_was_missed(completion: pl.DataFrame) -> None:
    found = row(completion, "prom-completion-6-weeks", "c-missed")
    assert found is not None
    assert found["detail"] == f"not completed: odi due on {B}"


# --- responders --------------------------------------------------------------------------------

MCID = "prom-mcid-responders"


def scores(
    baseline: float, follow: float | None, timepoint: str = "12_months", instrument: str = "odi"
) -> Build:
    parts = [done("baseline", baseline, instrument)]
    if follow is not None:
        parts.append(done(timepoint, follow, instrument))
    return person(*parts)


RESPONDERS = [
    # ODI: at least 10 points and at least 30% better (both), per the registry (Ostelo 2008).
    Case("odi-40-to-28", scores(40, 28), ("odi", 40, 28, True)),  # 12 points, exactly 30%
    Case("odi-40-to-31", scores(40, 31), ("odi", 40, 31, False)),  # 9 points
    Case("odi-20-to-10", scores(20, 10), ("odi", 20, 10, True)),  # 10 points, 50%
    Case("odi-50-to-39", scores(50, 39), ("odi", 50, 39, False)),  # 11 points but 22%
    Case("odi-worse", scores(30, 45), ("odi", 30, 45, False)),
    # NDI: at least 5 points, no relative threshold.
    Case("ndi-20-to-15", scores(20, 15, instrument="ndi"), ("ndi", 20, 15, True)),
    Case("ndi-20-to-16", scores(20, 16, instrument="ndi"), ("ndi", 20, 16, False)),
    Case("ndi-8-to-3", scores(8, 3, instrument="ndi"), ("ndi", 8, 3, True)),
]


@pytest.fixture(scope="module")
def responders(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    cases = [
        *RESPONDERS,
        Case(
            "last-available",
            person(done("baseline", 40), done("3_months", 20), prom("12_months", LATER)),
        ),
        Case(
            "twelve-months-first",
            person(
                done("baseline", 40),
                done("6_weeks", 20),
                done("3_months", 20),
                done("12_months", 38),
            ),
        ),
        Case("no-follow-up", person(done("baseline", 40), prom("12_months", LATER))),
        Case("baseline-not-completed", person(prom("baseline", B), done("12_months", 10))),
        Case(
            "odi-before-ndi",
            person(
                done("baseline", 40),
                done("12_months", 38),
                done("baseline", 20, "ndi"),
                done("12_months", 10, "ndi"),
            ),
        ),
    ]
    return run_cases(cases, tmp_path_factory.mktemp("mcid"), MCID)


@pytest.mark.parametrize("case", RESPONDERS, ids=lambda c: c.name)
def test_responders_by_the_registry_mcid(responders: pl.DataFrame, case: Case) -> None:
    instrument, baseline, follow, expected = case.expected
    # The per-person progress report, from the same registry, must agree.
    report = progress(
        [
            SeriesEntry(date=B, instrument=instrument, score=float(baseline)),
            SeriesEntry(date=LATER, instrument=instrument, score=float(follow)),
        ],
        today=LATER,
    )
    assert report.series[0].points[-1].responder is expected
    found = row(responders, MCID, case.name)
    assert found is not None
    assert found["in_numerator"] is expected


def test_the_12_month_score_or_else_the_last_available_is_used(responders: pl.DataFrame) -> None:
    last = row(responders, MCID, "last-available")
    first = row(responders, MCID, "twelve-months-first")
    assert last is not None
    assert first is not None
    assert last["in_numerator"]
    assert last["detail"] == "odi 40.0 at baseline, 20.0 at 3 months"
    assert not first["in_numerator"]
    assert first["detail"] == "odi 40.0 at baseline, 38.0 at 12 months"


def test_missing_scores(responders: pl.DataFrame) -> None:
    missing = row(responders, MCID, "no-follow-up")
    assert missing is not None
    assert missing["exclusion_reason"] == "no_follow_up_score"
    assert row(responders, MCID, "baseline-not-completed") is None


def test_the_odi_is_chosen_when_both_have_a_baseline(responders: pl.DataFrame) -> None:
    found = row(responders, MCID, "odi-before-ndi")
    assert found is not None
    assert not found["in_numerator"]  # ODI 40 to 38; the NDI (20 to 10) would have responded


# --- case-mix adjustment -------------------------------------------------------------------------


def _case_mix(ds: Dataset, clinic: str, young: tuple[int, int], old: tuple[int, int]) -> None:
    """``young`` and ``old`` are (responders, non-responders), aged 30 and 70 at baseline."""
    for group, birth, (yes, no) in (("y", date(1994, 1, 1), young), ("o", date(1954, 1, 1), old)):
        for n in range(yes + no):
            pid = f"{clinic}-{group}{n}"
            ds.person(pid, clinic=clinic, birth=birth)
            ds.prom(pid, "baseline", B, completed=B, score=40.0)
            ds.prom(pid, "12_months", LATER, completed=LATER, score=20.0 if n < yes else 38.0)


def test_a_clinic_with_older_patients_gets_an_adjusted_rate_above_its_crude_rate(
    tmp_path: Path,
) -> None:
    ds = Dataset()
    _case_mix(ds, "A", young=(15, 5), old=(1, 4))
    _case_mix(ds, "B", young=(4, 1), old=(4, 16))
    results = run(ds, tmp_path, MCID).results
    by_clinic = {r["clinic_id"]: r for r in results.to_dicts()}
    # Age is the only covariate that varies, in two groups, so the fitted probabilities are the
    # group rates: young 19/25 = 0.76, old 5/25 = 0.2. Overall 24/50 = 0.48.
    # B expects 5 x 0.76 + 20 x 0.2 = 7.8 and has 8: adjusted 8 / 7.8 x 0.48.
    # A expects 20 x 0.76 + 5 x 0.2 = 16.2 and has 16: adjusted 16 / 16.2 x 0.48.
    b, a = by_clinic["B"], by_clinic["A"]
    assert b["rate"] == pytest.approx(8 / 25)
    assert b["expected"] == pytest.approx(7.8, abs=1e-6)
    assert b["adjusted_rate"] == pytest.approx(8 / 7.8 * 0.48, abs=1e-6)
    assert b["adjusted_rate"] > b["rate"]
    assert a["expected"] == pytest.approx(16.2, abs=1e-6)
    assert a["adjusted_rate"] == pytest.approx(16 / 16.2 * 0.48, abs=1e-6)
    assert a["adjusted_rate"] < a["rate"]
    assert by_clinic["ALL"]["expected"] == pytest.approx(24, abs=1e-6)
    assert by_clinic["ALL"]["adjusted_rate"] == pytest.approx(0.48, abs=1e-6)


def test_no_adjustment_when_everyone_responded(tmp_path: Path) -> None:
    ds = Dataset()
    _case_mix(ds, "A", young=(3, 0), old=(2, 0))
    results = run(ds, tmp_path, MCID).results
    assert results.get_column("expected").is_null().all()
    assert results.get_column("adjusted_rate").is_null().all()
    assert results.get_column("rate").to_list() == [1.0, 1.0]
