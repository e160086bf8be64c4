"""Under- and over-triage, counted separately as the symptom-checker audits do.

Semigran 2015 and El-Osta 2021 report unsafe under-triage apart from over-cautious advice, and
this vignette set is counted the same way. Under-triage is harm, over-triage is cost (README.md,
"Clinical safety rules"), so only under-triage fails a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from spinepath.pathway.assessment import Level

Direction = Literal["under", "over", "exact"]


@dataclass(frozen=True)
class TriageComparison:
    case: str
    expected: Level
    actual: Level

    @property
    def direction(self) -> Direction:
        if self.actual.rank < self.expected.rank:
            return "under"
        if self.actual.rank > self.expected.rank:
            return "over"
        return "exact"

    def line(self) -> str:
        return f"{self.case}: expected {self.expected.value}, got {self.actual.value}"


def split(comparisons: Iterable[TriageComparison]) -> dict[Direction, list[TriageComparison]]:
    groups: dict[Direction, list[TriageComparison]] = {"under": [], "over": [], "exact": []}
    for comparison in comparisons:
        groups[comparison.direction].append(comparison)
    return groups


def report(comparisons: Iterable[TriageComparison]) -> list[str]:
    """A plain-text safety report: counts first, then every under- and over-triaged case."""
    groups = split(comparisons)
    total = sum(len(group) for group in groups.values())
    lines = [
        f"{total} cases: {len(groups['exact'])} exact, {len(groups['under'])} UNDER-triaged "
        f"(unsafe), {len(groups['over'])} over-triaged (cautious)"
    ]
    lines += [f"  UNDER  {c.line()}" for c in groups["under"]]
    lines += [f"  over   {c.line()}" for c in groups["over"]]
    return lines
