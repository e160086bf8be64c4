"""The example intakes under examples/: valid, documented, batched, and assessed as labelled."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.files import EXAMPLES_DIR, example_paths

from .cases import (
    Assess,
    Example,
    expected_outcome,
    load_examples,
    load_examples_expected,
    outcome,
    parse_intake,
)

README = EXAMPLES_DIR / "README.md"
BATCH = EXAMPLES_DIR / "batch.ndjson"
# A README table row: | `file.json` | description | level | candidacy |
README_ROW = re.compile(
    r"^\|\s*`(?P<file>[^`]+\.json)`\s*\|.*\|\s*(?P<level>\w+)\s*\|\s*(?P<cand>\w+)\s*\|$"
)


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_each_example_is_a_valid_intake(path: Path) -> None:
    parse_intake(json.loads(path.read_text(encoding="utf-8")))


def test_every_example_has_an_expected_outcome_and_every_expectation_an_example() -> None:
    assert sorted(load_examples_expected()) == [p.name for p in example_paths()]


def test_batch_holds_every_example_once_in_file_name_order() -> None:
    lines = BATCH.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [ex.raw_intake for ex in load_examples()]


def test_readme_lists_every_example_with_its_expected_level_and_candidacy() -> None:
    rows = {
        match["file"]: (match["level"], match["cand"])
        for line in README.read_text(encoding="utf-8").splitlines()
        if (match := README_ROW.match(line.strip()))
    }
    expected = {
        name: (e.level.value, e.candidacy.value) for name, e in load_examples_expected().items()
    }
    assert rows == expected


def test_examples_span_every_level_and_candidacy_status() -> None:
    expected = load_examples_expected().values()
    assert len({e.level for e in expected}) == 5
    assert len({e.candidacy for e in expected}) == 5


def test_examples_cover_neck_upper_back_and_low_back() -> None:
    regions = {r.region for ex in load_examples() for r in ex.intake.regions}
    assert regions == {"neck", "upper_back", "low_back"}


@pytest.mark.parametrize("example", load_examples(), ids=lambda ex: ex.name)
def test_example_gets_its_expected_assessment(example: Example, assess: Assess) -> None:
    got = outcome(assess(example.intake), with_pattern=example.expected.pattern is not None)
    assert got == expected_outcome(example.expected)
