"""Each clinical vignette, assessed by the engine, gets the level, concerns, candidacy and
pattern labelled from the cited clinical sources (one test per vignette)."""

from __future__ import annotations

import pytest

from .cases import Assess, Case, expected_outcome, load_cases, outcome


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_vignette_gets_its_expected_assessment(case: Case, assess: Assess) -> None:
    expected = case.vignette.expected
    got = outcome(assess(case.vignette.intake), with_pattern=expected.pattern is not None)
    assert got == expected_outcome(expected), (
        f"{case.id} {case.vignette.title}\nwhy: {case.vignette.rationale}"
    )
