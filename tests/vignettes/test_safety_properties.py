"""Safety invariants from DESIGN §2, checked around every vignette: one changed answer at a time.

- Adding a red-flag finding never lowers the urgency.
- An unanswered red-flag question never yields self-care; an unanswered emergency-screen
  question never yields less than soon.
"""

from __future__ import annotations

import pytest

from spinepath.assessment import Level

from .cases import Assess, Case, RedFlag, load_cases, parse_intake, red_flags

# The "yes" used for a red flag that is not a yes/no question.
POSITIVE = {("history", "trauma"): "major", ("neurology", "leg_weakness"): "left"}
POSITIVE[("neurology", "arm_weakness")] = "right"


def _positive(flag: RedFlag) -> object:
    return POSITIVE.get((flag.section, flag.name), True)


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_answering_yes_to_any_red_flag_never_lowers_urgency(case: Case, assess: Assess) -> None:
    base = assess(case.vignette.intake).triage.level
    lowered = []
    for flag in red_flags(case.raw_intake):
        if flag.get(case.raw_intake) != flag.no_answer:
            continue
        level = assess(parse_intake(flag.set(case.raw_intake, _positive(flag)))).triage.level
        if level.rank < base.rank:
            lowered.append(f"{flag.label}: {base.value} -> {level.value}")
    assert lowered == []


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_leaving_a_red_flag_unanswered_never_gives_self_care_or_less_than_soon_for_emergency_screen(
    case: Case, assess: Assess
) -> None:
    unsafe = []
    for flag in red_flags(case.raw_intake):
        if flag.get(case.raw_intake) is None:
            continue
        level = assess(parse_intake(flag.set(case.raw_intake, None))).triage.level
        floor = Level.SOON if flag.is_emergency_screen else Level.ROUTINE
        if level.rank < floor.rank:
            unsafe.append(f"{flag.label} unanswered: {level.value}, expected >= {floor.value}")
    assert unsafe == []
