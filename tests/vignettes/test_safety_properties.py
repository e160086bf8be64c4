"""Safety invariants (README.md, "Clinical safety rules"), checked around every vignette, one
changed answer at a time.

- Adding a red-flag finding never lowers the urgency.
- Unknown is not No: an unanswered question whose yes would raise the urgency never leaves
  self-care, and one whose yes would mean an emergency never leaves less than soon. A question
  whose every answer gives the same result is not a reason to floor (exact reasoning). A
  question that applies only together with another finding (e.g. "is the numbness getting
  worse?") is skipped when that finding is a definite no.
"""

from __future__ import annotations

import zlib

import pytest

from spinepath.pathway.assessment import Level

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


def _floor(answered_yes: Level, unanswered: Level) -> Level:
    """The least the unanswered result may be, given what a yes would have given."""
    if answered_yes is Level.EMERGENCY:
        return Level.SOON
    if answered_yes.rank > unanswered.rank:
        return Level.ROUTINE
    return Level.SELF_CARE


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.id)
def test_an_unanswered_question_whose_yes_would_escalate_never_gives_self_care(
    case: Case, assess: Assess
) -> None:
    unsafe = []
    for flag in red_flags(case.raw_intake):
        unanswered = flag.set(case.raw_intake, None)
        if flag.get(case.raw_intake) is None or not flag.applies(unanswered):
            continue
        level = assess(parse_intake(unanswered)).triage.level
        if level.rank >= Level.SOON.rank:
            continue  # already at or above every floor
        yes = assess(parse_intake(flag.set(case.raw_intake, _positive(flag)))).triage.level
        floor = _floor(yes, level)
        if level.rank < floor.rank:
            unsafe.append(
                f"{flag.label} unanswered: {level.value}; a yes gives {yes.value}, "
                f"so expected >= {floor.value}"
            )
    assert unsafe == []
