"""Branching: a question is asked only while the answers so far leave it applicable.

Tables from the step definitions, then properties over random answers: every question shown
applies, no answer to a hidden question reaches the intake, and the progress count matches the
steps a walk through the questionnaire visits.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, UploadFile

from spinepath import knowledge as kb
from spinepath.instruments.startback import Bothersomeness
from spinepath.pathway.intake import Intake
from spinepath.pathway.questionnaire import LEG_FOLLOW_UPS
from spinepath.web.pages import forms
from spinepath.web.pages.steps import (
    ABOUT,
    INFLAMMATORY,
    LIMBS,
    PAIN,
    REGIONS,
    STARTBACK,
    STARTBACK_PATHS,
    STEPS,
    WHERE,
    Flow,
    Question,
    Step,
    question_for_path,
    step_index,
)

KNOWLEDGE = kb.default()
NO_LEGS = {
    "radiation.leg": "none",
    "neurology.leg_numbness_or_tingling": "none",
    "neurology.leg_weakness": "none",
}
LOW_BACK_3_WEEKS = {
    "age": "40",
    "regions.low_back.selected": "yes",
    "regions.low_back.duration_weeks": "3 weeks",
    "regions.low_back.intensity": "5",
}
LOW_BACK_14_WEEKS = {**LOW_BACK_3_WEEKS, "regions.low_back.duration_weeks": "14 weeks"}
NECK_ONLY = {**LOW_BACK_3_WEEKS, "regions.low_back.selected": "", "regions.neck.selected": "yes"}


def _shown(path: str, answers: dict[str, str]) -> bool:
    question = question_for_path(path)
    assert question is not None, path
    return question.shown(forms.facts_of({k: v for k, v in answers.items() if v}))


@pytest.mark.parametrize(
    ("path", "answers", "shown"),
    [
        # Leg-pain details: only when pain spreads into a leg, or nobody said yet.
        ("radiation.leg_below_knee", {}, True),
        ("radiation.leg_below_knee", {"radiation.leg": "unknown"}, True),
        ("radiation.leg_below_knee", {"radiation.leg": "left"}, True),
        ("radiation.leg_below_knee", {"radiation.leg": "none"}, False),
        ("radiation.leg_pain_worse_than_back", {"radiation.leg": "both"}, True),
        ("radiation.leg_pain_worse_than_back", {"radiation.leg": "none"}, False),
        # Claudication can be numbness or heaviness: any leg symptom keeps it.
        ("neurology.walking_leg_pain_eased_by_sitting", NO_LEGS, False),
        (
            "neurology.walking_leg_pain_eased_by_sitting",
            {**NO_LEGS, "neurology.leg_weakness": "right"},
            True,
        ),
        (
            "neurology.walking_leg_pain_eased_by_sitting",
            {**NO_LEGS, "neurology.leg_numbness_or_tingling": "unknown"},
            True,
        ),
        # A region's questions: only for a region ticked, or before any is.
        ("regions.neck.intensity", {}, True),
        ("regions.neck.intensity", LOW_BACK_3_WEEKS, False),
        ("regions.neck.intensity", NECK_ONLY, True),
        ("regions.low_back.duration_weeks", NECK_ONLY, False),
        # Spondyloarthritis features: low back pain over 12 weeks that began before 45.
        ("inflammatory.buttock_pain", {}, True),
        ("inflammatory.buttock_pain", LOW_BACK_14_WEEKS, True),
        ("inflammatory.buttock_pain", LOW_BACK_3_WEEKS, False),
        ("inflammatory.buttock_pain", {**LOW_BACK_14_WEEKS, "age": "70"}, False),
        ("inflammatory.buttock_pain", {**NECK_ONLY, "regions.neck.duration_weeks": "30"}, False),
        # Neck questions of the knowledge base: only with neck pain.
        ("neurology.electric_shocks_on_neck_bending", NECK_ONLY, True),
        ("neurology.electric_shocks_on_neck_bending", LOW_BACK_3_WEEKS, False),
    ],
)
def test_a_question_is_asked_only_while_it_can_apply(
    path: str, answers: dict[str, str], shown: bool
) -> None:
    assert _shown(path, answers) is shown


def test_the_web_and_the_interview_branch_on_the_same_leg_pain_conditions() -> None:
    web = [(q.path, q.label, q.ask_if) for q in LIMBS.questions]
    assert web == [(f.path, f.question, f.ask_if) for f in LEG_FOLLOW_UPS]


def test_no_leg_pain_skips_the_leg_pain_page() -> None:
    flow = Flow(startback=False)
    assert not flow.shows(LIMBS, forms.facts_of(NO_LEGS))
    assert flow.shows(LIMBS, forms.facts_of({**NO_LEGS, "radiation.leg": "left"}))


def _step_of_fact(fact: str) -> Step:
    """The step whose answer gives ``fact`` (a region's facts come from its pain details)."""
    parts = fact.split(".")
    if parts[0] == "pain" and len(parts) == 2 and parts[1] in {r.value for r in REGIONS}:
        return WHERE
    if parts[0] == "pain" and len(parts) == 3:
        fact = f"regions.{parts[1]}.{parts[2]}"
    if fact in {"pain.onset_age", "pain.duration_weeks", "pain.max_intensity"}:
        return PAIN
    if fact == "age":
        return ABOUT
    question = question_for_path(fact)
    assert question is not None, f"{fact} is asked by no step"
    return next(s for s in STEPS if question in s.questions)


BRANCHING = [(s, q) for s in STEPS for q in s.questions if q.ask_if is not None]


@pytest.mark.parametrize(("step", "question"), BRANCHING, ids=[q.path for _, q in BRANCHING])
def test_a_question_branches_only_on_answers_given_on_an_earlier_page(
    step: Step, question: Question
) -> None:
    assert question.ask_if is not None
    for fact in kb.answers_read(KNOWLEDGE, question.ask_if):
        assert step_index(_step_of_fact(fact).slug) < step_index(step.slug), fact


def test_startback_is_a_step_only_where_its_wording_is_installed() -> None:
    facts = forms.facts_of(LOW_BACK_3_WEEKS)
    with_wording = Flow(startback=True).shown_steps(facts)
    without = Flow(startback=False).shown_steps(facts)
    assert STARTBACK in with_wording
    assert without == [s for s in with_wording if s is not STARTBACK]


def test_answers_to_questions_that_no_longer_apply_are_dropped() -> None:
    answers = {
        **LOW_BACK_3_WEEKS,
        "radiation.leg": "left",
        "radiation.leg_below_knee": "yes",
        "radiation.leg_pain_worse_than_back": "yes",
    }
    changed = forms.prune({**answers, "radiation.leg": "none"})
    assert "radiation.leg_below_knee" not in changed
    assert "radiation.leg_pain_worse_than_back" not in changed
    outcome = forms.validate(changed)
    assert outcome.intake is not None
    assert outcome.intake.radiation.leg_below_knee is None


def test_a_hidden_question_is_not_read_from_a_stale_form() -> None:
    form = FormData({"radiation.leg_below_knee": "yes"})
    assert forms.read_step(LIMBS, form, NO_LEGS) == {}


# --- Properties over random answers -------------------------------------------------------------

_EXTRA_FIELDS = {
    q.path: [f"{q.path}{forms.UNIT_SUFFIX}"]
    for s in STEPS
    for q in s.questions
    if q.kind == "duration"
}


# Age, a scan's finding and a treatment's weeks are required: always answer those.
_REQUIRED_SUFFIXES = (".finding", ".weeks", "age")


def _value(question: Question) -> st.SearchStrategy[Any]:
    """A valid raw answer for ``question``, or nothing (the empty string)."""
    if question.path.endswith(_REQUIRED_SUFFIXES) and question.kind == "choice":
        return st.sampled_from([c.value for c in question.choices])
    if question.kind == "tristate":
        return st.sampled_from(["yes", "no", "unknown", ""])
    if question.kind == "choice":
        return st.sampled_from([c.value for c in question.choices] + [""])
    if question.kind == "check":
        return st.sampled_from(["yes", ""])
    if question.kind == "multi":
        return st.lists(st.sampled_from([c.value for c in question.choices]), unique=True)
    if question.kind == "duration":
        days = st.integers(0, 200).map(lambda n: f"{n} days")
        return st.one_of(days, st.integers(0, 60).map(lambda n: f"{n} weeks"))
    if question.kind == "int":
        low = int(question.minimum or 0)
        number = st.integers(low, min(int(question.maximum or 60), low + 60)).map(str)
        if question.path.endswith(_REQUIRED_SUFFIXES):
            return number
        return st.one_of(st.just(""), number)
    return st.just("")


_ALL_QUESTIONS = [q for s in STEPS for q in s.questions]
_REGION_PATHS = [q.path for q in WHERE.questions]


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid answer to every question (or none), with at least one region ticked."""
    raw: dict[str, Any] = {}
    for question in _ALL_QUESTIONS:
        if question.path in _REGION_PATHS:
            continue
        value = draw(_value(question))
        if value not in ("", []) or question.path.startswith("regions."):
            raw[question.path] = value
    ticked = draw(st.lists(st.sampled_from(_REGION_PATHS), min_size=1, unique=True))
    raw.update(dict.fromkeys(ticked, "yes"))
    for region in REGIONS:
        # A ticked region's duration and intensity are required: always give them.
        raw[f"regions.{region.value}.duration_weeks"] = str(draw(st.integers(0, 30)))
        raw[f"regions.{region.value}.intensity"] = str(draw(st.integers(0, 10)))
    for path in STARTBACK_PATHS[:-1]:
        raw[path] = draw(st.sampled_from(["true", "false"]))
    raw[STARTBACK_PATHS[-1]] = draw(st.sampled_from(get_args(Bothersomeness)))
    return raw


def _form_for(step: Step, raw: dict[str, Any]) -> FormData:
    """What a person sends on ``step`` whose answers are ``raw``."""
    items: list[tuple[str, str | UploadFile]] = []
    paths = [q.path for q in step.questions] + (list(STARTBACK_PATHS) if step is STARTBACK else [])
    for path in paths:
        value = raw.get(path, "")
        if path in _EXTRA_FIELDS and isinstance(value, str) and " " in value:
            amount, unit = value.split(" ")
            items += [(path, amount), (_EXTRA_FIELDS[path][0], unit)]
            continue
        for one in value if isinstance(value, list) else [value]:
            items.append((path, one))
    return FormData(items)


def _walk(raw: dict[str, Any], flow: Flow) -> tuple[list[Step], list[int], forms.Answers]:
    """Steps a person visits answering ``raw``, the progress total on each, the final draft."""
    answers: forms.Answers = {}
    visited: list[Step] = []
    totals: list[int] = []
    for step in STEPS:
        facts = forms.facts_of(answers)
        if not flow.shows(step, facts):
            continue
        shown = flow.shown_steps(facts)
        assert shown.index(step) == len(visited)  # "step N": N counts the pages visited
        visited.append(step)
        totals.append(len(shown))
        new = forms.read_step(step, _form_for(step, raw), answers)
        answers = forms.merge(answers, step, new, flow)
    return visited, totals, answers


def _intake_value(intake: Intake, path: str) -> object:
    """What the intake holds for a question path (a missing region holds nothing)."""
    head, _, rest = path.partition(".")
    if head == "regions":
        region, _, name = rest.partition(".")
        entry = next((r for r in intake.regions if r.region == region), None)
        return None if entry is None else getattr(entry, name)
    if head == "pain":
        name = "onset" if rest == "sudden_onset" else rest
        values = {getattr(r, name) for r in intake.regions}
        return None if values == {None} else values
    section = getattr(intake, head)
    return getattr(section, rest) if rest else section


@settings(max_examples=25, deadline=None)
@given(answer_sets(), st.booleans())
def test_every_question_shown_applies_and_the_progress_counts_the_pages_visited(
    raw: dict[str, Any], startback: bool
) -> None:
    flow = Flow(startback=startback)
    visited, totals, final = _walk(raw, flow)
    facts = forms.facts_of(final)
    for step in visited:
        # Asked on the way means still applicable once everything is answered.
        assert flow.shows(step, facts), step.slug
        for question in step.questions:
            if question.path in final:
                assert question.shown(facts), question.path
    # The total may only fall as answers rule pages out, and ends at the pages visited.
    assert totals == sorted(totals, reverse=True)
    assert totals[-1] == len(visited) == len(flow.shown_steps(facts))
    assert (STARTBACK in visited) is startback


@settings(max_examples=25, deadline=None)
@given(answer_sets(), st.booleans())
def test_no_answer_to_a_hidden_question_reaches_the_intake(
    raw: dict[str, Any], startback: bool
) -> None:
    flow = Flow(startback=startback)
    # Every question answered, as a draft is after going back and changing an earlier answer.
    stale: forms.Answers = {k: v for k, v in raw.items() if v not in ("", [])}
    pruned = forms.prune(stale, flow)
    outcome = forms.validate(pruned)
    assert outcome.intake is not None, outcome.errors
    facts = forms.facts_of(pruned)
    for question in _ALL_QUESTIONS:
        if question.ask_if is None or question.kind == "check":
            continue
        if question.shown(facts):
            if question.path in stale:
                assert question.path in pruned, question.path  # nothing applicable is lost
        else:
            assert question.path not in pruned
            assert _intake_value(outcome.intake, question.path) is None, question.path
    assert (outcome.intake.startback is not None) is startback
    if not flow.shows(INFLAMMATORY, facts):
        assert outcome.intake.inflammatory == type(outcome.intake.inflammatory)()
