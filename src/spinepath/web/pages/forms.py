"""From HTML form fields to an ``Intake``, and from validation errors back to the form fields.

A draft keeps the raw form answers, keyed by field path (``cauda_equina.saddle_numbness``,
``regions.low_back.intensity``). Building the intake document from them is pure, and so is
mapping each pydantic error location back to the field path that produced it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from spinepath import knowledge as kb
from spinepath.pathway import screening
from spinepath.pathway.facts import Facts
from spinepath.pathway.intake import Intake
from spinepath.pathway.questionnaire import DAYS_PER_WEEK, whole_weeks
from spinepath.validation import error_message, field_path
from spinepath.web.pages.steps import (
    IMAGING_SLOTS,
    REGIONS,
    STARTBACK,
    STARTBACK_PATHS,
    STEPS,
    TREATMENTS,
    WHERE,
    Fieldset,
    Flow,
    Question,
    Step,
    join_duration,
    question_for_path,
    split_duration,
    step_for_path,
)

AnswerValue = str | list[str]
Answers = dict[str, AnswerValue]

NOT_ANSWERED = frozenset({"", "unknown"})
GENERAL = ""
"""Error key for problems that belong to no single field."""
REGIONS_PATH = "regions"
_WHOLE_NUMBER = re.compile(r"^[+-]?\d{1,9}$")
_LEVEL_SEPARATOR = re.compile(r"\s*[-/ ]\s*")
_NUMBER = re.compile(r"^[+-]?(\d{1,9}(\.\d*)?|\.\d+)$")
KNOWLEDGE_PATHS = frozenset(q.path for step in STEPS for q in step.questions if q.red_flag)
"""Field paths of the knowledge base's red-flag questions (each is its fact's name)."""
UNIT_SUFFIX = ".unit"
"""A duration's unit comes in its own form field: the duration's path plus this."""
_BRANCHING = tuple(q for step in STEPS for q in step.questions if q.ask_if is not None)
"""The questions asked only on some answers: the ones ``prune`` must check."""


class FormLike(Protocol):
    """What the pages read from a submitted form (Starlette's ``FormData`` fits)."""

    def get(self, key: str, /) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class Built:
    """An intake document and where each list entry's fields came from on the form."""

    document: dict[str, Any]
    list_paths: dict[tuple[str, int], str] = field(default_factory=dict)


# Reading a step's form ------------------------------------------------------------------------


def facts_of(answers: Mapping[str, AnswerValue]) -> Facts:
    """Facts for the answers so far, to decide which follow-up questions apply."""
    return screening.facts_so_far(build(answers).document, kb.default())


def shown_questions(fieldset: Fieldset, facts: Facts) -> tuple[Question, ...]:
    return tuple(q for q in fieldset.questions if q.shown(facts))


def read_step(step: Step, form: FormLike, answers: Mapping[str, AnswerValue]) -> Answers:
    """The answers this step's form carries, as raw strings; unticked toggles drop their rest.

    Only the questions that apply to the earlier ``answers`` are read: a hidden question's
    field is ignored even if a tampered or stale form sends it. A red-flag question that was
    shown but left blank is kept as ``""``: asked, not answered (unknown, never no), as opposed
    to not asked yet.
    """
    out: Answers = {}
    facts = facts_of(answers)
    paths = STARTBACK_PATHS if step is STARTBACK else ()
    for path in paths:
        value = _text(form.get(path))
        if value:
            out[path] = value
    for fieldset in step.fieldsets:
        ticked = fieldset.toggle is None or _read_one(_question(fieldset.toggle), form) == "yes"
        for question in shown_questions(fieldset, facts):
            if not ticked and question.path != fieldset.toggle:
                continue
            answer = _read_one(question, form)
            if answer or question.red_flag:
                out[question.path] = answer
    return out


def _question(path: str) -> Question:
    question = question_for_path(path)
    if question is None:
        raise KeyError(path)
    return question


def _text(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def _read_one(question: Question, form: FormLike) -> AnswerValue:
    if question.kind == "multi":
        allowed = {c.value for c in question.choices}
        return [v for v in (_text(x) for x in form.getlist(question.path)) if v in allowed]
    if question.kind == "check":
        return "yes" if _text(form.get(question.path)) else ""
    if question.kind == "duration":
        return join_duration(
            _text(form.get(question.path)), _text(form.get(question.path + UNIT_SUFFIX))
        )
    return _text(form.get(question.path))


def merge(
    answers: Mapping[str, AnswerValue], step: Step, new: Answers, flow: Flow | None = None
) -> Answers:
    """Replace this step's answers with ``new`` and drop answers that no longer apply."""
    own = step.paths | set(STARTBACK_PATHS if step is STARTBACK else ())
    merged: Answers = {k: v for k, v in answers.items() if k not in own}
    merged.update(new)
    return prune(merged, flow)


def prune(answers: Mapping[str, AnswerValue], flow: Flow | None = None) -> Answers:
    """Drop every answer to a question that is no longer asked, so it never reaches the intake.

    That is a treatment's details once it is unticked, a question whose ``ask_if`` the other
    answers now rule out (a region unticked, "no leg pain" after leg-pain details), and, with a
    ``flow`` whose site has no STarT Back wording, the STarT Back answers. Dropping one answer
    can rule out another question, so this repeats until nothing changes.
    """
    drop: set[str] = set()
    if flow is not None and not flow.startback:
        drop.update(STARTBACK_PATHS)
    for step in STEPS:
        for fieldset in step.fieldsets:
            if fieldset.toggle is not None and answers.get(fieldset.toggle) != "yes":
                drop.update(q.path for q in fieldset.questions if q.path != fieldset.toggle)
    kept = {k: v for k, v in answers.items() if k not in drop}
    for _ in _BRANCHING:
        facts = facts_of(kept)
        ruled_out = {q.path for q in _BRANCHING if q.path in kept and not q.shown(facts)}
        if not ruled_out:
            break
        kept = {k: v for k, v in kept.items() if k not in ruled_out}
    return kept


# Building the intake document -----------------------------------------------------------------


def _convert(question: Question, raw: AnswerValue) -> Any:
    """The JSON value for one raw answer; ``None`` means leave the field out (not answered).

    Text that is not a number stays a string so that strict validation reports it on the field.
    """
    if question.kind == "multi":
        return list(raw) if isinstance(raw, list) else [raw]
    if not isinstance(raw, str) or raw in NOT_ANSWERED:
        return None
    if question.kind == "tristate":
        return {"yes": True, "no": False}.get(raw, raw)
    if question.kind == "int":
        return int(raw) if _WHOLE_NUMBER.match(raw) else raw
    if question.kind == "duration":
        amount, unit = split_duration(raw)
        return whole_weeks(int(amount), unit) if _WHOLE_NUMBER.match(amount) else amount
    if question.kind == "float":
        return float(raw) if _NUMBER.match(raw) else raw
    if question.path.endswith(".level"):
        return _LEVEL_SEPARATOR.sub("-", raw.upper())
    return raw


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def build(answers: Mapping[str, AnswerValue]) -> Built:
    """The intake JSON document the answers describe.

    Red-flag answers are written as the interview writes them (``screening.put``): a ``pain.*``
    answer holds for every painful region.
    """
    built = Built(document={})
    _put_lists(built, answers)
    doc = built.document
    startback = {p: answers[p] for p in STARTBACK_PATHS if p in answers}
    if startback:
        doc["startback"] = {
            _leaf(p): {"true": True, "false": False}.get(str(v), v) for p, v in startback.items()
        }
    # The lists come first: a red-flag `pain.*` answer is written to each region already there.
    _put_single_answers(doc, answers)
    return built


def _put_lists(built: Built, answers: Mapping[str, AnswerValue]) -> None:
    """The painful regions, treatments tried and scans, each list entry from its own fields."""
    doc = built.document
    regions: list[dict[str, Any]] = []
    treatments: list[dict[str, Any]] = []
    imaging: list[dict[str, Any]] = []
    for region in REGIONS:
        prefix = f"regions.{region.value}"
        if answers.get(f"{prefix}.selected") != "yes":
            continue
        _add_entry(built, answers, "regions", regions, prefix, {"region": region.value})
    for treatment in TREATMENTS:
        prefix = f"treatments.{treatment.value}"
        if answers.get(f"{prefix}.tried") != "yes":
            continue
        _add_entry(
            built, answers, "treatments_tried", treatments, prefix, {"type": treatment.value}
        )
    for slot in IMAGING_SLOTS:
        prefix = f"imaging.{slot}"
        if answers.get(f"{prefix}.modality", "") in NOT_ANSWERED:
            continue
        _add_entry(built, answers, "imaging", imaging, prefix, {})
    doc["regions"] = regions
    if treatments:
        doc["treatments_tried"] = treatments
    if imaging:
        doc["imaging"] = imaging


def _add_entry(
    built: Built,
    answers: Mapping[str, AnswerValue],
    key: str,
    entries: list[dict[str, Any]],
    prefix: str,
    entry: dict[str, Any],
) -> None:
    _fill(entry, prefix, answers)
    # Validation errors name a list entry by index; the form names it by prefix.
    built.list_paths[(key, len(entries))] = prefix
    entries.append(entry)


def _put_single_answers(doc: dict[str, Any], answers: Mapping[str, AnswerValue]) -> None:
    """Every answer outside the lists and the STarT Back questions, at its own path."""
    for path, raw in answers.items():
        if path.startswith(("regions.", "treatments.", "imaging.", "startback.")):
            continue
        question = question_for_path(path)
        if question is None or question.kind == "check":
            continue
        value = _convert(question, raw)
        if value is None:
            continue
        if question.red_flag:
            screening.put(doc, path, value)
        else:
            _set(doc, path, value)


def _fill(entry: dict[str, Any], prefix: str, answers: Mapping[str, AnswerValue]) -> None:
    for path, raw in answers.items():
        if not path.startswith(prefix + "."):
            continue
        question = question_for_path(path)
        if question is None or question.kind == "check":
            continue
        value = _convert(question, raw)
        if value is not None:
            entry[_leaf(path)] = value


# Validation and error mapping -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    intake: Intake | None
    errors: dict[str, str]
    """Field path -> plain-language message; ``GENERAL`` for the form as a whole."""


def validate(answers: Mapping[str, AnswerValue]) -> Outcome:
    built = build(answers)
    try:
        intake = Intake.model_validate_json(json.dumps(built.document))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            path = error_path(error["loc"], built)
            errors.setdefault(path, message_for(error, path))
        return Outcome(None, errors)
    return Outcome(intake, {})


def error_path(loc: tuple[int | str, ...], built: Built) -> str:
    """The form field path for a pydantic error location."""
    parts = list(loc)
    if len(parts) >= 2 and isinstance(parts[1], int):
        prefix = built.list_paths.get((str(parts[0]), parts[1]))
        if prefix is not None:
            rest = [str(p) for p in parts[2:]]
            if not rest or rest[0] in ("region", "type"):
                return prefix
            asked_once = "pain.sudden_onset" if rest[0] == "onset" else f"pain.{rest[0]}"
            if parts[0] == "regions" and asked_once in KNOWLEDGE_PATHS:
                return asked_once
            return f"{prefix}.{rest[0]}"
    if parts == ["regions"]:
        return REGIONS_PATH
    if parts and parts[0] == "priorities":
        return "priorities"
    return field_path(parts, default=GENERAL)


def message_for(error: ErrorDetails, path: str) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "missing":
        return "Please answer this question."
    if path == REGIONS_PATH and kind == "too_short":
        return "Tick at least one place where you have pain."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "Enter a whole number, using digits (for example 6)."
    if kind in ("float_type", "float_parsing"):
        return "Enter a number, such as 72.5."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Enter {_number(ctx.get('ge', ctx.get('gt')))} or more."
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        question = question_for_path(path)
        if question is not None and question.kind == "duration" and isinstance(limit, int):
            # The limit is in weeks whichever unit the person chose.
            return f"Enter {limit} weeks ({limit * DAYS_PER_WEEK} days) or less."
        return f"Enter {_number(limit)} or less."
    if kind in ("literal_error", "enum", "bool_type"):
        return "Choose one of the options."
    if kind == "string_too_long":
        return f"Use {ctx.get('max_length')} characters or fewer."
    if kind == "string_pattern_mismatch":
        return "Write the level like L4-L5, L5-S1 or C6, or leave it blank."
    return error_message(error, strip_value_error=kind == "value_error")


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def errors_for_step(step: Step, errors: Mapping[str, str]) -> dict[str, str]:
    """The errors that belong to this step's form."""
    return {p: m for p, m in errors.items() if owning_step(p) is step}


def owning_step(path: str) -> Step | None:
    if path == REGIONS_PATH:
        return WHERE
    return step_for_path(path)


def first_step_with_errors(errors: Iterable[str]) -> Step | None:
    owners = [owning_step(p) for p in errors]
    for step in STEPS:
        if step in owners:
            return step
    return None
