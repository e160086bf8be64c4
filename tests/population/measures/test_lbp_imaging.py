"""lbp-imaging (HEDIS LBP): who is in, each exclusion inside and just outside its window, the
28-day numerator boundary, the age limits, the 180-day negative history and the inverted rate.

Dates are worked out here from the definitions in docs/measures/lbp-imaging.md; the diagnosis is
on 1 June 2024 in a 2024 measurement period unless a case says otherwise. Every case is one
person of one data set, measured once for the module."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from population.measures.builders import Dataset, run
from population.measures.cases import Case, row, run_cases
from population.measures.steps import DAY, D, condition, episode, image, lbp, medicine
from population.measures.steps import steps as with_

ID = "lbp-imaging"


NUMERATOR = [
    Case(f"imaged-day-{n}", with_(lbp(), image(D + n * DAY)), n in (0, 1, 28))
    for n in (-1, 0, 1, 28, 29)
] + [
    Case(f"{modality}-{site}", with_(lbp(), image(D + 3 * DAY, modality, site)), counted)
    for modality, site, counted in [
        ("xray", "lumbar", True),
        ("ct", "lumbar", True),
        ("mri", "cervical", False),
        ("mri", "thoracic", False),
        ("mri", "other", False),
    ]
]

ANY_TIME = [
    "cancer",
    "hiv",
    "organ_transplant",
    "lumbar_surgery",
    "spondylopathy",
    "axial_spondyloarthritis",
]
TWELVE_MONTHS = ["iv_drug_use", "neurological_impairment", "spinal_infection", "cauda_equina"]
NINETY_DAYS = ["trauma", "fragility_fracture"]


def _window_cases(categories: list[str], dates: list[tuple[str, date, bool]]) -> list[Case]:
    return [
        Case(
            f"{category}-{label}", with_(lbp(), condition(category, on)), category if hit else None
        )
        for category in categories
        for label, on, hit in dates
    ]


EXCLUSIONS = (
    _window_cases(
        ANY_TIME,
        [
            ("1990", date(1990, 1, 1), True),
            ("day-0", D, True),
            ("day-28", D + 28 * DAY, True),
            ("day-29", D + 29 * DAY, False),
        ],
    )
    + _window_cases(
        TWELVE_MONTHS,
        [
            ("12-months-and-a-day", date(2023, 5, 31), False),
            ("12-months", date(2023, 6, 1), True),
            ("day-28", D + 28 * DAY, True),
            ("day-29", D + 29 * DAY, False),
        ],
    )
    + _window_cases(
        NINETY_DAYS,  # 1 June 2024 less 90 days is 3 March 2024
        [
            ("91-days", date(2024, 3, 2), False),
            ("90-days", date(2024, 3, 3), True),
            ("day-28", D + 28 * DAY, True),
            ("day-29", D + 29 * DAY, False),
        ],
    )
    + [
        Case(
            f"{category}-{label}",
            with_(lbp(), condition(category, recorded, ended)),
            category if hit else None,
        )
        for category in ("palliative_care", "hospice")
        for label, recorded, ended, hit in [
            ("ended-before-period", date(2022, 1, 1), date(2023, 12, 31), False),
            ("active-first-day", date(2022, 1, 1), date(2024, 1, 1), True),
            ("began-last-day", date(2024, 12, 31), None, True),
            ("after-period", date(2025, 1, 1), None, False),
        ]
    ]
    + [
        Case("osteoporosis-diagnosis", with_(lbp(), condition("osteoporosis", date(2020, 1, 1)))),
        Case(
            "osteoporosis-therapy-2001",
            with_(lbp(), medicine(date(2001, 1, 1), "osteoporosis_therapy")),
            "osteoporosis_therapy",
        ),
        Case(
            "osteoporosis-therapy-day-28",
            with_(lbp(), medicine(D + 28 * DAY, "osteoporosis_therapy")),
            "osteoporosis_therapy",
        ),
        Case(
            "osteoporosis-therapy-day-29",
            with_(lbp(), medicine(D + 29 * DAY, "osteoporosis_therapy")),
        ),
        Case(
            "steroids-90-days",
            with_(
                lbp(),
                medicine(date(2023, 6, 1), "systemic_corticosteroid"),
                medicine(date(2024, 1, 1), "systemic_corticosteroid"),
                medicine(D, "systemic_corticosteroid"),
            ),
            "prolonged_corticosteroids",
        ),
        Case(
            "steroids-89-days",
            with_(
                lbp(),
                medicine(date(2023, 6, 1), "systemic_corticosteroid"),
                medicine(date(2024, 1, 1), "systemic_corticosteroid"),
                medicine(D, "systemic_corticosteroid", 29),
            ),
        ),
        Case(
            "steroids-one-too-early",
            with_(
                lbp(),
                medicine(date(2023, 5, 31), "systemic_corticosteroid"),
                medicine(date(2024, 1, 1), "systemic_corticosteroid"),
                medicine(D, "systemic_corticosteroid"),
            ),
        ),
        Case("steroids-after", with_(lbp(), medicine(D + DAY, "systemic_corticosteroid", 90))),
        # 28 June 2024 less 180 days is 31 December 2023, before the period, so never the index.
        Case(
            "lbp-180-days-before",
            with_(lbp(date(2024, 6, 28)), episode(date(2023, 12, 31))),
            "lbp_in_prior_180_days",
        ),
        Case("lbp-181-days-before", with_(lbp(date(2024, 6, 28)), episode(date(2023, 12, 30)))),
        Case("neck-pain-before", with_(lbp(date(2024, 2, 1)), episode(date(2023, 12, 1), "neck"))),
        Case(
            "several-reasons",
            with_(
                lbp(),
                condition("trauma", D),
                condition("cancer", date(2001, 1, 1)),
                medicine(D, "osteoporosis_therapy"),
            ),
            "cancer; trauma; osteoporosis_therapy",
        ),
    ]
)

POPULATION = [
    Case("diagnosed-1-january", lbp(date(2024, 1, 1)), True),
    Case("diagnosed-3-december", lbp(date(2024, 12, 3)), True),
    Case("diagnosed-4-december", lbp(date(2024, 12, 4)), False),
    Case("diagnosed-2023", lbp(date(2023, 12, 31)), False),
    Case("17-at-start", lbp(birth=date(2006, 1, 2)), False),
    Case("18-at-start", lbp(birth=date(2006, 1, 1)), True),
    Case("75-at-end", lbp(birth=date(1949, 1, 1)), True),
    Case("76-at-end", lbp(birth=date(1948, 12, 31)), False),
    Case("no-birth-date", lbp(birth=None), False),
    Case("not-in-people", episode(D), False),
]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    cases = [
        *NUMERATOR,
        *EXCLUSIONS,
        *POPULATION,
        Case(
            "two-episodes",
            with_(lbp(date(2024, 3, 1)), episode(date(2024, 8, 1)), image(date(2024, 8, 2))),
        ),
    ]
    return run_cases(cases, tmp_path_factory.mktemp("lbp"), ID)


@pytest.mark.parametrize("case", NUMERATOR, ids=lambda c: c.name)
def test_lumbar_imaging_from_the_diagnosis_date_to_day_28_is_the_numerator(
    people: pl.DataFrame, case: Case
) -> None:
    found = row(people, ID, case.name)
    assert found is not None
    assert found["in_denominator"]
    assert found["in_numerator"] is case.expected


def test_the_days_to_imaging_are_counted_from_the_diagnosis(people: pl.DataFrame) -> None:
    found = row(people, ID, "imaged-day-28")
    assert found is not None
    assert (found["event_date"], found["days"]) == (D + 28 * DAY, 28)


@pytest.mark.parametrize("case", EXCLUSIONS, ids=lambda c: c.name)
def test_each_exclusion_inside_and_just_outside_its_window(
    people: pl.DataFrame, case: Case
) -> None:
    found = row(people, ID, case.name)
    assert found is not None
    assert found["exclusion_reason"] == case.expected
    assert found["excluded"] is (case.expected is not None)
    assert found["in_denominator"] is (case.expected is None)


@pytest.mark.parametrize("case", POPULATION, ids=lambda c: c.name)
def test_the_intake_period_and_the_ages_decide_who_is_in(people: pl.DataFrame, case: Case) -> None:
    assert (row(people, ID, case.name) is not None) is case.expected


def test_the_earliest_episode_of_the_intake_period_is_the_index(people: pl.DataFrame) -> None:
    found = row(people, ID, "two-episodes")
    assert found is not None
    assert found["index_date"] == date(2024, 3, 1)
    assert not found["in_numerator"]  # the image is within 28 days of the later episode only


def test_the_reported_rate_is_one_minus_the_imaging_rate(tmp_path: Path) -> None:
    ds = Dataset()
    for n in range(4):
        ds.person(f"p{n}").episode(f"p{n}", D)
    ds.image("p0", D)
    ds.person("x").episode("x", D)
    ds.condition("x", "cancer", D)
    results = run(ds, tmp_path, ID).results
    [total] = results.filter(pl.col("clinic_id") == "ALL").to_dicts()
    assert (total["initial_population"], total["exclusions"]) == (5, 1)
    assert (total["denominator"], total["numerator"]) == (4, 1)
    assert total["rate"] == pytest.approx(1 / 4)
    assert total["reported_rate"] == pytest.approx(3 / 4)
    assert total["higher_is_better"] is True
