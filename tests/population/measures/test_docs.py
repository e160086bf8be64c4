"""Every measure has its definition document, the index lists it, and what the measures read
from the knowledge base and the instrument registry exists there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spinepath.instruments import catalogue
from spinepath.knowledge.load import load
from spinepath.population.measures import (
    MEASURES,
    Measure,
    first_contact,
    injections,
    programmes,
    proms,
)

DOCS = Path(__file__).parents[3] / "docs" / "measures"
HEADINGS = (
    "Description",
    "Initial population",
    "Denominator",
    "Denominator exclusions",
    "Numerator",
    "Measurement period",
    "Direction",
    "Source",
    "Verified in the source",
)


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.id)
def test_every_measure_has_a_definition_document(measure: Measure) -> None:
    measure_id = measure.id
    text = (DOCS / f"{measure_id}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {measure_id}: ")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    for heading in HEADINGS:
        assert heading in headings, heading
    assert any("adapted" in h.lower() for h in headings)
    direction = text.split("## Direction", 1)[1].split("##", 1)[0].lower()
    better = "higher is better" if measure.higher_is_better else "lower is better"
    assert better in direction


def test_the_index_lists_every_measure_and_nothing_else() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| \[([a-z0-9-]+)\]\(\1\.md\)", index, flags=re.MULTILINE))
    assert listed == {m.id for m in MEASURES}
    documents = {p.stem for p in DOCS.glob("*.md")} - {"README"}
    assert documents == listed


def test_the_care_plan_items_the_measures_read_exist() -> None:
    care = load().care
    items = {
        i.id
        for section in (care.now, care.self_management, care.prevention, care.next_step)
        for i in section
    }
    read = {
        first_contact.SELF_MANAGEMENT_ITEM,
        injections.DENERVATION_ITEM,
        injections.EPIDURAL_ITEM,
        programmes.EXERCISE_ITEM,
        programmes.COMBINED_ITEM,
    }
    assert read <= items
    assert any(i.startswith(first_contact.SELF_MANAGEMENT_PREFIX) for i in items)
    assert {i.id for i in care.self_management} == {
        i for i in items if i.startswith(first_contact.SELF_MANAGEMENT_PREFIX)
    }


def test_the_responder_instruments_have_an_mcid_in_the_registry() -> None:
    for code in proms.MCID_INSTRUMENTS:
        definition = catalogue.get(code)
        assert definition.mcid is not None
        assert definition.higher_is_worse
