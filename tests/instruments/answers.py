"""Answers for the instrument tests: item codes and answer sets with a chosen total."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
ODI_SECTIONS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
)
NDI_ITEMS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "reading",
    "headaches",
    "concentration",
    "work",
    "driving",
    "sleeping",
    "recreation",
)


def spread(codes: tuple[str, ...], total: int, maximum: int = 5) -> dict[str, int]:
    """Answers over ``codes`` that add up to ``total`` (filled item by item)."""
    answers = {}
    remaining = total
    for code in codes:
        value = min(maximum, remaining)
        answers[code] = value
        remaining -= value
    assert remaining == 0, "total too large for these items"
    return answers
