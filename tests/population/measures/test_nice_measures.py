"""The NICE measures (QS155 statements 1 to 6, NG59's programmes, injections and opioids), each
case one person of one data set, with what the definition in docs/measures/ says should happen.

``expected`` is ``(in_initial_population, exclusion_reason, in_numerator)`` for the measure named
by the case list; the diagnosis is on 1 June 2024 unless a case says otherwise."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from population.measures.cases import Case, row, run_cases
from population.measures.steps import (
    DAY,
    D,
    assessment,
    condition,
    episode,
    image,
    lbp,
    medicine,
    plan,
    procedure,
    steps,
)

IN, OUT = True, False
HAD, NOT = True, False

STRATIFICATION = [
    Case(
        "strat-procedure-day-0", steps(lbp(), procedure(D, "risk_stratification")), (IN, None, HAD)
    ),
    Case(
        "strat-procedure-day-28",
        steps(lbp(), procedure(D + 28 * DAY, "risk_stratification")),
        (IN, None, HAD),
    ),
    Case(
        "strat-procedure-day-29",
        steps(lbp(), procedure(D + 29 * DAY, "risk_stratification")),
        (IN, None, NOT),
    ),
    Case(
        "strat-startback", steps(lbp(), assessment(D + 5 * DAY, startback="low")), (IN, None, HAD)
    ),
    Case("strat-startback-unanswered", steps(lbp(), assessment(D + 5 * DAY)), (IN, None, NOT)),
    Case("strat-telehealth", lbp(setting="telehealth"), (IN, None, NOT)),
    Case("strat-specialist", lbp(setting="specialist"), (OUT, None, NOT)),
    Case("strat-emergency", lbp(setting="emergency"), (OUT, None, NOT)),
    # 28 June 2024 less 180 days is 31 December 2023.
    Case(
        "strat-not-new",
        steps(lbp(date(2024, 6, 28)), episode(date(2023, 12, 31))),
        (IN, "lbp_in_prior_180_days", NOT),
    ),
    Case("strat-16-on-the-day", lbp(birth=date(2008, 6, 1)), (IN, None, NOT)),
    Case("strat-15", lbp(birth=date(2008, 6, 2)), (OUT, None, NOT)),
]

IMAGING = [
    Case("img-primary-care", steps(lbp(), image(D + 40 * DAY)), (IN, None, HAD)),
    Case("img-emergency", steps(lbp(), image(D + 40 * DAY, by="emergency")), (IN, None, HAD)),
    Case("img-specialist", steps(lbp(), image(D + 40 * DAY, by="specialist")), (IN, None, NOT)),
    Case("img-before-diagnosis", steps(lbp(), image(D - DAY)), (IN, None, NOT)),
    Case("img-cervical", steps(lbp(), image(D + DAY, site="cervical")), (IN, None, NOT)),
    Case(
        "img-red-flag",
        steps(lbp(assessed=True, concerns=["cancer"]), image(D)),
        (IN, "serious_pathology_suspected", NOT),
    ),
    Case(
        "img-imaging-indicated",
        lbp(assessed=True, imaging_indicated=True),
        (IN, "serious_pathology_suspected", NOT),
    ),
    Case(
        "img-urgent", lbp(assessed=True, level="urgent"), (IN, "serious_pathology_suspected", NOT)
    ),
    Case(
        "img-cancer-active",
        steps(lbp(), condition("cancer", date(2020, 1, 1))),
        (IN, "cancer", NOT),
    ),
    Case(
        "img-cancer-ended",
        steps(lbp(), condition("cancer", date(2020, 1, 1), date(2021, 1, 1)), image(D)),
        (IN, None, HAD),
    ),
    Case(
        "img-unlinked-day-28",
        steps(lbp(), assessment(D + 28 * DAY, linked=False, concerns=["fracture"])),
        (IN, "serious_pathology_suspected", NOT),
    ),
    Case(
        "img-unlinked-day-29",
        steps(lbp(), assessment(D + 29 * DAY, linked=False, concerns=["fracture"])),
        (IN, None, NOT),
    ),
]

SELF_MANAGEMENT = [
    Case("sm-keep-active", lbp(assessed=True, **plan("CP-KEEP-ACTIVE")), (IN, None, HAD)),
    Case("sm-pacing", lbp(assessed=True, **plan("CP-NSAID", "SM-PACING")), (IN, None, HAD)),
    Case("sm-other-items", lbp(assessed=True, **plan("CP-NSAID")), (IN, None, NOT)),
    Case("sm-no-assessment", lbp(), (IN, None, NOT)),
    Case(
        "sm-urgent", lbp(assessed=True, level="emergency"), (IN, "urgent_or_emergency_level", NOT)
    ),
]

MEDICINES_4A = [
    Case(
        "gaba-day-90",
        steps(lbp(assessed=True), medicine(D + 90 * DAY, "gabapentinoid")),
        (IN, None, HAD),
    ),
    Case(
        "gaba-day-91",
        steps(lbp(assessed=True), medicine(D + 91 * DAY, "gabapentinoid")),
        (IN, None, NOT),
    ),
    Case(
        "gaba-sciatica",
        steps(lbp(assessed="radicular"), medicine(D, "gabapentinoid")),
        (IN, "sciatica", NOT),
    ),
    Case(
        "gaba-sciatica-unknown",
        steps(lbp(), medicine(D, "gabapentinoid")),
        (IN, "sciatica_unknown", NOT),
    ),
]
MEDICINES_4B = [
    Case(
        "antidepressant", steps(lbp(assessed=True), medicine(D, "antidepressant")), (IN, None, HAD)
    ),
    Case(
        "antidepressant-none",
        steps(lbp(assessed=True), medicine(D, "gabapentinoid")),
        (IN, None, NOT),
    ),
]
MEDICINES_4C = [
    Case(
        "paracetamol-alone",
        steps(lbp(assessed=True), medicine(D + DAY, "paracetamol")),
        (IN, None, HAD),
    ),
    Case(
        "paracetamol-with-nsaid",
        steps(lbp(assessed=True), medicine(D + DAY, "paracetamol"), medicine(D + DAY, "nsaid")),
        (IN, None, NOT),
    ),
    Case(
        "paracetamol-then-nsaid",
        steps(lbp(assessed=True), medicine(D + DAY, "paracetamol"), medicine(D + 2 * DAY, "nsaid")),
        (IN, None, HAD),
    ),
]

CHRONIC = D - 84 * DAY  # 12 weeks before the diagnosis
OPIOIDS_CHRONIC = [
    Case(
        "opioid-chronic",
        steps(lbp(onset=CHRONIC, assessed=True), medicine(D + 90 * DAY, "opioid")),
        (IN, None, HAD),
    ),
    Case(
        "opioid-day-91",
        steps(lbp(onset=CHRONIC, assessed=True), medicine(D + 91 * DAY, "opioid")),
        (IN, None, NOT),
    ),
    Case(
        "opioid-83-days",
        steps(lbp(onset=D - 83 * DAY, assessed=True), medicine(D, "opioid")),
        (OUT, None, NOT),
    ),
    Case(
        "opioid-no-onset",
        steps(lbp(assessed=True), medicine(D, "opioid")),
        (IN, "onset_date_unknown", NOT),
    ),
    Case(
        "opioid-sciatica",
        steps(lbp(onset=CHRONIC, assessed="radicular"), medicine(D, "opioid")),
        (IN, None, HAD),
    ),
    Case(
        "opioid-cancer",
        steps(lbp(onset=CHRONIC), condition("cancer", D), medicine(D, "opioid")),
        (IN, "cancer", NOT),
    ),
    Case(
        "opioid-surgery",
        steps(lbp(onset=CHRONIC), procedure(D - 30 * DAY, "spinal_surgery")),
        (IN, "spinal_surgery", NOT),
    ),
    Case(
        "opioid-trauma-91-days-before",
        steps(lbp(onset=CHRONIC), condition("trauma", D - 91 * DAY)),
        (IN, None, NOT),
    ),
    Case(
        "opioid-trauma-90-days-before",
        steps(lbp(onset=CHRONIC), condition("trauma", D - 90 * DAY)),
        (IN, "trauma", NOT),
    ),
]
OPIOIDS_WITHOUT_SCIATICA = [
    Case("opioid-chronic", OPIOIDS_CHRONIC[0].build, (IN, None, HAD)),
    Case("opioid-sciatica", OPIOIDS_CHRONIC[4].build, (IN, "sciatica", NOT)),
    Case("opioid-cancer", OPIOIDS_CHRONIC[5].build, (IN, "cancer; sciatica_unknown", NOT)),
]

DENERVATION = [
    Case(
        "rfd-criteria-met",
        steps(
            lbp(assessed=True, **plan("CP-RFD")),
            procedure(D + 60 * DAY, "radiofrequency_denervation"),
        ),
        (IN, None, HAD),
    ),
    Case(
        "injection-without-criteria",
        steps(lbp(assessed=True), procedure(D + 30 * DAY, "spinal_injection")),
        (IN, None, NOT),
    ),
    Case(
        "criteria-after-injection",
        steps(
            lbp(assessed=True),
            procedure(D + 30 * DAY, "spinal_injection"),
            assessment(D + 40 * DAY, **plan("CP-RFD")),
        ),
        (IN, None, NOT),
    ),
    Case(
        "injection-sciatica",
        steps(lbp(assessed="radicular"), procedure(D + 30 * DAY, "epidural_injection")),
        (IN, "sciatica", NOT),
    ),
    Case("no-injection", lbp(assessed=True, **plan("CP-RFD")), (OUT, None, NOT)),
]

NG59_INJECTIONS = [
    Case(
        "ng-spinal-injection",
        steps(lbp(), procedure(D + 30 * DAY, "spinal_injection")),
        (IN, None, HAD),
    ),
    Case(
        "ng-denervation",
        steps(lbp(), procedure(D + 30 * DAY, "radiofrequency_denervation")),
        (IN, None, NOT),
    ),
    Case(
        "ng-epidural-acute-severe",
        steps(
            lbp(assessed="radicular", **plan("CP-EPIDURAL-SCIATICA")),
            procedure(D + 10 * DAY, "epidural_injection"),
        ),
        (IN, None, NOT),
    ),
    Case(
        "ng-epidural-not-advised",
        steps(lbp(assessed="radicular"), procedure(D + 10 * DAY, "epidural_injection")),
        (IN, None, HAD),
    ),
    Case(
        "ng-epidural-before-advice",
        steps(
            lbp(),
            procedure(D + 5 * DAY, "epidural_injection"),
            assessment(D + 10 * DAY, **plan("CP-EPIDURAL-SCIATICA")),
        ),
        (IN, None, HAD),
    ),
    Case(
        "ng-injection-before-diagnosis",
        steps(lbp(), procedure(D - DAY, "spinal_injection")),
        (IN, None, NOT),
    ),
]

EXERCISE = [
    Case(
        "exercise-taken-up",
        steps(
            lbp(assessed=True, **plan("CP-EXERCISE")), procedure(D + 20 * DAY, "exercise_programme")
        ),
        (IN, None, HAD),
    ),
    Case("exercise-not-taken-up", lbp(assessed=True, **plan("CP-EXERCISE")), (IN, None, NOT)),
    Case(
        "exercise-before-advice",
        steps(
            lbp(assessed=True, **plan("CP-EXERCISE")), procedure(D - 5 * DAY, "exercise_programme")
        ),
        (IN, None, NOT),
    ),
    Case("exercise-not-advised", lbp(assessed=True), (OUT, None, NOT)),
]

PSYCHOLOGICAL = [
    Case(
        "psych-high-risk",
        steps(
            lbp(assessed=True, startback="high"), procedure(D + 30 * DAY, "psychological_programme")
        ),
        (IN, None, HAD),
    ),
    Case("psych-advised", lbp(assessed=True, **plan("CP-COMBINED-PROGRAMME")), (IN, None, NOT)),
    Case("psych-medium-risk", lbp(assessed=True, startback="medium"), (OUT, None, NOT)),
]

BY_MEASURE = {
    "qs155-1-risk-stratification": STRATIFICATION,
    "qs155-2-imaging": IMAGING,
    "qs155-3-self-management": SELF_MANAGEMENT,
    "qs155-4a-anticonvulsants": MEDICINES_4A,
    "qs155-4b-antidepressants": MEDICINES_4B,
    "qs155-4c-paracetamol-alone": MEDICINES_4C,
    "lbp-opioids-chronic": OPIOIDS_CHRONIC,
    "qs155-5-opioids": OPIOIDS_WITHOUT_SCIATICA,
    "qs155-6-spinal-injections": DENERVATION,
    "ng59-spinal-injections": NG59_INJECTIONS,
    "ng59-exercise": EXERCISE,
    "ng59-psychological": PSYCHOLOGICAL,
}
PARAMS = [
    pytest.param(measure, case, id=f"{measure}:{case.name}")
    for measure, cases in BY_MEASURE.items()
    for case in cases
]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    unique = {case.name: case for cases in BY_MEASURE.values() for case in cases}
    return run_cases(unique.values(), tmp_path_factory.mktemp("nice"), *BY_MEASURE)


@pytest.mark.parametrize(("measure", "case"), PARAMS)
def test_each_case_lands_where_the_definition_says(
    people: pl.DataFrame, measure: str, case: Case
) -> None:
    included, reason, numerator = case.expected
    found = row(people, measure, case.name)
    assert (found is not None) is included
    if found is not None:
        assert found["exclusion_reason"] == reason
        assert found["in_denominator"] is (reason is None)
        assert found["in_numerator"] is numerator


def test_the_numerator_event_and_its_detail_are_recorded(people: pl.DataFrame) -> None:
    found = row(people, "lbp-opioids-chronic", "opioid-chronic")
    assert found is not None
    assert (found["event_date"], found["days"]) == (D + 90 * DAY, 90)
    assert found["detail"] == f"opioid prescribed on {D + 90 * DAY}"
