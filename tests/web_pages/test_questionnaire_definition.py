"""The questionnaire as data: clinical order, coverage of the intake, form <-> intake mapping."""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from spinepath import knowledge as kb
from spinepath.pathway.intake import Intake, RegionPain
from spinepath.web.pages import forms
from spinepath.web.pages.clinical import emergency_stop
from spinepath.web.pages.steps import (
    EMERGENCY,
    REGIONS,
    STEPS,
    WHERE,
    question_for_path,
)

KNOWLEDGE = kb.default()


def _tristate_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every yes/no/not-answered field of a model, nested models included."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths.extend(_tristate_paths(annotation, f"{prefix}{name}."))
        elif get_origin(annotation) in (typing.Union, types.UnionType) and set(
            get_args(annotation)
        ) == {bool, type(None)}:
            paths.append(prefix + name)
    return paths


SCREENED_ELSEWHERE = {"startback"}


def test_the_emergency_screen_comes_first() -> None:
    assert STEPS[0] is EMERGENCY


def test_the_web_emergency_screen_asks_every_emergency_question_and_nothing_else() -> None:
    screen = [q.path for s in STEPS if s.slug.startswith("emergency") for q in s.questions]
    assert screen == [q.fact for q in KNOWLEDGE.questions if q.screen == "emergency"]


def test_the_web_steps_ask_every_knowledge_base_question_once_in_its_order() -> None:
    asked = [q.path for s in STEPS for q in s.questions if q.red_flag]
    assert asked == [q.fact for q in KNOWLEDGE.questions]


def test_the_emergency_screen_comes_before_every_other_question() -> None:
    emergency = [i for i, s in enumerate(STEPS) if s.slug.startswith("emergency")]
    assert emergency == list(range(len(emergency)))


def test_a_follow_up_question_waits_for_the_page_after_the_answer_it_depends_on() -> None:
    page_of = {q.path: i for i, s in enumerate(STEPS) for q in s.questions}
    for question in KNOWLEDGE.questions:
        if question.ask_if is None:
            continue
        for fact in kb.answers_read(KNOWLEDGE, question.ask_if):
            if fact in page_of:
                assert page_of[fact] < page_of[question.fact], (question.fact, fact)


def test_the_web_asks_for_choices_in_the_words_of_the_knowledge_base() -> None:
    trauma = question_for_path("history.trauma")
    assert trauma is not None
    words = KNOWLEDGE.questions[[q.fact for q in KNOWLEDGE.questions].index("history.trauma")]
    assert [(c.value, c.label) for c in trauma.choices][:-1] == list((words.choices or {}).items())
    assert trauma.choices[-1].label == "Not sure"


def test_every_yes_no_question_of_the_intake_is_asked_by_some_step() -> None:
    missing = [
        p
        for p in _tristate_paths(Intake)
        if p.split(".")[0] not in SCREENED_ELSEWHERE and question_for_path(p) is None
    ]
    # Rest, night and straining are asked once for every painful region (as pain.*).
    region_missing = [
        f"regions.{r.value}.{p}"
        for r in REGIONS
        for p in _tristate_paths(RegionPain)
        if question_for_path(f"regions.{r.value}.{p}") is None
        and question_for_path(f"pain.{p}") is None
    ]
    assert missing == []
    assert region_missing == []
    assert question_for_path("pain.sudden_onset") is not None  # the regions' onset


def test_every_question_path_is_unique() -> None:
    paths = [q.path for s in STEPS for q in s.questions]
    assert len(paths) == len(set(paths))


def _form(data: dict[str, Any]) -> FormData:
    items: list[tuple[str, str | UploadFile]] = []
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((key, v))
    return FormData(items)


def _answers(**by_step: dict[str, Any]) -> forms.Answers:
    answers: forms.Answers = {}
    for step in STEPS:
        if step.slug.replace("-", "_") in by_step:
            new = forms.read_step(step, _form(by_step[step.slug.replace("-", "_")]), answers)
            answers = forms.merge(answers, step, new)
    return answers


BASE = {
    "about": {"age": "40"},
    "where": {"regions.low_back.selected": "yes"},
    "pain": {"regions.low_back.duration_weeks": "2", "regions.low_back.intensity": "5"},
}


def test_not_sure_is_kept_as_not_answered_never_as_no() -> None:
    answers = _answers(**BASE, emergency={"mimics.chest_pain": "unknown"})
    outcome = forms.validate(answers)
    assert outcome.intake is not None
    assert outcome.intake.mimics.chest_pain is None


def test_an_error_inside_a_region_names_that_regions_field() -> None:
    answers = _answers(
        **{
            **BASE,
            "pain": {"regions.low_back.duration_weeks": "2", "regions.low_back.intensity": "11"},
        }
    )
    assert forms.validate(answers).errors == {"regions.low_back.intensity": "Enter 10 or less."}


