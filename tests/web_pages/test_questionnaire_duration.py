"""How long the pain has lasted, in days or weeks: stored as completed weeks, shown as typed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import FormData

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.pathway.questionnaire import whole_weeks
from spinepath.web.pages import forms
from spinepath.web.pages.steps import PAIN, WHERE

from .journey import MINIMAL, answer_all, start

DURATION = "regions.low_back.duration_weeks"


def _answers(amount: str, unit: str | None, **extra: str) -> forms.Answers:
    """The answers once the pain step's form sent ``amount`` with ``unit`` (None: no select)."""
    answers = forms.merge({"age": "47"}, WHERE, {"regions.low_back.selected": "yes"})
    data = {DURATION: amount, "regions.low_back.intensity": "6"}
    if unit is not None:
        data[f"{DURATION}.unit"] = unit
    answers = forms.merge(answers, PAIN, forms.read_step(PAIN, FormData(data), answers))
    return {**answers, **extra}


def _intake(amount: str, unit: str | None, **extra: str) -> Intake:
    outcome = forms.validate(_answers(amount, unit, **extra))
    assert outcome.intake is not None, outcome.errors
    return outcome.intake


@pytest.mark.parametrize(
    ("amount", "unit", "weeks"),
    [
        ("0", "days", 0),
        ("6", "days", 0),
        ("7", "days", 1),
        ("27", "days", 3),
        ("28", "days", 4),
        ("41", "days", 5),
        ("42", "days", 6),
        ("6", "weeks", 6),
        ("83", "days", 11),
        ("84", "days", 12),
        ("90", "days", 12),
        ("91", "days", 13),
        ("12", "weeks", 12),
        ("12", None, 12),  # a form without the unit (an older page): weeks, as it always was
    ],
)
def test_a_duration_is_stored_in_completed_weeks(amount: str, unit: str | None, weeks: int) -> None:
    assert _intake(amount, unit).regions[0].duration_weeks == weeks


def test_whole_weeks_count_completed_weeks_only() -> None:
    assert [whole_weeks(d, "days") for d in (0, 6, 7, 13, 14)] == [0, 0, 1, 1, 2]
    assert whole_weeks(3, "weeks") == 3


# Sciatica (pain below the knee in one leg) and spinal stenosis (leg pain on walking eased by
# sitting): the surgical "enough time for natural recovery" criterion needs 6 and 12 weeks.
SCIATICA = {
    "radiation.leg": "left",
    "radiation.leg_below_knee": "yes",
    "neurology.walking_leg_pain_eased_by_sitting": "no",
}
STENOSIS = {"radiation.leg": "both", "neurology.walking_leg_pain_eased_by_sitting": "yes"}


def _duration_criterion(intake: Intake) -> bool | None:
    return next(c.met for c in assess(intake).surgical.criteria if c.code == "duration")


@pytest.mark.parametrize(
    ("amount", "unit", "pattern", "met"),
    [
        ("41", "days", SCIATICA, False),
        ("42", "days", SCIATICA, True),
        ("5", "weeks", SCIATICA, False),
        ("6", "weeks", SCIATICA, True),
        ("83", "days", STENOSIS, False),
        ("84", "days", STENOSIS, True),
        ("11", "weeks", STENOSIS, False),
        ("12", "weeks", STENOSIS, True),
    ],
)
def test_the_six_and_twelve_week_thresholds_hold_to_the_day(
    amount: str, unit: str, pattern: dict[str, str], met: bool
) -> None:
    assert _duration_criterion(_intake(amount, unit, **pattern)) is met


@pytest.mark.parametrize(
    ("amount", "unit", "duration_class"),
    [
        ("27", "days", "acute"),
        ("28", "days", "subacute"),
        ("84", "days", "subacute"),
        ("90", "days", "subacute"),  # 12 completed weeks: not yet "more than 12 weeks"
        ("91", "days", "chronic"),
    ],
)
def test_the_duration_class_follows_completed_weeks(
    amount: str, unit: str, duration_class: str
) -> None:
    assert assess(_intake(amount, unit)).pattern.duration_class == duration_class


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        ("a few", "days", "Enter a whole number, using digits (for example 6)."),
        ("-3", "days", "Enter 0 or more."),
        ("36407", "days", "Enter 5200 weeks (36400 days) or less."),
        ("5201", "weeks", "Enter 5200 weeks (36400 days) or less."),
    ],
)
def test_a_bad_duration_is_refused_on_its_field_in_words_for_either_unit(
    amount: str, unit: str, message: str
) -> None:
    assert forms.validate(_answers(amount, unit)).errors == {DURATION: message}


def test_the_review_shows_the_duration_as_it_was_typed(client: TestClient) -> None:
    link = start(client)
    pain = {**MINIMAL["pain"], DURATION: "3", f"{DURATION}.unit": "days"}
    answer_all(client, link, {"pain": pain})
    review = client.get(f"/p/{link}/review").text
    assert "<dd>3 days</dd>" in review
    page = client.get(f"/p/{link}/step/pain").text
    assert f'name="{DURATION}" value="3"' in page
    assert '<option value="days" selected>days</option>' in page


def test_one_day_is_said_in_the_singular(client: TestClient) -> None:
    link = start(client)
    pain = {**MINIMAL["pain"], DURATION: "1", f"{DURATION}.unit": "days"}
    answer_all(client, link, {"pain": pain})
    assert "<dd>1 day</dd>" in client.get(f"/p/{link}/review").text
