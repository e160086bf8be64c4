"""Reasoning under unknowns: exact conclusions, honest "still to ask", unknown never hides care."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from spinepath import knowledge as kb
from spinepath.pathway import engine as engine_module
from spinepath.pathway.assessment import CandidacyStatus, Level
from spinepath.pathway.compiled import Compiled, compiled
from spinepath.pathway.engine import assess
from spinepath.pathway.facts import flatten
from spinepath.pathway.intake import Intake
from support.intakes import make, region

from .strategies import intake_data

SCIATICA_14_WEEKS: dict[str, Any] = {
    "regions": [region(duration_weeks=14, intensity=8)],
    "radiation": {"leg": "left", "leg_below_knee": True, "leg_pain_worse_than_back": True},
    "neurology": {"leg_numbness_or_tingling": "left"},
    "treatments_tried": [{"type": "physiotherapy", "weeks": 8, "response": "none"}],
    "imaging": [
        {"modality": "mri", "finding": "disc_herniation", "matches_symptoms": True, "weeks_ago": 2}
    ],
}


def test_a_surgical_candidate_is_referred_whatever_the_walking_question_would_say() -> None:
    # 14 weeks meets "6 weeks of nerve-root pain" and "12 weeks of claudication" alike.
    answered_no = make(**SCIATICA_14_WEEKS)
    unanswered = make(
        **{
            **SCIATICA_14_WEEKS,
            "neurology": {
                "leg_numbness_or_tingling": "left",
                "walking_leg_pain_eased_by_sitting": None,
            },
        }
    )
    for intake in (answered_no, unanswered):
        surgical = assess(intake).surgical
        assert surgical.status is CandidacyStatus.REFER_SURGICAL_OPINION
        duration = next(c for c in surgical.criteria if c.code == "duration")
        assert duration.met is True


def test_a_shorter_episode_leaves_the_duration_criterion_open_until_walking_is_asked() -> None:
    intake = make(
        **{
            **SCIATICA_14_WEEKS,
            "regions": [region(duration_weeks=8, intensity=8)],
            "neurology": {
                "leg_numbness_or_tingling": "left",
                "walking_leg_pain_eased_by_sitting": None,
            },
        }
    )
    surgical = assess(intake).surgical
    duration = next(c for c in surgical.criteria if c.code == "duration")
    assert duration.met is None
    asked = {q.fact: q for q in surgical.still_to_ask}
    assert "neurology.walking_leg_pain_eased_by_sitting" in asked


def test_the_cancer_question_says_a_yes_means_urgent_not_emergency() -> None:
    a = assess(make(history={"cancer": None}))
    question = next(q for q in a.triage.still_to_ask if q.fact == "history.cancer")
    assert question.could_raise_to is Level.URGENT
    assert question.consequences().startswith("if yes: urgent")


def test_a_question_no_answer_could_change_is_not_listed_and_sets_no_floor() -> None:
    # Sweating matters only with breathlessness or chest pain, both answered no here.
    a = assess(make(mimics={"sweating_or_clammy": None}))
    assert "mimics.sweating_or_clammy" not in {q.fact for q in a.triage.still_to_ask}
    assert a.triage.level is Level.ROUTINE


def test_an_unanswered_emergency_question_lists_the_answer_and_floors_at_soon() -> None:
    a = assess(make(cauda_equina={"saddle_numbness": None}))
    question = next(q for q in a.triage.still_to_ask if q.fact == "cauda_equina.saddle_numbness")
    assert question.could_raise_to is Level.EMERGENCY
    assert a.triage.level is Level.SOON


def test_the_onset_question_says_which_answers_change_what() -> None:
    a = assess(make(cauda_equina={"urinary_difficulty": True, "onset_days": None}))
    assert a.triage.level is Level.EMERGENCY  # unknown onset counts as recent
    question = next(q for q in a.triage.still_to_ask if q.fact == "cauda_equina.onset_days")
    assert question.could_raise_to is None
    assert "if 14 or more: urgent" in question.consequences()


def test_startback_not_completed_is_not_known_never_low_risk() -> None:
    a = assess(make(startback=None))
    assert a.startback.risk_group is None
    assert "not known" in a.startback.matched_care.lower()
    assert a.triage.level is not Level.SELF_CARE  # low back pain: self-care needs a known low risk
    plan_ids = {item.id for item in a.care_plan.now}
    assert "CP-STARTBACK-ASK" in plan_ids
    assert not plan_ids & {"CP-STARTBACK-LOW", "CP-STARTBACK-MEDIUM", "CP-STARTBACK-HIGH"}


def test_an_unknown_contraindication_keeps_the_first_choice_medicine_with_its_caution() -> None:
    a = assess(make(health={"anticoagulants": None, "kidney_disease": None, "pregnant": None}))
    plan_ids = {item.id for item in a.care_plan.now}
    assert {"CP-NSAID", "CP-NSAID-CHECK"} <= plan_ids
    known = assess(make(health={"anticoagulants": True, "kidney_disease": False}))
    known_ids = {item.id for item in known.care_plan.now}
    assert "CP-NSAID" not in known_ids
    assert "CP-NSAID-CAUTION" in known_ids


def test_traces_stay_right_when_a_freed_knowledge_base_is_followed_by_another(
    tmp_path: Path,
) -> None:
    # Compiled forms were once cached by id(); a new knowledge base reusing a freed object's id
    # then got another's facts in its traces.
    source = kb.knowledge_dir()
    for round_ in range(3):
        directory = tmp_path / f"kb{round_}"
        shutil.copytree(source, directory)
        rules = directory / "red_flags.yaml"
        text = rules.read_text(encoding="utf-8")
        if round_ % 2:
            # Swap what RF-FEVER reads: its trace must follow.
            text = text.replace("  when: systemic.fever\n", "  when: systemic.night_sweats\n")
        rules.write_text(text, encoding="utf-8")
        knowledge = kb.load(directory)
        intake = make(systemic={"fever": True, "night_sweats": True})
        reason = next(
            r for r in assess(intake, knowledge).triage.reasons if "RF-FEVER" in r.rule_ids
        )
        expected = "systemic.night_sweats" if round_ % 2 else "systemic.fever"
        assert list(reason.facts) == [expected]
        del knowledge
        gc.collect()


@settings(max_examples=100, deadline=None, database=None)
@given(intake_data())
def test_the_fast_path_gives_exactly_the_exact_answer_for_every_rule(data: dict[str, Any]) -> None:
    # Kleene over parts already worked out exactly, with the exact fallback, must never differ
    # from exact evaluation over the answers alone.
    knowledge = compiled(kb.default())
    facts = flatten(Intake.model_validate(data), kb.default().fact_terms)
    engine_module._derive(knowledge, facts)
    flags = [rule.evaluate(facts) for rule in knowledge.red_flags]
    facts.update(engine_module._concern_ranges(knowledge, flags))
    for criterion in knowledge.criteria:
        facts[f"criterion.{criterion.entry.code}"] = criterion.evaluate(facts)
    facts["triage.rank"] = Level.ROUTINE.rank
    rules: list[Compiled[Any]] = [
        *knowledge.derived,
        *knowledge.patterns,
        *knowledge.red_flags,
        *knowledge.level_rules,
        *knowledge.criteria,
        *knowledge.statuses,
        *knowledge.imaging,
    ]
    for rule in rules:
        assert rule.evaluate(facts) is rule.check(facts), rule.entry
