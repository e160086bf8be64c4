"""Golden tests from published worked examples and every published band boundary."""

from __future__ import annotations

import re

import pytest

from spinepath.instruments import startback
from spinepath.instruments.errors import InvalidAnswerError
from spinepath.instruments.scoring import score

from .answers import NDI_ITEMS, ODI_SECTIONS, spread

# --- ODI (Fairbank & Pynsent 2000 worked examples; Fairbank bands) -------------------------


def test_odi_16_of_50_is_32_percent() -> None:
    result = score("odi", spread(ODI_SECTIONS, 16))
    assert result.valid
    assert result.total == 16
    assert result.percent == 32.0
    assert result.score == 32.0


def test_odi_16_of_45_with_one_section_missing_is_35_6_percent() -> None:
    answers: dict[str, int | None] = {**spread(ODI_SECTIONS[:9], 16), "travelling": None}
    result = score("odi", answers)
    assert result.valid
    assert result.percent == pytest.approx(100 * 16 / 45)
    assert round(result.percent or 0, 1) == 35.6
    assert result.items_missing == ["travelling"]


def test_odi_absent_section_counts_as_missing_like_null() -> None:
    with_null = score("odi", {**spread(ODI_SECTIONS[:9], 16), "travelling": None})
    absent = score("odi", spread(ODI_SECTIONS[:9], 16))
    assert absent.percent == with_null.percent == pytest.approx(100 * 16 / 45)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (10, "minimal"),  # 20%
        (11, "moderate"),  # 22%
        (20, "moderate"),  # 40%
        (21, "severe"),  # 42%
        (30, "severe"),  # 60%
        (31, "very_severe"),  # 62%
        (40, "very_severe"),  # 80%
        (41, "bed_bound"),  # 82%
        (50, "bed_bound"),  # 100%
    ],
)
def test_odi_band_boundaries_follow_fairbank(total: int, band: str) -> None:
    result = score("odi", spread(ODI_SECTIONS, total))
    assert result.band is not None
    assert result.band.code == band


def test_odi_very_severe_band_keeps_the_source_term() -> None:
    result = score("odi", spread(ODI_SECTIONS, 35))
    assert result.band is not None
    assert result.band.source_term == "crippled"


def test_odi_with_two_sections_missing_is_still_scored() -> None:
    result = score("odi", spread(ODI_SECTIONS[:8], 20))
    assert result.valid
    assert result.percent == 50.0


def test_odi_with_three_sections_missing_is_invalid_with_the_reason() -> None:
    result = score("odi", spread(ODI_SECTIONS[:7], 20))
    assert not result.valid
    assert result.score is None
    assert result.band is None
    assert result.reason is not None
    assert "3 of 10" in result.reason
    assert result.items_missing == ["sex_life", "social_life", "travelling"]


# --- NDI (Vernon's note: bands on the raw /50, missing item rule) -------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (4, "none"),
        (5, "mild"),
        (14, "mild"),
        (15, "moderate"),
        (24, "moderate"),
        (25, "severe"),
        (34, "severe"),
        (35, "complete"),
        (50, "complete"),
    ],
)
def test_ndi_band_boundaries_follow_vernon(total: int, band: str) -> None:
    result = score("ndi", spread(NDI_ITEMS, total))
    assert result.total == total
    assert result.percent == total * 2
    assert result.band is not None
    assert result.band.code == band


def test_ndi_missing_item_adds_the_average_of_the_completed_items() -> None:
    # 9 items answered summing to 18: average 2 is added for the missing item -> 20 (40%).
    answers = {**spread(NDI_ITEMS[:9], 18), "recreation": None}
    result = score("ndi", answers)
    assert result.valid
    assert result.total == 20
    assert result.percent == 40


def test_ndi_prorated_total_just_above_34_is_complete_disability() -> None:
    # 31 over 9 items -> 31 + 31/9 = 34.44, "above 34".
    result = score("ndi", spread(NDI_ITEMS[:9], 31))
    assert result.total == pytest.approx(31 + 31 / 9)
    assert result.band is not None
    assert result.band.code == "complete"


def test_ndi_with_three_items_missing_is_invalid() -> None:
    result = score("ndi", spread(NDI_ITEMS[:7], 10))
    assert not result.valid


# --- RMDQ (count of ticked statements) -----------------------------------------------------


def test_rmdq_score_is_the_number_of_ticked_statements() -> None:
    answers = {f"item_{n}": n % 3 == 0 for n in range(1, 25)}
    result = score("rmdq", answers)
    assert result.score == 8


def test_rmdq_unticked_or_absent_statements_score_zero() -> None:
    assert score("rmdq", {}).score == 0
    assert score("rmdq", {"item_1": True, "item_2": None}).score == 1


def test_rmdq_all_ticked_scores_24() -> None:
    assert score("rmdq", {f"item_{n}": True for n in range(1, 25)}).score == 24


