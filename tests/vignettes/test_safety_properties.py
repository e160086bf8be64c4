"""Safety invariants from DESIGN §2, checked around every vignette, one changed answer at a time.

- Adding a red-flag finding never lowers the urgency.
- An unanswered red-flag question never yields self-care; an unanswered emergency-screen
  question never yields less than soon. A question that is a red flag only together with another
  finding (e.g. "is the numbness getting worse?") is skipped when that finding is a definite no.
"""

from __future__ import annotations

import zlib

import pytest

from spinepath.assessment import Level

from .cases import Assess, Case, RedFlag, load_cases, parse_intake, red_flags

# The "yes" used for a red flag that is not a yes/no question.
POSITIVE: dict[tuple[str, str], object] = {
    ("history", "trauma"): "major",
    ("neurology", "leg_weakness"): "left",
    ("neurology", "arm_weakness"): "right",
}
# Every (vignette, red flag) pair would be ~4,000 assessments; a stable eighth of them keeps this
# file within the suite's time budget while every flag is still tried on many vignettes.
SAMPLE_ONE_IN = 8


def _positive(flag: RedFlag) -> object:
    return POSITIVE.get((flag.section, flag.name), True)


def _sampled(case: Case, flag: RedFlag) -> bool:
    return zlib.crc32(f"{case.id}:{flag.label}".encode()) % SAMPLE_ONE_IN == 0


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_answering_yes_to_a_red_flag_never_lowers_urgency(case: Case, assess: Assess) -> None:
    base = assess(case.vignette.intake).triage.level
    lowered = []
    for flag in red_flags(case.raw_intake):
        if flag.get(case.raw_intake) != flag.no_answer or not _sampled(case, flag):
            continue
        level = assess(parse_intake(flag.set(case.raw_intake, _positive(flag)))).triage.level
        if level.rank < base.rank:
            lowered.append(f"{flag.label}: {base.value} -> {level.value}")
    assert lowered == []


def _floor(flag: RedFlag) -> Level:
    return Level.SOON if flag.is_emergency_screen else Level.ROUTINE


def _can_break_floor(case: Case, flag: RedFlag) -> bool:
    # Un-answering a "yes" can remove the finding that set the level, so it is always tried; a
    # "no" can only matter where the expected level is below that question's floor.
    if flag.get(case.raw_intake) != flag.no_answer:
        return True
    return case.vignette.expected.level.rank < _floor(flag).rank


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_an_unanswered_red_flag_never_gives_self_care_nor_less_than_soon_for_emergency_screen(
    case: Case, assess: Assess
) -> None:
    unsafe = []
    for flag in red_flags(case.raw_intake):
        unanswered = flag.set(case.raw_intake, None)
        if flag.get(case.raw_intake) is None or not flag.applies(unanswered):
            continue
        if not _can_break_floor(case, flag):
            continue
        level = assess(parse_intake(unanswered)).triage.level
        if level.rank < _floor(flag).rank:
            unsafe.append(
                f"{flag.label} unanswered: {level.value}, expected >= {_floor(flag).value}"
            )
    assert unsafe == []
