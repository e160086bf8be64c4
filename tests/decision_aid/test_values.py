"""The values-clarification exercise and the recorded leaning."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from spinepath.decision_aid import (
    DecisionAid,
    ValuesAnswers,
    build_decision_aid,
    render_html,
    with_values,
)
from support.intakes import sciatica_intake

from .helpers import make_assessment


def test_the_leaning_is_recorded_and_shown(sciatica_aid: DecisionAid) -> None:
    answers = ValuesAnswers(
        importance={"fast_relief": 4, "avoid_operation_risks": 1}, leaning="leaning_surgery"
    )
    aid = with_values(sciatica_aid, answers)
    assert aid.values is not None
    assert aid.values.leaning == "leaning_surgery"
    assert [(a.item_id, a.importance) for a in aid.values.answers] == [
        ("fast_relief", 4),
        ("avoid_operation_risks", 1),
    ]
    html = render_html(aid)
    assert 'data-leaning="leaning_surgery"' in html
    assert "Recorded:</strong> I am leaning towards surgery" in html


def test_no_leaning_is_recorded_until_the_person_gives_one(sciatica_aid: DecisionAid) -> None:
    assert sciatica_aid.values is None
    assert 'data-leaning="not_recorded"' in render_html(sciatica_aid)


def test_an_unknown_values_item_is_rejected_by_name(sciatica_aid: DecisionAid) -> None:
    answers = ValuesAnswers(importance={"cheapest": 2}, leaning="unsure")
    with pytest.raises(ValueError, match="importance: unknown values item 'cheapest'"):
        with_values(sciatica_aid, answers)


def test_importance_outside_0_to_4_is_rejected(sciatica_aid: DecisionAid) -> None:
    answers = ValuesAnswers(importance={"fast_relief": 7}, leaning="unsure")
    with pytest.raises(ValueError, match=r"importance\.fast_relief: must be 0-4"):
        with_values(sciatica_aid, answers)


def test_answers_are_strict() -> None:
    with pytest.raises(ValidationError, match="leaning"):
        ValuesAnswers.model_validate({"importance": {}, "leaning": "yes please"})
    with pytest.raises(ValidationError, match="importance"):
        ValuesAnswers.model_validate({"importance": {"fast_relief": "4"}, "leaning": "unsure"})


def test_priorities_from_the_intake_are_marked_in_the_exercise() -> None:
    aid = build_decision_aid(sciatica_intake(priorities=["avoid_surgery"]), make_assessment())
    marked = {v.id for v in aid.values_items if v.prefilled_from_priorities}
    assert marked == {"avoid_operation_risks"}


def test_the_exercise_has_items_for_and_against_surgery(sciatica_aid: DecisionAid) -> None:
    favours = {v.favours for v in sciatica_aid.values_items}
    assert {"surgery", "non_surgical"} <= favours


def test_what_matters_note_is_shown_back(sciatica_aid: DecisionAid) -> None:
    assert "lift my daughter again" in render_html(sciatica_aid)