# --- STarT Back (Keele cut-offs) -----------------------------------------------------------


def startback_answers(physical: int, psychosocial_agree: int, bother: str) -> dict[str, object]:
    answers: dict[str, object] = {f"q{n}": n <= physical for n in range(1, 5)}
    answers.update({f"q{n}": n - 4 <= psychosocial_agree for n in range(5, 9)})
    answers["q9"] = bother
    return answers


@pytest.mark.parametrize(
    ("physical", "psych_agree", "bother", "total", "psych", "group"),
    [
        (0, 0, "not_at_all", 0, 0, "low"),
        (3, 0, "moderately", 3, 0, "low"),  # total 3: low
        (4, 0, "slightly", 4, 0, "medium"),  # total 4: medium
        (2, 2, "moderately", 4, 2, "medium"),
        (4, 3, "moderately", 7, 3, "medium"),  # psych 3: not high
        (0, 3, "very_much", 4, 4, "high"),  # psych 4: high
        (0, 4, "slightly", 4, 4, "high"),
        (4, 4, "extremely", 9, 5, "high"),  # psych 5, total 9
    ],
)
def test_startback_risk_groups_follow_the_keele_cut_offs(
    physical: int, psych_agree: int, bother: str, total: int, psych: int, group: str
) -> None:
    result = score("startback", startback_answers(physical, psych_agree, bother))
    assert result.total == total
    assert result.subscores == {"psychosocial": psych}
    assert result.band is not None
    assert result.band.code == group


def test_startback_generic_scorer_uses_the_single_startback_implementation() -> None:
    answers = startback_answers(2, 3, "very_much")
    direct = startback.score(startback.StartBackAnswers.model_validate(answers))
    result = score("startback", answers)
    assert (result.total, result.subscores["psychosocial"]) == (direct.total, direct.psychosocial)
    assert result.band is not None
    assert result.band.code == direct.risk_group


def test_startback_with_a_missing_item_is_invalid() -> None:
    answers = startback_answers(1, 1, "slightly")
    del answers["q9"]
    result = score("startback", answers)
    assert not result.valid
    assert result.items_missing == ["q9"]


# --- NRS and PEG ---------------------------------------------------------------------------


def test_nrs_score_is_the_number_given() -> None:
    assert score("nrs_leg", {"intensity": 7}).score == 7


def test_nrs_unanswered_is_invalid() -> None:
    assert not score("nrs_back", {"intensity": None}).valid


def test_peg_is_the_mean_of_its_three_items() -> None:
    result = score("peg3", {"pain": 5, "enjoyment": 6, "general_activity": 8})
    assert result.score == pytest.approx(19 / 3)


def test_peg_with_an_item_missing_is_invalid() -> None:
    assert not score("peg3", {"pain": 5, "enjoyment": 6}).valid


# --- Bad answers raise an error naming the item -------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "answers", "item", "message"),
    [
        ("odi", {"lifting": 6}, "lifting", "out of range 0-5"),
        ("odi", {"lifting": -1}, "lifting", "out of range 0-5"),
        ("odi", {"lifting": True}, "lifting", "whole number"),
        ("odi", {"lifting": "2"}, "lifting", "whole number"),
        ("odi", {"lifting": 2.0}, "lifting", "whole number"),
        ("odi", {"lifts": 2}, "lifts", "unknown item"),
        ("ndi", {"sex_life": 1}, "sex_life", "unknown item"),
        ("rmdq", {"item_25": True}, "item_25", "unknown item"),
        ("rmdq", {"item_3": 1}, "item_3", "true (ticked) or false"),
        ("startback", {"q9": "very much"}, "q9", "one of not_at_all"),
        ("startback", {"q1": "agree"}, "q1", "true (agree) or false"),
        ("nrs_back", {"intensity": 11}, "intensity", "out of range 0-10"),
        ("peg3", {"pain": 10, "enjoyment": 3.5}, "enjoyment", "whole number"),
    ],
)
def test_it_rejects_bad_answers_naming_the_item(
    instrument: str, answers: dict[str, object], item: str, message: str
) -> None:
    with pytest.raises(InvalidAnswerError, match=re.escape(message)) as caught:
        score(instrument, answers)
    assert caught.value.item == item
    assert f"'{item}'" in str(caught.value)


def test_it_rejects_answers_that_are_not_a_mapping() -> None:
    with pytest.raises(InvalidAnswerError) as caught:
        score("odi", [1, 2, 3])  # type: ignore[arg-type]
    assert caught.value.item == "answers"


def test_every_result_carries_the_licence_notice() -> None:
    result = score("odi", spread(ODI_SECTIONS, 16))
    assert "Mapi Research Trust" in result.licence_notice


def test_startback_module_exposes_the_keele_copyright_and_funding_statement() -> None:
    notice = startback.licence_notice()
    assert "Copyright (©2007) Keele University" in notice
    assert "Arthritis Research UK" in notice
