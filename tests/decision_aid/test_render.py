"""HTML (page and fragment), CSS scoping, icon arrays and the PDF."""

from __future__ import annotations

import re

import pytest
from syrupy.assertion import SnapshotAssertion

from spinepath.decision_aid import (
    DecisionAid,
    ValuesAnswers,
    build_decision_aid,
    decision_aid_css,
    render_html,
    with_values,
)
from spinepath.decision_aid.icons import icon_array
from spinepath.decision_aid.ipdas import html_facts
from spinepath.decision_aid.render import pdf_document
from spinepath.pathway.assessment import CandidacyStatus, Level
from support.intakes import sciatica_intake

from .helpers import make_assessment

STENOSIS_SMOKER = {
    "age": 71,
    "imaging": [{"modality": "mri", "finding": "spinal_stenosis", "matches_symptoms": True}],
    "health": {"smoking": "current", "bmi": 31.0, "diabetes": True},
}


@pytest.mark.parametrize(
    ("name", "intake_changes", "status", "primary"),
    [
        ("sciatica_decision", {}, CandidacyStatus.REFER_SURGICAL_OPINION, "radicular"),
        (
            "stenosis_smoker_with_diabetes",
            STENOSIS_SMOKER,
            CandidacyStatus.REFER_SURGICAL_OPINION,
            "neurogenic_claudication",
        ),
        (
            "non_specific_not_indicated",
            {"imaging": [], "radiation": {"leg": "none"}},
            CandidacyStatus.NOT_INDICATED,
            "non_specific",
        ),
    ],
)
def test_the_page_matches_its_snapshot(
    name: str,
    intake_changes: dict[str, object],
    status: CandidacyStatus,
    primary: str,
    snapshot: SnapshotAssertion,
) -> None:
    aid = build_decision_aid(
        sciatica_intake(**intake_changes),
        make_assessment(status, primary=primary),  # type: ignore[arg-type]
    )
    assert render_html(aid, standalone=False) == snapshot(name=name)


def test_the_fragment_has_no_document_wrapper_scripts_or_inline_styles(
    sciatica_aid: DecisionAid,
) -> None:
    fragment = render_html(sciatica_aid, standalone=False)
    for forbidden in ("<html", "<head>", "<body", "<style", "<script", "<link"):
        assert forbidden not in fragment
    facts = html_facts(fragment)
    assert facts.style_attributes == 0
    assert facts.event_handlers == []
    assert facts.external == []
    assert fragment.lstrip().startswith('<article class="da"')


def test_the_page_embeds_its_stylesheet_and_loads_nothing_from_outside(
    sciatica_aid: DecisionAid,
) -> None:
    page = render_html(sciatica_aid)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in page
    facts = html_facts(page)
    assert facts.scripts == 0
    assert facts.external == []
    assert decision_aid_css() in page


def test_every_css_rule_is_scoped_to_the_aid() -> None:
    css = re.sub(r"/\*.*?\*/", "", decision_aid_css(), flags=re.S)
    assert "@page" not in css
    selectors = re.findall(r"([^{}@]+){", re.sub(r"@media[^{]+{", "", css))
    for group in selectors:
        for selector in group.split(","):
            assert selector.strip().startswith(".da"), selector


def test_every_icon_array_has_a_text_equivalent(sciatica_aid: DecisionAid) -> None:
    facts = html_facts(render_html(sciatica_aid))
    assert facts.svgs > 5
    assert facts.svg_problems == []


def test_icon_arrays_fill_the_nearest_whole_number_of_people() -> None:
    svg = str(icon_array(2.3, "had a dural tear", "x"))
    assert "2.3 in 100 people had a dural tear" in svg
    assert "2 of 100 figures are filled" in svg
    small = str(icon_array(0.35, "had a clot", "y"))
    assert "Fewer than 1 icon in 100" in small


def test_ids_are_unique_in_a_page(sciatica_aid: DecisionAid) -> None:
    ids = html_facts(render_html(sciatica_aid)).ids
    assert len(ids) == len(set(ids))


def test_personal_risks_are_shown_with_their_reasons() -> None:
    aid = build_decision_aid(
        sciatica_intake(health={"diabetes": True, "smoking": "never", "bmi": 24.0}),
        make_assessment(),
    )
    html = render_html(aid)
    assert 'For you:</strong> about <span class="da-big">7.7 in 100 people' in html  # 3.5 x 2.19
    assert "diabetes (RR 2.19, 1.43 to 3.36)" in html


@pytest.fixture(scope="module")
def pdf_and_pages() -> tuple[bytes, int, str]:
    aid = with_values(
        build_decision_aid(
            sciatica_intake(), make_assessment(CandidacyStatus.REFER_SURGICAL_OPINION)
        ),
        ValuesAnswers(importance={"fast_relief": 3}, leaning="unsure"),
    )
    document = pdf_document(aid)
    text: list[str] = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if hasattr(box, "text"):
                text.append(box.text)
    return document.write_pdf(), len(document.pages), " ".join(text)


def test_the_pdf_renders(pdf_and_pages: tuple[bytes, int, str]) -> None:
    pdf, pages, text = pdf_and_pages
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert 5 <= pages <= 40
    for words in ("The decision", "Questions to ask your surgeon", "95 in 100 people"):
        assert words in text
    assert "I am unsure" in text


def test_an_emergency_aid_renders_the_emergency_notice_first() -> None:
    aid = build_decision_aid(
        sciatica_intake(),
        make_assessment(CandidacyStatus.EMERGENCY_SURGICAL, level=Level.EMERGENCY),
    )
    html = render_html(aid)
    assert html.index("Call 999 or go to A&amp;E now") < html.index("The decision")
