"""Triage safety over every vignette and example: any under-triage fails; over-triage is
reported separately (printed in the terminal summary) but is a cost, not a failure."""

from __future__ import annotations

import pytest

from spinepath.pathway.assessment import Level
from support.summaries import leave_report

from .cases import Assess, load_cases, load_examples
from .triage_safety import TriageComparison, report, split


def test_a_lower_level_than_expected_is_under_triage() -> None:
    assert TriageComparison("x", Level.URGENT, Level.SOON).direction == "under"


def test_a_higher_level_than_expected_is_over_triage() -> None:
    assert TriageComparison("x", Level.ROUTINE, Level.EMERGENCY).direction == "over"


def test_the_expected_level_is_exact() -> None:
    assert TriageComparison("x", Level.SELF_CARE, Level.SELF_CARE).direction == "exact"


def test_the_report_lists_under_and_over_triage_apart_with_counts() -> None:
    lines = report(
        [
            TriageComparison("A", Level.EMERGENCY, Level.URGENT),
            TriageComparison("B", Level.SELF_CARE, Level.ROUTINE),
            TriageComparison("C", Level.SOON, Level.SOON),
        ]
    )
    assert lines == [
        "3 cases: 1 exact, 1 UNDER-triaged (unsafe), 1 over-triaged (cautious)",
        "  UNDER  A: expected emergency, got urgent",
        "  over   B: expected self_care, got routine",
    ]


def test_no_vignette_or_example_is_under_triaged(
    assess: Assess, pytestconfig: pytest.Config
) -> None:
    comparisons = [
        TriageComparison(c.id, c.vignette.expected.level, assess(c.vignette.intake).triage.level)
        for c in load_cases()
    ] + [
        TriageComparison(ex.name, ex.expected.level, assess(ex.intake).triage.level)
        for ex in load_examples()
    ]
    lines = report(comparisons)
    leave_report(pytestconfig, "triage safety of vignettes and examples", lines)
    under = split(comparisons)["under"]
    assert under == [], "\n".join(lines)
