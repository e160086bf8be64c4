"""Clinical safety properties (README.md, "Clinical safety rules") over generated valid intakes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from spinepath import knowledge as kb
from spinepath.pathway.assessment import Assessment, Level
from spinepath.pathway.engine import UNANSWERED_RULE_ID, assess
from spinepath.pathway.facts import flatten
from spinepath.pathway.intake import Intake
from support.intakes import make, region

from .strategies import RED_FLAG_REGION_FLAGS, SECTIONS, intake_data, literal_values

KB = kb.default()
FAST = settings(max_examples=60, deadline=None, database=None)
KB_IDS = frozenset(key for _kind, key, _entry in KB.entries())

# Sections whose fields are warning signs (or, for inflammatory, referral criteria).
RED_FLAG_SECTIONS = ("radiation", "neurology", "cauda_equina", "systemic", "history", "mimics")


def _positive_value(annotation: object) -> object | None:
    """What "yes" is for a field: True, "both" for a side, "major" for trauma."""
    values = literal_values(annotation)
    if not values:
        return True
    for value in ("both", "major"):
        if value in values:
            return value
    return None


def _red_flag_fields() -> list[tuple[str, str, object]]:
    out = []
    for section in (*RED_FLAG_SECTIONS, "inflammatory"):
        for name, field in SECTIONS[section].model_fields.items():
            if name == "onset_days":
                continue
            # "Days since the second leg" is most alarming at 0 (it began today).
            positive = 0 if name.endswith("_days") else _positive_value(field.annotation)
            if positive is not None:
                out.append((section, name, positive))
    out.append(("health", "anticoagulants", True))
    return out


RED_FLAG_FIELDS = _red_flag_fields()


def _is_not_yet_positive(value: object) -> bool:
    return value is None or value is False or value in {"none", "left", "right", "strain", "minor"}


@settings(max_examples=120, deadline=None, database=None)
@given(intake_data(), st.data())
def test_it_never_lowers_urgency_when_a_red_flag_finding_is_added(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    before = Intake.model_validate(data)
    changed = copy.deepcopy(data)
    if draw.draw(st.booleans(), label="change a region"):
        index = draw.draw(st.integers(0, len(changed["regions"]) - 1), label="region")
        flag = draw.draw(st.sampled_from(RED_FLAG_REGION_FLAGS), label="flag")
        if changed["regions"][index][flag] is True:
            return
        changed["regions"][index][flag] = True
    else:
        section, name, positive = draw.draw(st.sampled_from(RED_FLAG_FIELDS), label="field")
        if not _is_not_yet_positive(changed[section][name]):
            return
        changed[section][name] = positive
    after = Intake.model_validate(changed)
    assert assess(after).triage.level.rank >= assess(before).triage.level.rank


def test_it_knows_a_positive_value_for_every_red_flag_question_of_the_emergency_screen() -> None:
    fields = {f"{section}.{name}" for section, name, _ in RED_FLAG_FIELDS}
    emergency = {q.fact for q in KB.questions if q.screen == "emergency"}
    # Onset days is asked only after a yes; sudden onset is asked per region of pain.
    assert emergency - fields <= {"cauda_equina.onset_days", "pain.sudden_onset"}


def _with_answer(data: dict[str, Any], fact: str, value: object) -> dict[str, Any] | None:
    section, _, name = fact.partition(".")
    if section not in data or not isinstance(data[section], dict):
        return None  # pain.* answers live per region: covered by the vignette properties
    changed = copy.deepcopy(data)
    changed[section][name] = value
    return changed


@FAST
@given(intake_data())
def test_it_never_advises_self_care_while_an_answer_could_make_it_more_urgent(
    data: dict[str, Any],
) -> None:
    """Unknown is not No, checked from outside: try every answer to every unanswered question."""
    intake = Intake.model_validate(data)
    a = assess(intake)
    if a.triage.level is not Level.SELF_CARE:
        return
    facts = flatten(intake, kb.default().fact_terms)
    for question in KB.questions:
        if facts.get(question.fact) is not None:
            continue
        for value in (True, "both", "major", 0):
            changed = _with_answer(data, question.fact, value)
            if changed is None:
                continue
            try:
                answered = Intake.model_validate(changed)
            except ValidationError:
                continue  # not a possible answer to this question
            assert assess(answered).triage.level.rank <= Level.ROUTINE.rank, question.fact


@FAST
@given(intake_data())
def test_every_question_still_to_ask_says_what_an_answer_would_change(
    data: dict[str, Any],
) -> None:
    a = assess(Intake.model_validate(data))
    for question in (*a.triage.still_to_ask, *a.surgical.still_to_ask):
        assert question.effects, question.fact
        assert question.consequences()
    if a.triage.still_to_ask and any(q.could_raise_to for q in a.triage.still_to_ask):
        assert a.triage.level is not Level.SELF_CARE


@settings(max_examples=30, deadline=None, database=None)
@given(intake_data())
def test_it_gives_the_same_output_for_the_same_input_and_leaves_the_intake_alone(
    data: dict[str, Any],
) -> None:
    intake = Intake.model_validate(data)
    before = intake.model_dump_json()
    first = assess(intake).model_dump_json()
    second = assess(Intake.model_validate(copy.deepcopy(data))).model_dump_json()
    assert first == second
    assert assess(intake).model_dump_json() == first
    assert intake.model_dump_json() == before


def _rule_id_lists(a: Assessment) -> Iterator[tuple[str, list[str]]]:
    for reason in a.triage.reasons:
        yield "triage.reasons", reason.rule_ids
    for question in a.triage.still_to_ask:
        yield "triage.still_to_ask", question.rule_ids
    for concern in a.concerns:
        yield f"concerns.{concern.code}", concern.rule_ids
        for finding in concern.findings:
            yield f"concerns.{concern.code}.findings", finding.rule_ids
    yield "pattern", a.pattern.rule_ids
    plan = a.care_plan
    for section in (plan.now, plan.self_management, plan.prevention):
        for item in section:
            yield f"care_plan.{item.id}", item.rule_ids
    for not_recommended in plan.not_recommended:
        yield f"care_plan.{not_recommended.id}", not_recommended.rule_ids
    yield "care_plan.next_step", plan.next_step.rule_ids
    yield "imaging", a.imaging.rule_ids
    yield "surgical", a.surgical.rule_ids
    for criterion in a.surgical.criteria:
        yield f"surgical.criteria.{criterion.code}", criterion.rule_ids
    for entry in a.trace:
        yield f"trace.{entry.output}", entry.rule_ids


def _source_lists(a: Assessment) -> Iterator[list[str]]:
    for reason in a.triage.reasons:
        yield reason.sources
    for concern in a.concerns:
        yield concern.sources
    plan = a.care_plan
    for item in (*plan.now, *plan.self_management, *plan.prevention, *plan.not_recommended):
        yield item.sources
    yield plan.next_step.sources
    yield a.imaging.sources
    yield a.surgical.sources
    yield a.pattern.sources


@FAST
@given(intake_data())
def test_it_only_cites_rules_and_sources_that_exist_in_the_knowledge_base(
    data: dict[str, Any],
) -> None:
    a = assess(Intake.model_validate(data))
    for where, rule_ids in _rule_id_lists(a):
        for rule_id in rule_ids:
            assert rule_id == UNANSWERED_RULE_ID or rule_id in KB_IDS, where
    for refs in _source_lists(a):
        assert refs, "every recommendation carries its source"
        for ref in refs:
            assert ref.split(":", 1)[0] in KB.sources


@FAST
@given(intake_data())
def test_it_tells_people_at_emergency_level_to_call_999_or_go_to_a_and_e(
    data: dict[str, Any],
) -> None:
    triage = assess(Intake.model_validate(data)).triage
    if triage.level is Level.EMERGENCY:
        text = " ".join([triage.headline, *triage.instructions])
        assert "999" in text or "A&E" in text


@settings(max_examples=30, deadline=None, database=None)
@given(intake_data(), st.integers(0, 15))
def test_it_refuses_children_with_an_error_on_age(data: dict[str, Any], age: int) -> None:
    data["age"] = age
    with pytest.raises(ValidationError) as raised:
        Intake.model_validate(data)
    assert [e["loc"] for e in raised.value.errors()] == [("age",)]


@pytest.mark.parametrize("age", [16, 100])
def test_it_accepts_adults_at_the_age_limits(age: int) -> None:
    pain = {"region": "neck", "duration_weeks": 1, "intensity": 3}
    assert Intake.model_validate({"age": age, "regions": [pain]}).age == age


def test_it_lists_every_emergency_screen_question_before_the_other_red_flag_questions() -> None:
    # Emergency screen first: ask the life-threatening questions first (README.md).
    screens = [q.screen for q in KB.questions]
    first_red_flag = screens.index("red_flag")
    assert "emergency" not in screens[first_red_flag:]


# --- unanswered answers that a red-flag rule reads ----------------------------------------------


def test_it_does_not_advise_self_care_while_pain_in_both_legs_is_unanswered() -> None:
    # RF-CES-BILATERAL-RECENT (emergency; NHS-BACK-PAIN: pain in both legs -> call 999) reads
    # radiation.leg. Left unanswered (the interview offers "skip"), a yes could still make this
    # an emergency, so the level is floored and the question listed as still to ask.
    intake = make(regions=[region(duration_weeks=1)], radiation={"leg": None})
    a = assess(intake)
    assert a.triage.level is not Level.SELF_CARE
    assert "radiation.leg" in {q.fact for q in a.triage.still_to_ask}


def test_it_never_gives_self_care_with_night_sweats_and_tuberculosis_unanswered() -> None:
    # RF-INFECTION-RISK (urgent; GLOS-RED-FLAGS: TB history is an infection risk factor) reads
    # history.tuberculosis. With night sweats and TB unanswered the rule is unknown, not no, so
    # self-care would be under-triage.
    intake = make(history={"tuberculosis": None}, systemic={"night_sweats": True})
    assert assess(intake).triage.level is not Level.SELF_CARE
