"""Invariants of the scorers, checked on generated responses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.instruments.scoring import score

from .answers import NDI_ITEMS, ODI_SECTIONS

section = st.integers(min_value=0, max_value=5)
maybe_section = st.one_of(st.none(), section)


def responses(codes: tuple[str, ...]) -> st.SearchStrategy[dict[str, int | None]]:
    return st.fixed_dictionaries(dict.fromkeys(codes, maybe_section))


@settings(max_examples=200)
@given(responses(ODI_SECTIONS))
def test_odi_is_within_0_to_100_and_valid_exactly_when_at_most_two_sections_are_missing(
    answers: dict[str, int | None],
) -> None:
    result = score("odi", answers)
    missing = sum(v is None for v in answers.values())
    assert result.valid == (missing <= 2)
    if result.valid:
        assert result.score is not None
        assert 0 <= result.score <= 100
        answered = [v for v in answers.values() if v is not None]
        assert result.items_answered == len(answered)
        assert result.score * 5 * len(answered) == pytest.approx(100 * sum(answered))


@settings(max_examples=200)
@given(responses(ODI_SECTIONS), st.sampled_from(ODI_SECTIONS))
def test_odi_never_falls_when_one_section_gets_worse(
    answers: dict[str, int | None], code: str
) -> None:
    before = score("odi", answers)
    current = answers[code]
    if not before.valid or current is None or current == 5:
        return
    after = score("odi", {**answers, code: current + 1})
    assert after.score is not None
    assert before.score is not None
    assert after.score > before.score


@settings(max_examples=200)
@given(responses(NDI_ITEMS))
def test_ndi_is_within_0_to_50_and_equals_the_plain_sum_when_complete(
    answers: dict[str, int | None],
) -> None:
    result = score("ndi", answers)
    missing = sum(v is None for v in answers.values())
    assert result.valid == (missing <= 2)
    if not result.valid:
        return
    assert result.total is not None
    assert 0 <= result.total <= 50
    assert result.percent == result.total * 2
    if missing == 0:
        assert result.total == sum(v for v in answers.values() if v is not None)


@settings(max_examples=200)
@given(responses(NDI_ITEMS), st.sampled_from(NDI_ITEMS))
def test_ndi_never_falls_when_one_item_gets_worse(
    answers: dict[str, int | None], code: str
) -> None:
    before = score("ndi", answers)
    current = answers[code]
    if not before.valid or current is None or current == 5:
        return
    after = score("ndi", {**answers, code: current + 1})
    assert (after.total or 0) > (before.total or 0)


@given(st.lists(st.booleans(), min_size=24, max_size=24))
def test_rmdq_equals_the_number_of_ticks_and_stays_within_0_to_24(ticks: list[bool]) -> None:
    result = score("rmdq", {f"item_{n}": t for n, t in enumerate(ticks, 1)})
    assert result.score == sum(ticks)
    assert 0 <= sum(ticks) <= 24


@given(
    st.lists(st.booleans(), min_size=8, max_size=8),
    st.sampled_from(["not_at_all", "slightly", "moderately", "very_much", "extremely"]),
)
def test_startback_total_and_subscale_stay_in_range_and_high_needs_subscale_4(
    agree: list[bool], bother: str
) -> None:
    answers: dict[str, object] = {f"q{n}": a for n, a in enumerate(agree, 1)}
    answers["q9"] = bother
    result = score("startback", answers)
    assert result.total is not None
    assert 0 <= result.total <= 9
    psych = result.subscores["psychosocial"]
    assert 0 <= psych <= 5
    assert result.band is not None
    assert (result.band.code == "high") == (psych >= 4)


@given(st.tuples(*(st.integers(min_value=0, max_value=10) for _ in range(3))))
def test_peg_is_between_its_smallest_and_largest_item(values: tuple[int, int, int]) -> None:
    result = score(
        "peg3", dict(zip(("pain", "enjoyment", "general_activity"), values, strict=True))
    )
    assert result.score is not None
    assert min(values) <= result.score <= max(values)
