"""The vignette set itself: well formed, and covering what the clinical policy needs covered.

These tests read only the case files, the intake contract and the knowledge base's source registry
(which rationales cite), so they run before the engine exists.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from spinepath import knowledge as kb
from spinepath.pathway.assessment import CandidacyStatus, Level

from .cases import ConcernCode, case_paths, leaves, load_cases, parse_case_file, red_flags

# Minimum counts per triage level, from the vignette brief.
MINIMUM_PER_LEVEL = {
    Level.SELF_CARE: 10,
    Level.ROUTINE: 50,
    Level.SOON: 24,
    Level.URGENT: 25,
    Level.EMERGENCY: 30,
}
MINIMUM_PER_CANDIDACY = 8
MINIMUM_CASES = 150
# Two people with the same presentation would test the same thing twice.
MINIMUM_DIFFERING_ANSWERS = 3
# A citation of a source in the knowledge base's registry (src/spinepath/knowledge/data/sources):
# [NICE-NG59] or, with a pinpoint, [NICE-NG59:1.1.3]. Every bracket that starts with a capital
# letter is read as one, so a malformed or unknown id fails; lower-case brackets (a list of
# concern codes such as [bleeding, cardiovascular]) are not citations.
CITATION = re.compile(r"\[([A-Z][^\[\]:]*)(?::[^\[\]]*)?\]")


def test_there_are_enough_vignettes() -> None:
    assert len(case_paths()) >= MINIMUM_CASES


@pytest.mark.parametrize("path", case_paths(), ids=lambda p: p.stem)
def test_each_case_file_is_a_valid_vignette_with_a_valid_intake(path: Path) -> None:
    try:
        parse_case_file(path)
    except ValidationError as error:
        pytest.fail(f"{path.name} is not a valid vignette:\n{error}")


def test_vignette_ids_are_unique() -> None:
    ids = Counter(case.id for case in load_cases())
    assert [case_id for case_id, count in ids.items() if count > 1] == []


def test_each_case_file_is_named_after_its_id() -> None:
    misnamed = [c.path.name for c in load_cases() if c.path.stem != c.id.lower()]
    assert misnamed == []


def test_expected_concerns_are_listed_once_in_sorted_order() -> None:
    unsorted = [
        c.id
        for c in load_cases()
        if c.vignette.expected.concerns != sorted(set(c.vignette.expected.concerns))
    ]
    assert unsorted == []


@pytest.mark.parametrize("level", list(MINIMUM_PER_LEVEL), ids=lambda level: level.value)
def test_each_triage_level_has_its_minimum_number_of_vignettes(level: Level) -> None:
    count = sum(1 for c in load_cases() if c.vignette.expected.level == level)
    assert count >= MINIMUM_PER_LEVEL[level]


@pytest.mark.parametrize("status", list(CandidacyStatus), ids=lambda status: status.value)
def test_each_candidacy_status_has_its_minimum_number_of_vignettes(status: CandidacyStatus) -> None:
    count = sum(1 for c in load_cases() if c.vignette.expected.candidacy == status)
    assert count >= MINIMUM_PER_CANDIDACY


@pytest.mark.parametrize("code", get_args(ConcernCode))
def test_every_concern_code_is_expected_by_some_vignette(code: str) -> None:
    assert any(code in c.vignette.expected.concerns for c in load_cases())


# Each concern code at every level the triage policy gives it (docs/triage.md).
POLICY_CONCERN_LEVELS = [
    ("cauda_equina", Level.EMERGENCY),
    ("cauda_equina", Level.URGENT),
    ("cord_compression", Level.URGENT),
    ("neurological_deficit", Level.URGENT),
    ("infection", Level.EMERGENCY),
    ("infection", Level.URGENT),
    ("malignancy", Level.EMERGENCY),
    ("malignancy", Level.URGENT),
    ("fracture", Level.EMERGENCY),
    ("fracture", Level.SOON),
    ("inflammatory", Level.SOON),
    ("cardiovascular", Level.EMERGENCY),
    ("visceral", Level.SOON),
]


@pytest.mark.parametrize(
    ("code", "level"), POLICY_CONCERN_LEVELS, ids=lambda v: getattr(v, "value", v)
)
def test_every_concern_code_is_covered_at_each_of_its_policy_levels(
    code: str, level: Level
) -> None:
    assert any(
        code in c.vignette.expected.concerns and c.vignette.expected.level == level
        for c in load_cases()
    )


def test_some_vignettes_combine_findings_where_the_most_urgent_must_win() -> None:
    combined = [c.id for c in load_cases() if len(c.vignette.expected.concerns) >= 2]
    assert len(combined) >= 12


@pytest.mark.parametrize("region", ["neck", "upper_back", "low_back"])
def test_every_spinal_region_is_covered(region: str) -> None:
    assert any(region in {r.region for r in c.vignette.intake.regions} for c in load_cases())


def test_young_and_old_people_are_both_covered() -> None:
    ages = [c.vignette.intake.age for c in load_cases()]
    assert min(ages) < 20
    assert max(ages) > 75


def test_self_care_vignettes_answer_every_red_flag_question_no() -> None:
    not_no = [
        f"{c.id} {flag.label}={flag.get(c.raw_intake)!r}"
        for c in load_cases()
        if c.vignette.expected.level == Level.SELF_CARE
        for flag in red_flags(c.raw_intake)
        if flag.get(c.raw_intake) != flag.no_answer
    ]
    assert not_no == []


def test_vignettes_with_an_unanswered_red_flag_never_expect_self_care() -> None:
    wrong = [
        c.id
        for c in load_cases()
        if any(flag.get(c.raw_intake) is None for flag in red_flags(c.raw_intake))
        and c.vignette.expected.level == Level.SELF_CARE
    ]
    assert wrong == []


def test_vignettes_with_an_unanswered_emergency_question_expect_at_least_soon() -> None:
    wrong = [
        c.id
        for c in load_cases()
        if any(
            flag.is_emergency_screen and flag.get(c.raw_intake) is None
            for flag in red_flags(c.raw_intake)
        )
        and c.vignette.expected.level.rank < Level.SOON.rank
    ]
    assert wrong == []


def test_the_set_includes_vignettes_with_unanswered_red_flags() -> None:
    unanswered = [
        c.id
        for c in load_cases()
        if any(flag.get(c.raw_intake) is None for flag in red_flags(c.raw_intake))
    ]
    assert len(unanswered) >= 8


def test_no_two_vignettes_are_near_identical() -> None:
    flat = {c.id: leaves(c.raw_intake) for c in load_cases()}
    too_close = []
    for (a, left), (b, right) in itertools.combinations(flat.items(), 2):
        differing = sum(left.get(key) != right.get(key) for key in left.keys() | right.keys())
        if differing < MINIMUM_DIFFERING_ANSWERS:
            too_close.append(f"{a} ~ {b} ({differing} differing answers)")
    assert too_close == []


def _cited_sources(text: str) -> list[str]:
    return CITATION.findall(text)


def test_every_rationale_cites_a_registered_source() -> None:
    uncited = [c.id for c in load_cases() if not _cited_sources(c.vignette.rationale)]
    assert uncited == []


def test_labels_that_depart_from_the_policy_say_why_citing_a_registered_source() -> None:
    unexplained = [
        c.id
        for c in load_cases()
        if c.vignette.policy_differs is not None and not _cited_sources(c.vignette.policy_differs)
    ]
    assert unexplained == []


def test_every_cited_source_is_in_the_knowledge_base_source_registry() -> None:
    registry = kb.default().sources
    unknown = [
        f"{c.id}: [{source}]"
        for c in load_cases()
        for text in (c.vignette.rationale, c.vignette.policy_differs)
        if text is not None
        for source in _cited_sources(text)
        if source not in registry
    ]
    assert unknown == []
