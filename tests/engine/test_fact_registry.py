"""The fact registry is the one list of facts: flatten writes exactly it, with its value kinds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from spinepath import knowledge as kb
from spinepath.pathway.exact import Domain
from spinepath.pathway.facts import fact_domains, flatten
from spinepath.pathway.intake import Intake
from spinepath.pathway.kleene import FactValue
from support.files import example_paths

from .strategies import intake_data

EXAMPLES = example_paths()


def _fits(value: FactValue, domain: Domain) -> bool:
    if value is None:
        return True
    if domain.kind == "bool":
        return isinstance(value, bool)
    if domain.kind == "enum":
        return value in domain.values
    if domain.kind == "int":
        return type(value) is int and domain.low <= value <= domain.high
    if domain.kind == "float":
        return isinstance(value, int | float) and domain.low <= value <= domain.high
    return isinstance(value, str)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_flatten_writes_every_registered_fact_and_no_other(path: Path) -> None:
    facts = flatten(
        Intake.model_validate(json.loads(path.read_text(encoding="utf-8"))), kb.default().fact_terms
    )
    registry = fact_domains()
    assert set(facts) == set(registry)
    misfits = {k: (v, registry[k]) for k, v in facts.items() if not _fits(v, registry[k])}
    assert misfits == {}


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 5


@given(intake_data())
@settings(max_examples=150, deadline=None)
def test_generated_intakes_flatten_to_the_registry(data: dict[str, Any]) -> None:
    facts = flatten(Intake.model_validate(data), kb.default().fact_terms)
    registry = fact_domains()
    assert set(facts) == set(registry)
    assert all(_fits(v, registry[k]) for k, v in facts.items())
