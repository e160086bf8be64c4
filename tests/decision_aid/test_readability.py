"""Readability per section, scored by textstat, offline, against a stated grade target."""

from __future__ import annotations

import socket
from typing import Any

import nltk  # type: ignore[import-untyped]
import pyphen  # type: ignore[import-untyped]
import pytest
from textstat.textstat import textstatistics  # type: ignore[import-untyped]

from spinepath.decision_aid import DecisionAid
from spinepath.decision_aid.readability import (
    GRADE_TARGET,
    LANGUAGE,
    measure,
    overall_readability,
    patient_sections,
    reading_level,
    section_readability,
)

from .helpers import example_aid

SAMPLE = (
    "Most people with sciatica get better within a few months. "
    "Surgery can ease leg pain sooner, but it has risks. "
    "Ask your surgeon what would happen if you waited."
)
JARGON = (
    "Radiculopathic manifestations necessitate comprehensive multidisciplinary "
    "neurophysiological evaluation, considering intervertebral degenerative pathophysiology, "
    "contraindications to instrumentation and the heterogeneous epidemiological characteristics "
    "of postoperative complications in comorbid populations."
)


def _textstat() -> Any:
    statistics = textstatistics()
    statistics.set_lang(LANGUAGE)
    return statistics


def _update(model: Any, **changes: Any) -> Any:
    return model.model_copy(update=changes)


def test_a_known_sample_scores_as_textstat_scores_it() -> None:
    result = measure("sample", "Sample", SAMPLE)
    statistics = _textstat()
    assert result.words == statistics.lexicon_count(SAMPLE) == len(SAMPLE.split())
    assert result.reading_ease == pytest.approx(statistics.flesch_reading_ease(SAMPLE))
    assert result.grade == pytest.approx(statistics.flesch_kincaid_grade(SAMPLE))


def test_every_section_scores_as_textstat_scores_its_text(sciatica_aid: DecisionAid) -> None:
    sections = patient_sections(sciatica_aid)
    results = section_readability(sciatica_aid)
    statistics = _textstat()
    assert [r.key for r in results] == [s.key for s in sections]
    for section, result in zip(sections, results, strict=True):
        assert result.title == section.title
        assert result.words == statistics.lexicon_count(section.text)
        assert result.reading_ease == pytest.approx(statistics.flesch_reading_ease(section.text))
        assert result.grade == pytest.approx(statistics.flesch_kincaid_grade(section.text))
    overall = overall_readability(sciatica_aid)
    whole = " ".join(s.text for s in sections)
    assert overall.grade == pytest.approx(statistics.flesch_kincaid_grade(whole))
    assert overall.words == sum(r.words for r in results)


def test_the_aid_is_scored_section_by_section(sciatica_aid: DecisionAid) -> None:
    by_key = {s.key: s for s in patient_sections(sciatica_aid)}
    assert {"summary", "cannot-know", "questions"} <= set(by_key)
    assert sciatica_aid.decision in by_key["summary"].text
    assert sciatica_aid.second_opinion in by_key["questions"].text
    assert sciatica_aid.questions_for_surgeon[0] in by_key["questions"].text
    for c in sciatica_aid.conditions:
        condition = by_key[f"condition:{c.id}"].text
        assert c.description in condition
        assert all(s.text in condition for s in c.natural_course)
        for o in c.options:
            option = by_key[f"option:{c.id}:{o.id}"].text
            assert o.involves in option
            assert o.experience in option
            assert all(b.explanation in option for b in o.benefits)
            assert all(h.explanation in option for h in o.harms)


def test_what_the_aid_does_not_cover_is_a_section_of_its_own() -> None:
    aid = example_aid("axial-spondyloarthritis-soon.json")[2]
    assert aid.not_covered
    sections = {s.key: s.text for s in patient_sections(aid)}
    assert all(line in sections["not-covered"] for line in aid.not_covered)
    assert "questions" not in sections  # shown only when the aid sets out options


def test_a_deliberately_hard_section_is_reported_above_the_target(
    sciatica_aid: DecisionAid,
) -> None:
    condition = sciatica_aid.conditions[0]
    hard = _update(condition.options[0], involves=JARGON, experience=JARGON)
    options = [hard, *condition.options[1:]]
    aid = _update(sciatica_aid, conditions=[_update(condition, options=options)])
    results = {r.key: r for r in section_readability(aid)}
    hard_result = results[f"option:{condition.id}:{hard.id}"]
    assert hard_result.grade > GRADE_TARGET
    assert hard_result.above_target
    assert not results["summary"].above_target


def test_scoring_needs_no_network_and_no_nltk_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("readability scoring tried to reach the network")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    text = "Wobbling otters negotiate unusually complicated riverbanks before breakfast."
    words = text.lower().rstrip(".").split()
    assert measure("t", "T", text).words == len(words)
    # Syllables come from pyphen's bundled dictionary, not from a downloaded CMU dictionary.
    hyphenator = pyphen.Pyphen(lang="en_US")
    expected = sum(len(hyphenator.positions(w)) + 1 for w in words)
    assert _textstat().syllable_count(text) == expected


def test_the_page_states_the_reading_level_and_the_target(sciatica_aid: DecisionAid) -> None:
    overall = overall_readability(sciatica_aid)
    assert sciatica_aid.meta.reading_level == reading_level(sciatica_aid)
    assert f"Flesch-Kincaid grade {overall.grade:.1f}" in sciatica_aid.meta.reading_level
    assert f"target: {GRADE_TARGET:g} or below" in sciatica_aid.meta.reading_level
