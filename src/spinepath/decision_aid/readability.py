"""Plain-language measures of the patient-facing text of an aid, section by section.

The scores come from textstat: Flesch reading ease, Flesch-Kincaid grade and the word count,
for each section a patient reads and for all of that text together. Citations, numbers, icon
arrays, tables and the source list are not prose and are left out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from spinepath.decision_aid.models import DecisionAid, Option

GRADE_TARGET = 8.0
"""Highest Flesch-Kincaid grade for the patient text as a whole (docs/decision-aid.md says why)."""

LANGUAGE = "en-US"
"""English, spelt so that textstat counts syllables with pyphen's bundled en_US dictionary.

textstat 0.7 maps "en" and "en_*" to NLTK's CMU Pronouncing Dictionary, which it downloads from
the internet on first use. With the hyphenated tag it finds no CMU dictionary and falls back to
pyphen, while the formula constants are still the English ones. So scoring never touches the
network, and every machine gets the same figures whether or not NLTK data is installed.
"""


@dataclass(frozen=True)
class Section:
    """One part of the page, as the patient reads it."""

    key: str
    title: str
    text: str


@dataclass(frozen=True)
class SectionReadability:
    key: str
    title: str
    words: int
    reading_ease: float
    grade: float

    @property
    def above_target(self) -> bool:
        return self.grade > GRADE_TARGET


@functools.cache
def _statistics() -> Any:
    # Imported on first use: textstat imports NLTK, which is slow to load and not needed by
    # anything else that imports the decision aid.
    from textstat.textstat import textstatistics  # type: ignore[import-untyped]

    statistics = textstatistics()
    statistics.set_lang(LANGUAGE)
    statistics.set_rounding_points(None)
    return statistics


def _sentence(text: str) -> str:
    # Labels, list items and lines ending in a colon are read as separate sentences on the page;
    # textstat only ends a sentence at . ! or ?, so each piece gets a full stop if it has none.
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _prose(pieces: Iterable[str]) -> str:
    return " ".join(_sentence(p) for p in pieces if p.strip())


def measure(key: str, title: str, text: str) -> SectionReadability:
    statistics = _statistics()
    return SectionReadability(
        key=key,
        title=title,
        words=int(statistics.lexicon_count(text)),
        reading_ease=float(statistics.flesch_reading_ease(text)),
        grade=float(statistics.flesch_kincaid_grade(text)),
    )


def _option_text(option: Option) -> Iterator[str]:
    yield option.involves
    yield option.experience
    for b in option.benefits:
        yield b.label
        yield b.explanation
    for h in option.harms:
        yield h.label
        yield h.explanation


def _sections(aid: DecisionAid) -> Iterator[Section]:
    if aid.notice is not None:
        notice = [aid.notice.headline, *aid.notice.instructions, *aid.notice.reasons]
        yield Section("notice", "Emergency or urgent advice", _prose(notice))
    yield Section("summary", "Summary and the decision", _prose([aid.summary, aid.decision]))
    if aid.not_yet is not None:
        n = aid.not_yet
        pieces = [
            n.heading,
            n.why,
            *n.unmet_criteria,
            *(s.text for s in n.what_non_surgical_care_offers),
            *(s.text for s in n.when_to_reconsider),
        ]
        yield Section("not-yet", n.heading, _prose(pieces))
    if aid.not_covered:
        yield Section("not-covered", "What this aid does not cover", _prose(aid.not_covered))
    several = len(aid.conditions) > 1
    for c in aid.conditions:
        pieces = [
            c.description,
            c.why_this_applies,
            c.decision,
            *(s.text for s in c.natural_course),
        ]
        yield Section(f"condition:{c.id}", c.title, _prose(pieces))
        for o in c.options:
            title = f"{c.title}: {o.name}" if several else o.name
            yield Section(f"option:{c.id}:{o.id}", title, _prose(_option_text(o)))
    # Shown only when the aid sets out options.
    if aid.conditions:
        yield Section(
            "cannot-know", "What these numbers cannot know", _prose(aid.what_numbers_cannot_know)
        )
        questions = [*aid.questions_for_surgeon, aid.second_opinion]
        yield Section(
            "questions", "Questions for the surgeon and a second opinion", _prose(questions)
        )


def patient_sections(aid: DecisionAid) -> list[Section]:
    """The prose a patient reads, in page order, one entry per section that has any."""
    return [s for s in _sections(aid) if s.text]


def section_readability(aid: DecisionAid) -> list[SectionReadability]:
    return [measure(s.key, s.title, s.text) for s in patient_sections(aid)]


def overall_readability(aid: DecisionAid) -> SectionReadability:
    """All the patient text scored as one passage (not an average of the sections)."""
    text = " ".join(s.text for s in patient_sections(aid))
    return measure("overall", "All patient text", text)


def reading_level(aid: DecisionAid) -> str:
    """The line the page shows under 'Reading level'."""
    overall = overall_readability(aid)
    return (
        f"Flesch-Kincaid grade {overall.grade:.1f} (target: {GRADE_TARGET:g} or below); "
        f"Flesch reading ease {overall.reading_ease:.0f}"
    )