def test_an_error_in_a_treatment_names_that_treatments_field() -> None:
    answers = _answers(
        **BASE, treatments={"treatments.nsaid.tried": "yes", "treatments.nsaid.weeks": "two"}
    )
    errors = forms.validate(answers).errors
    assert set(errors) == {"treatments.nsaid.weeks"}


def test_a_child_is_refused_on_the_age_field() -> None:
    answers = _answers(**{**BASE, "about": {"age": "12"}})
    assert "aged 16 and over" in forms.validate(answers).errors["age"]


def test_no_region_ticked_is_an_error_on_the_region_question() -> None:
    answers = _answers(about={"age": "40"})
    assert forms.validate(answers).errors["regions"] == (
        "Tick at least one place where you have pain."
    )


def test_an_unticked_region_drops_its_pain_answers() -> None:
    answers = _answers(**BASE)
    answers = forms.merge(answers, WHERE, {"regions.neck.selected": "yes"})
    assert not any(k.startswith("regions.low_back.") for k in answers)


def test_a_scan_level_is_written_the_standard_way() -> None:
    answers = _answers(
        **BASE,
        imaging={
            "imaging.1.modality": "mri",
            "imaging.1.finding": "disc_herniation",
            "imaging.1.level": "l4 / l5",
        },
    )
    outcome = forms.validate(answers)
    assert outcome.intake is not None
    assert outcome.intake.imaging[0].level == "L4-L5"


def test_an_unknown_priority_is_ignored_not_stored() -> None:
    answers = _answers(**BASE, what_matters={"priorities": ["sleep", "win_the_lottery"]})
    assert answers["priorities"] == ["sleep"]


def test_a_pain_answer_asked_once_holds_for_every_painful_region() -> None:
    answers = _answers(
        about={"age": "40"},
        where={"regions.low_back.selected": "yes", "regions.neck.selected": "yes"},
        pain={
            "regions.low_back.duration_weeks": "2",
            "regions.low_back.intensity": "5",
            "regions.neck.duration_weeks": "1",
            "regions.neck.intensity": "3",
        },
        emergency={"pain.sudden_onset": "yes"},
        warning_signs={"pain.worse_at_night": "no"},
    )
    intake = forms.validate(answers).intake
    assert intake is not None
    assert {r.onset for r in intake.regions} == {"sudden"}
    assert {r.worse_at_night for r in intake.regions} == {False}


# Emergency-screen answers that are an emergency on their own, with the rule each fires.
POSITIVE = {
    "mimics.chest_pain": ("yes", "RF-CHEST-PAIN"),
    "mimics.pulsating_abdominal_mass": ("yes", "RF-PULSATILE-MASS"),
    "mimics.tearing_pain": ("yes", "RF-TEARING-PAIN"),
    "mimics.collapse_or_faint": ("yes", "RF-COLLAPSE"),
    "history.trauma": ("major", "RF-MAJOR-TRAUMA"),
    "neurology.leg_weakness": ("both", "RF-CES-BILATERAL-WEAKNESS"),
}
FINDINGS = {r.id: r.finding for r in KNOWLEDGE.red_flags}


@given(st.sets(st.sampled_from(sorted(POSITIVE))))
def test_any_positive_emergency_answer_stops_and_more_of_them_never_undo_it(
    positives: set[str],
) -> None:
    answers: forms.Answers = {path: POSITIVE[path][0] for path in positives}
    stop = emergency_stop(answers, still_asking=True)
    assert (stop is not None) == bool(positives)
    if stop is not None:
        assert {FINDINGS[POSITIVE[path][1]] for path in positives} <= set(stop.reasons)


def test_the_stop_rule_is_the_knowledge_base_emergency_red_flags_alone() -> None:
    # Breathlessness is an emergency with upper-back pain (RF-THORACIC-BREATHLESS), not alone.
    alone: forms.Answers = {"mimics.breathlessness": "yes"}
    assert emergency_stop(alone, still_asking=True) is None
    upper_back = {**alone, "age": "40", "regions.upper_back.selected": "yes"}
    stop = emergency_stop(upper_back, still_asking=True)
    assert stop is not None
    assert stop.reasons == [FINDINGS["RF-THORACIC-BREATHLESS"]]


ALL_PATHS = sorted(
    {q.path for s in STEPS for q in s.questions} | {f"startback.q{n}" for n in range(1, 10)}
)


@given(
    st.dictionaries(
        st.sampled_from(ALL_PATHS),
        st.one_of(
            st.sampled_from(["yes", "no", "unknown", "both", "none", "mri", "12", "-3", "1e9"]),
            st.text(max_size=12),
        ),
        max_size=25,
    )
)
def test_any_answers_give_an_intake_or_errors_that_name_a_step(raw: dict[str, str]) -> None:
    outcome = forms.validate(raw)
    assert (outcome.intake is None) == bool(outcome.errors)
    for path in outcome.errors:
        assert forms.owning_step(path) is not None, path
