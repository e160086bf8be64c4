"""Which situations an aid covers, and how it treats people who are not surgical candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinepath.decision_aid import build_decision_aid, render_html
from spinepath.pathway.assessment import CandidacyStatus, Level
from support.intakes import sciatica_intake

from .helpers import EXAMPLES, example_aid, make_assessment

# example -> (conditions covered, mode), from what each example describes
EXPECTED = {
    "sciatica-refer-surgical-opinion.json": (["lumbar_disc_herniation"], "decision"),
    "sciatica-early-conservative-first.json": (["lumbar_disc_herniation"], "not_yet"),
    "stenosis-refer-surgical-opinion.json": (["lumbar_spinal_stenosis"], "decision"),
    "stenosis-claudication-conservative-first.json": (["lumbar_spinal_stenosis"], "not_yet"),
    "spondylolisthesis-refer-surgical-opinion.json": (
        ["degenerative_spondylolisthesis"],
        "decision",
    ),
    "cervical-radiculopathy-refer-surgical-opinion.json": (["cervical_radiculopathy"], "decision"),
    "neck-myelopathy-urgent.json": (["degenerative_cervical_myelopathy"], "urgent_first"),
    "vertebral-fracture-vertebroplasty-opinion.json": (
        ["osteoporotic_vertebral_fracture"],
        "decision",
    ),
    "cauda-equina-emergency.json": (["lumbar_disc_herniation"], "emergency_first"),
    "foot-drop-urgent.json": (["lumbar_disc_herniation"], "urgent_first"),
    "chronic-low-back-high-risk-routine.json": (["non_specific_back_pain"], "not_yet"),
    "mscc-cancer-leg-numbness-emergency.json": ([], "outside_scope"),
    "spinal-infection-fever-urgent.json": ([], "outside_scope"),
    "chest-pain-upper-back-emergency.json": ([], "outside_scope"),
}


@pytest.mark.parametrize(("example", "expected"), sorted(EXPECTED.items()))
def test_each_example_gets_the_situations_it_describes(
    example: str, expected: tuple[list[str], str]
) -> None:
    _, _, aid, _ = example_aid(example)
    assert ([c.id for c in aid.conditions], aid.mode) == expected


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_covered_situation_includes_a_non_surgical_option(example: Path) -> None:
    _, _, aid, _ = example_aid(example.name)
    for condition in aid.conditions:
        assert any(o.kind == "non_surgical" for o in condition.options), condition.id


@pytest.mark.parametrize(
    "status", [CandidacyStatus.NOT_INDICATED, CandidacyStatus.CONSERVATIVE_FIRST]
)
def test_a_person_who_is_not_a_candidate_is_told_why_and_offered_no_surgery_now(
    status: CandidacyStatus,
) -> None:
    assessment = make_assessment(status, unmet=("conservative_care", "duration"))
    aid = build_decision_aid(sciatica_intake(), assessment)
    html = render_html(aid)
    assert aid.mode == "not_yet"
    assert aid.not_yet is not None
    assert aid.not_yet.why == assessment.surgical.summary
    assert aid.not_yet.unmet_criteria == ["conservative care: Not yet.", "duration: Not yet."]
    surgical = [o for c in aid.conditions for o in c.options if o.kind != "non_surgical"]
    assert surgical
    assert all(o.shown_as == "for_later" for o in surgical)
    assert aid.not_yet.heading in html
    assert "When to think about surgery again" in html
    assert html.index('id="da-not-yet"') < html.index('id="da-option-')


def test_non_specific_back_pain_explains_why_fusion_and_disc_replacement_are_not_offered() -> None:
    _, _, aid, html = example_aid("chronic-low-back-high-risk-routine.json")
    (condition,) = aid.conditions
    assert [o.kind for o in condition.options] == ["non_surgical"]
    assert {n.id for n in condition.not_recommended} >= {"fusion_for_back_pain", "disc_replacement"}
    assert "NICE does not recommend spinal fusion for low back pain" in html
    assert "-4.1 points (95% confidence interval -8.1 to -0.1)" in html  # MRC trial


@pytest.mark.parametrize(
    ("status", "level", "words"),
    [
        (CandidacyStatus.EMERGENCY_SURGICAL, Level.EMERGENCY, "does not replace emergency advice"),
        (CandidacyStatus.URGENT_SURGICAL, Level.URGENT, "does not replace urgent medical advice"),
    ],
)
def test_an_emergency_or_urgent_aid_says_first_that_it_does_not_replace_that_advice(
    status: CandidacyStatus, level: Level, words: str
) -> None:
    aid = build_decision_aid(sciatica_intake(), make_assessment(status, level=level))
    html = render_html(aid)
    assert aid.notice is not None
    assert any(words in line for line in aid.notice.instructions)
    assert html.index(words) < html.index("The decision") < html.index('id="da-option-')
    waiting = [o for c in aid.conditions for o in c.options if o.kind == "non_surgical"]
    assert waiting
    assert all(o.shown_as == "not_safe_to_wait" for o in waiting)
    assert "Not safe to wait" in html


def test_a_possible_cancer_is_not_put_down_to_a_disc() -> None:
    aid = build_decision_aid(sciatica_intake(imaging=[]), make_assessment(concerns=("malignancy",)))
    assert aid.mode == "outside_scope"
    assert aid.conditions == []
    assert any("cancer" in line for line in aid.not_covered)
    assert 'id="da-option-' not in render_html(aid)


def test_a_scan_finding_a_clinician_said_does_not_fit_is_ignored() -> None:
    imaging = [{"modality": "mri", "finding": "spondylolisthesis", "matches_symptoms": False}]
    aid = build_decision_aid(sciatica_intake(imaging=imaging), make_assessment())
    assert [c.id for c in aid.conditions] == ["lumbar_disc_herniation"]


def test_smokers_with_stenosis_see_that_smokers_benefited_less() -> None:
    imaging = [{"modality": "mri", "finding": "spinal_stenosis", "matches_symptoms": True}]
    intake = sciatica_intake(imaging=imaging, health={"smoking": "current"})
    aid = build_decision_aid(intake, make_assessment(primary="neurogenic_claudication"))
    (condition,) = aid.conditions
    smokers = [w for w in condition.who_benefits if "smokers" in w.text]
    assert smokers[0].applies_to_you is True
    assert {e.id for e in smokers[0].effects} == {"pearson-odi-smokers", "pearson-odi-nonsmokers"}
