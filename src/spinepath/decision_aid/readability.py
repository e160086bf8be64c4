"""Plain-language check: Flesch reading ease over the patient-facing text of an aid."""

from __future__ import annotations

import re
from collections.abc import Iterator

from spinepath.decision_aid.models import DecisionAid

PLAIN_ENGLISH_MIN = 50.0
"""Flesch reading ease of 50 or more: 'fairly difficult' at worst, readable by age 15-17."""

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?:;]+(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    w = word.lower()
    count = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    words = _WORD.findall(text)
    if not words:
        return 100.0
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    syllable_count = sum(syllables(w) for w in words)
    return 206.835 - 1.015 * (len(words) / sentences) - 84.6 * (syllable_count / len(words))


def _end(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!", ":")) else text + "."


def patient_text(aid: DecisionAid) -> Iterator[str]:
    """The prose a patient reads (not citations, numbers tables or source lists)."""
    yield aid.summary
    yield aid.decision
    for c in aid.conditions:
        yield c.description
        yield c.why_this_applies
        for s in c.natural_course:
            yield s.text
        for o in c.options:
            yield o.involves
            yield o.experience
            for b in o.benefits:
                yield b.label
                yield b.explanation
            for h in o.harms:
                yield h.label
                yield h.explanation
    if aid.conditions:  # these sections are only shown when the aid sets out options
        yield aid.second_opinion
        yield from aid.questions_for_surgeon
        yield from aid.what_numbers_cannot_know
    yield from aid.not_covered


def aid_reading_ease(aid: DecisionAid) -> float:
    return flesch_reading_ease(" ".join(_end(t) for t in patient_text(aid) if t.strip()))


def reading_level(aid: DecisionAid) -> str:
    score = aid_reading_ease(aid)
    band = "plain English" if score >= 60 else "fairly plain" if score >= 50 else "difficult"
    return f"Flesch reading ease {score:.0f} ({band})"
