"""The review page's summary of a draft: every step's answers in plain words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from spinepath.pathway.facts import Facts
from spinepath.web.pages.forms import AnswerValue, facts_of, shown_questions
from spinepath.web.pages.steps import (
    PAIN,
    STARTBACK,
    STARTBACK_PATHS,
    WHERE,
    Fieldset,
    Flow,
    Question,
    Step,
    split_duration,
)

TRISTATE_LABELS = {"yes": "Yes", "no": "No", "unknown": "Not sure"}


@dataclass(frozen=True)
class Row:
    label: str
    answer: str
    missing: bool
    red_flag: bool


@dataclass
class Section:
    slug: str
    title: str
    change: str
    rows: list[Row] = field(default_factory=list)
    note: str | None = None


def answer_text(question: Question, raw: AnswerValue | None) -> str | None:
    """The answer as the person saw it, or None when not answered."""
    if raw is None or raw == "" or raw == []:
        return None
    if question.kind == "multi":
        labels = {c.value: c.label for c in question.choices}
        values = raw if isinstance(raw, list) else [raw]
        return "; ".join(labels.get(v, v) for v in values)
    if not isinstance(raw, str):
        return None
    if question.kind == "tristate":
        return TRISTATE_LABELS.get(raw, raw)
    if question.kind == "choice":
        return {c.value: c.label for c in question.choices}.get(raw, raw)
    if question.kind == "check":
        return "Yes" if raw == "yes" else None
    if question.kind == "duration":
        # As typed, in the unit chosen: "3 days" is not shown as the 0 weeks it is stored as.
        amount, unit = split_duration(raw)
        return f"{amount} {unit.removesuffix('s') if amount == '1' else unit}"
    return f"{raw} {question.unit}" if question.unit else raw


def review_sections(
    answers: Mapping[str, AnswerValue], step_url: Callable[[str], str], flow: Flow
) -> list[Section]:
    """A section per step the answers lead through; a step that was skipped is not listed."""
    sections: list[Section] = []
    facts = facts_of(answers)
    for step in flow.shown_steps(facts):
        section = Section(step.slug, step.title, step_url(step.slug))
        _summarise_step(section, step, answers)
        for fieldset in step.fieldsets:
            if step is WHERE:
                continue
            section.rows.extend(_fieldset_rows(fieldset, answers, facts, region=step is PAIN))
        if not section.rows and section.note is None:
            section.note = "Nothing to add."
        sections.append(section)
    return sections


def _summarise_step(section: Section, step: Step, answers: Mapping[str, AnswerValue]) -> None:
    """STarT Back is summed up as a count, and the pain regions as one row of ticks."""
    if step is STARTBACK:
        count = sum(1 for p in STARTBACK_PATHS if p in answers)
        section.note = (
            f"{count} of {len(STARTBACK_PATHS)} questions answered." if count else "Not answered."
        )
    elif step is WHERE:
        ticked = [q.label for q in step.questions if answers.get(q.path) == "yes"]
        section.rows.append(
            Row("Where is your pain?", "; ".join(ticked), missing=not ticked, red_flag=False)
        )


def _fieldset_rows(
    fieldset: Fieldset, answers: Mapping[str, AnswerValue], facts: Facts, *, region: bool
) -> list[Row]:
    first = fieldset.questions[0]
    if first.path.endswith(".modality") and answers.get(first.path, "") in ("", "unknown"):
        return [Row(fieldset.legend, "No scan", False, False)]
    if fieldset.toggle is not None:
        # A treatment: one row of its details, and none unless it was tried.
        if answers.get(fieldset.toggle) != "yes":
            return []
        details = [
            text
            for q in fieldset.questions
            if q.path != fieldset.toggle
            and (text := answer_text(q, answers.get(q.path))) is not None
        ]
        return [Row(fieldset.legend, "; ".join(details) or "Tried", False, False)]
    rows: list[Row] = []
    for question in shown_questions(fieldset, facts):
        text = answer_text(question, answers.get(question.path))
        label = question.label
        if region:
            label = f"{fieldset.legend}: {label}"
        rows.append(Row(label, text or "", missing=text is None, red_flag=question.red_flag))
    return rows
