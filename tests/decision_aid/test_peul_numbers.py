"""Peul 2007 as the trial reports it: who the numbers are about and what they measure.

From the trial's abstract (NEJM 2007;356:2245-56, Erasmus University repository copy): 283
adults with 6-12 weeks of severe sciatica; 141 assigned to early surgery (125 operated), 142 to
prolonged conservative care (55, 39%, operated later); "the probability of perceived recovery
after 1 year of follow-up was 95%" in both groups, a time-to-event estimate.
"""

from __future__ import annotations

from spinepath.decision_aid.catalogue import load_catalogue


def _proportion(number_id: str) -> object:
    return load_catalogue().proportions[number_id]


def test_the_95_is_the_chance_of_having_recovered_by_one_year_not_the_share_at_one_year() -> None:
    for arm, size in (("early-surgery", "141"), ("conservative", "142")):
        number = _proportion(f"peul-recovered-1y-{arm}")
        assert number.value == 95  # type: ignore[attr-defined]
        assert number.horizon == "the first year"  # type: ignore[attr-defined]
        assert "at some point in the first year" in number.label  # type: ignore[attr-defined]
        assert number.population.startswith(size)  # type: ignore[attr-defined]
        note = number.uncertainty.note  # type: ignore[attr-defined]
        assert "Kaplan-Meier" in note
        assert "not the number who still felt recovered at 1 year" in note
        assert number.source == "PEUL-2007"  # type: ignore[attr-defined]


def test_the_conservative_group_includes_those_operated_later() -> None:
    population = _proportion("peul-recovered-1y-conservative").population  # type: ignore[attr-defined]
    assert "55 of them (39 in 100) had an operation later" in population
    assert _proportion("peul-conservative-surgery-1y").value == 39  # type: ignore[attr-defined]


def test_the_complication_rate_is_of_everyone_operated_not_only_the_early_group() -> None:
    number = _proportion("peul-surgical-complications")
    assert number.value == 1.6  # type: ignore[attr-defined]
    assert "in either group" in number.population  # type: ignore[attr-defined]
    assert "early-surgery group of" not in number.population  # type: ignore[attr-defined]
