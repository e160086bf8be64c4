"""The clinician's summary of a patient's latest answers: rows built from the stored intake."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from spinepath import knowledge as kb
from spinepath.decision_aid.render import LEANING_WORDS
from spinepath.pathway.intake import Intake, Priority, TreatmentType
from spinepath.web.pages.answer_summary import (
    LEANING_LABELS,
    NOT_ANSWERED,
    PRIORITY_LABELS,
    TREATMENT_LABELS,
    AnswerSummary,
    Row,
    summarise,
)
from support.intakes import NO_NEUROLOGY, make, region


def glance(summary: AnswerSummary) -> dict[str, str]:
    return {row.label: row.value for row in summary.glance}


def summary_of(intake: Intake, **kwargs: Any) -> AnswerSummary:
    return summarise(intake, kb.default(), **kwargs)


def test_neck_pain_with_arm_pain_and_weakness() -> None:
    intake = make(
        age=58,
        sex="male",
        regions=[region("neck", duration_weeks=5, intensity=7)],
        radiation={"arm": "left"},
        neurology={**NO_NEUROLOGY, "arm_weakness": "left", "hand_clumsiness": True},
    )
    rows = glance(summary_of(intake))
    assert rows["Age, sex"] == "58, male"
    assert rows["Neck"] == "5 weeks, pain 7/10"
    assert rows["Arm pain"] == "left arm"
    assert rows["Leg pain"] == "none"
    assert rows["Neurology"] == "arm weakness (left); hand clumsiness"


def test_low_back_pain_with_leg_pain_below_the_knee_and_a_scan() -> None:
    intake = make(
        regions=[region("low_back", duration_weeks=14, intensity=8)],
        radiation={"leg": "both", "leg_below_knee": True, "both_legs_since_days": 2},
        treatments_tried=[
            {"type": "physiotherapy", "weeks": 6, "response": "partial"},
            {"type": "nsaid", "weeks": 1},
        ],
        imaging=[
            {
                "modality": "mri",
                "finding": "disc_herniation",
                "level": "L4-L5",
                "side": "left",
                "matches_symptoms": True,
                "weeks_ago": 3,
            }
        ],
    )
    summary = summary_of(intake)
    rows = glance(summary)
    assert rows["Low back"] == "14 weeks, pain 8/10"
    assert rows["Leg pain"] == "both legs, below the knee, second leg 2 days ago"
    assert rows["Treatments"] == "physiotherapy (6 weeks); NSAID (1 week)"
    assert rows["Imaging"] == "MRI: disc herniation"
    assert summary.treatments == (
        Row("Physiotherapy", "6 weeks, helped a little"),
        Row("NSAID", f"1 week, effect {NOT_ANSWERED}"),
    )
    assert summary.imaging == (
        Row("MRI", "disc herniation, L4-L5, left, fits the symptoms, 3 weeks ago"),
    )


def test_no_leg_pain_and_every_warning_sign_answered_no() -> None:
    summary = summary_of(make())
    rows = glance(summary)
    assert rows["Leg pain"] == "none"
    assert rows["Warning signs"] == "none"
    assert "Unanswered" not in rows
    assert rows["Treatments"] == rows["Imaging"] == "none reported"
    assert summary.red_flags == ()


def test_unanswered_questions_are_shown_as_not_answered() -> None:
    intake = Intake.model_validate(
        {"age": 40, "regions": [{"region": "low_back", "duration_weeks": 0, "intensity": 3}]}
    )
    summary = summary_of(intake)
    rows = glance(summary)
    assert rows["Age, sex"] == f"40, sex {NOT_ANSWERED}"
    assert rows["Low back"] == "0 weeks, pain 3/10"
    assert rows["Leg pain"] == rows["Arm pain"] == NOT_ANSWERED
    flags = {row.label: row.value for row in summary.red_flags}
    assert flags["Chest pain"] == NOT_ANSWERED
    assert flags["Numbness or tingling around the genitals, anus or buttocks"] == NOT_ANSWERED
    assert rows["Unanswered"] == f"{len(summary.red_flags)} warning signs (listed below)"
    assert all(row.attention for row in summary.red_flags)


def test_a_follow_up_question_that_does_not_apply_is_not_missing() -> None:
    # Days since the second leg became involved is asked only with pain in both legs.
    flags = [row.label for row in summary_of(make()).red_flags]
    assert "Days since the second leg became involved" not in flags
    both_legs = make(radiation={"leg": "both"})
    flags = [row.label for row in summary_of(both_legs).red_flags]
    assert "Days since the second leg became involved" in flags


def test_positive_warning_signs_come_first_and_are_named_in_the_summary() -> None:
    intake = make(systemic={"fever": True}, history={"cancer": None})
    summary = summary_of(intake)
    assert summary.red_flags[0] == Row("Fever", "yes", attention=True)
    assert Row("Cancer now or in the past", NOT_ANSWERED, attention=True) in summary.red_flags
    rows = glance(summary)
    assert rows["Warning signs"] == "Fever"
    assert rows["Unanswered"] == "Cancer now or in the past"


def test_major_trauma_is_a_warning_sign_and_a_simple_strain_is_not() -> None:
    assert glance(summary_of(make(history={"trauma": "major"})))["Warning signs"] == (
        "Trauma at onset"
    )
    assert glance(summary_of(make(history={"trauma": "strain"})))["Warning signs"] == "none"


def test_the_note_priorities_and_decision_aid_answers() -> None:
    note = "I look after my mother and need to be able to lift. " * 5
    intake = make(priorities=["fast_relief", "return_to_work"], what_matters_note=note)
    decision = {"importance": {"fast_relief": 4, "avoid_hospital": 1}, "note": "Worried."}
    summary = summary_of(
        intake,
        decision=decision,
        leaning="unsure",
        statements={"fast_relief": "Getting relief quickly"},
    )
    rows = glance(summary)
    assert rows["Priorities"] == "Quick relief, returning to work"
    assert rows["Patient's note"].endswith("… (in full below)")
    assert len(rows["Patient's note"]) < len(note)
    assert summary.note == note
    assert rows["Decision aid"] == "Unsure"
    assert summary.values == (
        Row("Getting relief quickly", "Extremely"),
        Row("avoid_hospital", "A little"),
    )
    assert summary.values_note == "Worried."


def test_without_decision_aid_answers_there_is_no_decision_row() -> None:
    summary = summary_of(make())
    assert "Decision aid" not in glance(summary)
    assert summary.values == ()
    assert glance(summary)["Priorities"] == "none chosen"


@pytest.mark.parametrize(
    ("labels", "answers"),
    [
        (LEANING_LABELS, set(LEANING_WORDS)),
        (PRIORITY_LABELS, set(get_args(Priority))),
        (TREATMENT_LABELS, set(get_args(TreatmentType))),
    ],
    ids=["leaning", "priority", "treatment"],
)
def test_every_answer_has_a_clinician_label(labels: dict[str, str], answers: set[str]) -> None:
    assert set(labels) == answers


def test_the_summary_speaks_of_the_patient_not_to_them() -> None:
    intake = make(
        radiation={"leg": "left"},
        priorities=["sleep"],
        treatments_tried=[{"type": "heat", "weeks": 2, "response": "good"}],
    )
    summary = summary_of(intake, decision={"importance": {}}, leaning="leaning_surgery")
    for row in (*summary.glance, *summary.red_flags, *summary.treatments):
        words = f"{row.label} {row.value}".lower().split()
        assert not {"you", "your", "i", "my"} & set(words), row
