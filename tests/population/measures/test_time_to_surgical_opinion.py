"""time-to-surgical-opinion: the wait from the assessment that met the referral criteria to the
first surgical opinion, the 18-week share, censoring at the period end, and Kaplan-Meier
quantiles worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from population.measures.builders import Dataset, run
from population.measures.cases import Build, Case, row
from population.measures.steps import DAY, procedure, steps
from spinepath.population.measures.survival import km_quantiles

ID = "time-to-surgical-opinion"
END = date(2024, 12, 31)


def referred(on: date, *more: date, due: bool = True, clinic: str = "C1") -> Build:
    def build(ds: Dataset, pid: str) -> None:
        ds.person(pid, clinic=clinic)
        for day in (on, *more):
            ds.assessment(pid, day, referral_due=due)

    return build


A = date(2024, 3, 1)
CASES = [
    Case(
        "seen-day-61",
        steps(referred(A), procedure(date(2024, 5, 1), "surgical_opinion")),
        ("in", 61, True),
    ),
    Case(
        "seen-day-126",
        steps(referred(A), procedure(A + 126 * DAY, "surgical_opinion")),
        ("in", 126, True),
    ),
    Case(
        "seen-day-127",
        steps(referred(A), procedure(A + 127 * DAY, "surgical_opinion")),
        ("in", 127, False),
    ),
    # 1 February to 31 December 2024: 334 days followed, never seen.
    Case("never-seen", referred(date(2024, 2, 1)), ("in", 334, False)),
    # 1 October to 31 December 2024: 91 days, less than 18 weeks.
    Case("too-recent", referred(date(2024, 10, 1)), ("followed_less_than_18_weeks", 91, False)),
    # Seen after the period: censored at its end, 213 days after 1 June.
    Case(
        "seen-after-period",
        steps(referred(date(2024, 6, 1)), procedure(date(2025, 1, 10), "surgical_opinion")),
        ("in", 213, False),
    ),
    Case(
        "opinion-before-referral",
        steps(referred(A), procedure(A - DAY, "surgical_opinion")),
        ("in", 305, False),
    ),
    Case(
        "first-referral-is-the-index",
        steps(referred(A, date(2024, 4, 1)), procedure(date(2024, 5, 1), "surgical_opinion")),
        ("in", 61, True),
    ),
    Case("not-due", referred(A, due=False), None),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    ds = Dataset()
    for case in CASES:
        case.build(ds, case.name)
    found = run(ds, tmp_path_factory.mktemp("opinion"), ID, end=END)
    return found.read_people(), found.results


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_wait(result: tuple[pl.DataFrame, pl.DataFrame], case: Case) -> None:
    found = row(result[0], ID, case.name)
    if case.expected is None:
        assert found is None
        return
    status, days, within = case.expected
    assert found is not None
    assert found["days"] == days
    assert found["exclusion_reason"] == (None if status == "in" else status)
    assert found["in_numerator"] is within


def test_the_waits_give_the_kaplan_meier_quantiles(
    result: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    # Waits: 61, 61, 126, 127 seen; 91, 213, 305, 334 censored (eight people).
    # S(61) = 1 - 2/8 = 0.75; at 91 one leaves censored, 5 at risk;
    # S(126) = 0.75 x 4/5 = 0.6; S(127) = 0.6 x 3/4 = 0.45; no later event.
    [total] = result[1].filter(pl.col("clinic_id") == "ALL").to_dicts()
    assert total["p25_days"] == 61
    assert total["median_days"] == 127
    assert total["p75_days"] is None
    # Seen within 18 weeks: 3 (61, 126, 61) of the 7 followed for 18 weeks or seen.
    assert (total["initial_population"], total["denominator"], total["numerator"]) == (8, 7, 3)


def test_km_with_every_time_an_event() -> None:
    assert km_quantiles([4, 1, 3, 2], [True] * 4) == [1.0, 2.0, 3.0]


def test_km_counts_a_censored_time_at_risk_at_that_time() -> None:
    # S(2) = 1 - 1/4 (the censored 2 is still at risk) = 0.75; S(5) = 0.75 x 1/2 = 0.375.
    assert km_quantiles([2, 2, 5, 6], [True, False, True, False]) == [2.0, 5.0, None]


def test_km_with_no_events_has_no_quantiles() -> None:
    assert km_quantiles([3, 9], [False, False]) == [None, None, None]
    assert km_quantiles([], []) == [None, None, None]
