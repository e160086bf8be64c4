"""Properties over generated situations: every aid builds, renders and passes the checklist."""

from __future__ import annotations

from typing import Any, get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.decision_aid import build_decision_aid, render_html
from spinepath.decision_aid.ipdas import failures
from spinepath.pathway.assessment import CandidacyStatus, Level, PatternType
from spinepath.pathway.intake import ImagingFinding, Region
from support.intakes import sciatica_intake

from .helpers import make_assessment

CONCERNS = ("malignancy", "infection", "fracture", "cauda_equina", "cardiovascular", "inflammatory")
STATUS_LEVEL = {
    CandidacyStatus.EMERGENCY_SURGICAL: Level.EMERGENCY,
    CandidacyStatus.URGENT_SURGICAL: Level.URGENT,
    CandidacyStatus.REFER_SURGICAL_OPINION: Level.ROUTINE,
    CandidacyStatus.CONSERVATIVE_FIRST: Level.ROUTINE,
    CandidacyStatus.NOT_INDICATED: Level.SELF_CARE,
}


@st.composite
def situations(draw: st.DrawFn) -> tuple[Any, Any]:
    regions = draw(st.lists(st.sampled_from(get_args(Region)), min_size=1, max_size=3, unique=True))
    findings = draw(st.lists(st.sampled_from(get_args(ImagingFinding)), max_size=3, unique=True))
    imaging = [
        {
            "modality": "mri",
            "finding": f,
            "matches_symptoms": draw(st.sampled_from([True, None, False])),
        }
        for f in findings
    ]
    history = {
        "osteoporosis": draw(st.sampled_from([True, False, None])),
        "trauma": draw(st.sampled_from(["none", "minor", "major", None])),
    }
    health = {
        "smoking": draw(st.sampled_from(["never", "former", "current", None])),
        "bmi": draw(st.sampled_from([None, 22.0, 31.0, 45.0])),
        "diabetes": draw(st.sampled_from([True, False, None])),
    }
    intake = sciatica_intake(
        age=draw(st.integers(16, 120)),
        regions=[{"region": r, "duration_weeks": 10, "intensity": 6} for r in regions],
        imaging=imaging,
        history=history,
        health=health,
        radiation={"arm": draw(st.sampled_from(["none", "left", None])), "leg": "left"},
    )
    types = draw(
        st.lists(st.sampled_from(get_args(PatternType)), min_size=1, max_size=2, unique=True)
    )
    status = draw(st.sampled_from(list(CandidacyStatus)))
    assessment = make_assessment(
        status,
        primary=types[0],
        types=types,
        level=STATUS_LEVEL[status],
        concerns=tuple(draw(st.lists(st.sampled_from(CONCERNS), max_size=2, unique=True))),
    )
    return intake, assessment


@settings(max_examples=60, deadline=None)
@given(situations())
def test_every_generated_situation_gives_an_aid_that_passes_the_checklist(
    situation: tuple[Any, Any],
) -> None:
    intake, assessment = situation
    aid = build_decision_aid(intake, assessment)
    html = render_html(aid)
    assert [(r.code, r.detail) for r in failures(aid, html)] == []
    if aid.conditions:
        assert all(any(o.kind == "non_surgical" for o in c.options) for c in aid.conditions)
    else:
        assert aid.mode == "outside_scope"
        assert aid.not_covered
