"""An intake pre-filled from the patient's record, saying which answers came from where.

``interop.record`` reads the record into facts and fills the answers the patient left out; this
module is what the command line and the API build on that:

* :func:`read_record` checks that a record is a FHIR Bundle (``searchset`` or ``collection``)
  whose every resource has a type and an id, so that each answer taken from it can name its
  source, and is valid for its type's FHIR model; :func:`split_request` takes the
  QuestionnaireResponse out of a request Bundle that carries the answers and the record
  together;
* :func:`apply_record` fills the unanswered fields and lists, for the clinician, the record facts
  that disagree with an answer the patient gave (the answer is kept: "record differs") and the
  facts that could not be used (a scan whose report has no coded finding);
* :func:`intake_with_record` does that to an intake already read, and validates the result.

Every answer taken from the record is to be confirmed with the patient: it is what the record
says, not what the patient said, and a record can be out of date or about someone else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from spinepath.interop.intake_response import (
    RESOURCE_TYPE as RESPONSE_TYPE,
)
from spinepath.interop.intake_response import (
    Problem,
    intake_from_response,
    parse,
)
from spinepath.interop.record import (
    IMAGING_FIELD,
    RECORD_PREFIX,
    RecordFact,
    prefill,
    record_facts,
)
from spinepath.pathway.intake import Intake
from spinepath.validation import error_message, field_path

Json = dict[str, Any]

RECORD_BUNDLE_TYPES = ("searchset", "collection")
"""The Bundle types a record may come as: a search result, or a collection put together."""
REQUEST_BUNDLE_TYPE = "collection"
TO_CONFIRM = "to confirm with the patient"
# A record's Bundle may hold Bundles (a batch of searches); deeper than this is not a record.
_MAX_DEPTH = 4
_MAX_PROBLEMS_PER_RESOURCE = 5
_MODALITIES = {"xray": "X-ray", "mri": "MRI", "ct": "CT"}


class RecordError(ValueError):
    """A record (or a request Bundle) that cannot be used; ``problems`` says why, each naming
    the element at fault (``entry[2].resource.id``)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Difference:
    """A record fact that disagrees with the patient's answer; the answer is what is used."""

    field: str
    answer: object
    """The patient's answer, kept."""
    fact: RecordFact

    def detail(self) -> str:
        return (
            f"{self.field}: the patient answered {words(self.answer)}; the record has "
            f"{words(self.fact.value)} ({self.fact.source}: {self.fact.display})"
        )

    def __str__(self) -> str:
        return f"record differs: {self.detail()}"


@dataclass(frozen=True)
class NotApplied:
    """A record fact about an unanswered question that the intake cannot hold as it stands."""

    fact: RecordFact
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.fact.field}: {words(self.fact.value)} ({self.fact.source}: "
            f"{self.fact.display}) not used: {self.reason}"
        )


@dataclass(frozen=True)
class Prefilled:
    """What the record added to the answers, what it disagrees with, and what it could not add."""

    applied: tuple[RecordFact, ...] = ()
    """The facts whose values fill unanswered fields, each to be confirmed with the patient."""
    differs: tuple[Difference, ...] = ()
    not_applied: tuple[NotApplied, ...] = ()

    def sources(self) -> dict[str, list[RecordFact]]:
        """The record resources used (``Condition/abc``), each with the facts taken from it."""
        found: dict[str, list[RecordFact]] = {}
        for fact in self.applied:
            found.setdefault(fact.source, []).append(fact)
        return found

    def as_json(self) -> Json:
        """``from_record``, ``record_differs`` and ``record_not_applied``, for a JSON output."""
        return {
            "from_record": [
                {
                    "field": f.field,
                    "value": f.value,
                    "source": f.source,
                    "display": f.display,
                    "note": TO_CONFIRM,
                }
                for f in self.applied
            ],
            "record_differs": [
                {
                    "field": d.field,
                    "answer": d.answer,
                    "value": d.fact.value,
                    "source": d.fact.source,
                    "display": d.fact.display,
                    "message": str(d),
                }
                for d in self.differs
            ],
            "record_not_applied": [
                {
                    "field": n.fact.field,
                    "value": n.fact.value,
                    "source": n.fact.source,
                    "display": n.fact.display,
                    "reason": n.reason,
                }
                for n in self.not_applied
            ],
        }

    def applied_lines(self) -> list[str]:
        return [
            f"{f.field}: {words(f.value)} — from {f.source} ({f.display}), {TO_CONFIRM}"
            for f in self.applied
        ]


def words(value: object) -> str:
    """An answer or a record value in a clinician's words."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "not answered"
    if isinstance(value, Mapping):
        modality = str(value.get("modality"))
        parts = [_MODALITIES.get(modality, modality)]
        if isinstance(value.get("weeks_ago"), int):
            parts.append(f"{value['weeks_ago']} weeks ago")
        if value.get("finding"):
            parts.append(str(value["finding"]).replace("_", " "))
        return ", ".join(parts)
    if isinstance(value, list):
        return "; ".join(words(v) for v in value) if value else "none"
    return str(value).replace("_", " ")


# --- Reading a record ----------------------------------------------------------------------------


def _resource_problems(resource: object, where: str, depth: int) -> Iterator[Problem]:
    if not isinstance(resource, Mapping):
        yield Problem(where, "missing or not an object: each entry must hold a resource")
        return
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        yield Problem(f"{where}.resourceType", "missing: each resource must say its type")
        return
    if kind == "Bundle":
        yield from _entry_problems(resource, where, depth + 1)
        return
    if not isinstance(resource.get("id"), str) or not resource["id"].strip():
        yield Problem(
            f"{where}.id",
            f"missing: each {kind} must have an id, so that an answer taken from it names it",
        )
        return
    yield from _model_problems(resource, kind, where)


def _model_problems(resource: Mapping[str, Any], kind: str, where: str) -> Iterator[Problem]:
    """What the FHIR model of the resource's type refuses: the facts are read from its elements
    by shape (a status is a code, a coding a list of objects), so a malformed one is named here
    rather than misread."""
    try:
        model = get_fhir_model_class(kind)
    except ValueError:
        yield Problem(f"{where}.resourceType", f"{kind!r} is not a FHIR resource type")
        return
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        for error in exc.errors()[:_MAX_PROBLEMS_PER_RESOURCE]:
            element = field_path(error["loc"], "", skip_branches=True)
            yield Problem(f"{where}.{element}" if element else where, error_message(error))
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        # fhir.resources fails this way on some malformed elements instead of reporting them.
        yield Problem(where, f"not a FHIR R4 {kind} ({type(exc).__name__}: {exc})")


def _entry_problems(bundle: Mapping[str, Any], where: str, depth: int) -> Iterator[Problem]:
    if depth > _MAX_DEPTH:
        yield Problem(where, f"Bundles nested more than {_MAX_DEPTH} deep")
        return
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        yield Problem(f"{where}.entry" if where else "entry", "must be a list of entries")
        return
    for number, entry in enumerate(entries):
        place = f"{where}.entry[{number}]" if where else f"entry[{number}]"
        if not isinstance(entry, Mapping):
            yield Problem(place, "must be an object")
            continue
        yield from _resource_problems(entry.get("resource"), f"{place}.resource", depth)


def _bundle_problems(data: object, types: Sequence[str], what: str) -> list[Problem]:
    if not isinstance(data, Mapping):
        got = "a list" if isinstance(data, list) else "text" if isinstance(data, str) else "a value"
        return [Problem(None, f"{what} must be a FHIR Bundle (a JSON object), got {got}")]
    if data.get("resourceType") != "Bundle":
        return [
            Problem(
                "resourceType",
                f"expected Bundle, got {data.get('resourceType')!r}: {what} must be a FHIR "
                f"Bundle of type {' or '.join(types)}",
            )
        ]
    if data.get("type") not in types:
        return [Problem("type", f"must be {' or '.join(types)}, got {data.get('type')!r}")]
    return []


def read_record(data: object) -> Json:
    """The record, checked: a Bundle of type searchset or collection whose entries each hold a
    resource with a type and an id. ``RecordError`` naming every problem otherwise."""
    what = "the patient's record"
    problems = _bundle_problems(data, RECORD_BUNDLE_TYPES, what)
    if not problems and isinstance(data, dict):
        problems = list(_entry_problems(data, "", 0))
        if not problems:
            return data
    raise RecordError(problems)


def parse_record(text: str | bytes) -> Json:
    """:func:`read_record` of JSON text; malformed JSON is a ``RecordError`` too."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RecordError([Problem(None, f"malformed JSON: {exc}")]) from None
    return read_record(data)


def split_request(data: object) -> tuple[Json, Json]:
    """The QuestionnaireResponse and the record (as a collection Bundle of the other entries)
    of a request Bundle (type collection) holding exactly one QuestionnaireResponse."""
    problems = _bundle_problems(data, (REQUEST_BUNDLE_TYPE,), "a request with the patient's record")
    if problems or not isinstance(data, dict):
        raise RecordError(problems)
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise RecordError([Problem("entry", "must be a list of entries")])
    responses = [
        number
        for number, entry in enumerate(entries)
        if isinstance(entry, Mapping)
        and isinstance(entry.get("resource"), Mapping)
        and entry["resource"].get("resourceType") == RESPONSE_TYPE
    ]
    if len(responses) != 1:
        raise RecordError(
            [
                Problem(
                    "entry",
                    f"must hold exactly one {RESPONSE_TYPE} (the patient's answers), got "
                    f"{len(responses)}",
                )
            ]
        )
    [at] = responses
    problems = [
        problem
        for number, entry in enumerate(entries)
        if number != at
        for problem in (
            _resource_problems(entry.get("resource"), f"entry[{number}].resource", 0)
            if isinstance(entry, Mapping)
            else [Problem(f"entry[{number}]", "must be an object")]
        )
    ]
    if problems:
        raise RecordError(problems)
    others = [entry for number, entry in enumerate(entries) if number != at]
    record: Json = {"resourceType": "Bundle", "type": REQUEST_BUNDLE_TYPE, "entry": others}
    return dict(entries[at]["resource"]), record


# --- Applying it ---------------------------------------------------------------------------------


def _answer_at(answers: Mapping[str, Any], field: str) -> object:
    if any("." in key for key in answers):
        return answers.get(field)
    node: object = answers
    for part in field.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _imaging_differences(answer: object, facts: Sequence[RecordFact]) -> Iterator[Difference]:
    if not isinstance(answer, list):
        return
    listed = {scan.get("modality") for scan in answer if isinstance(scan, Mapping)}
    for fact in facts:
        modality = fact.value.get("modality") if isinstance(fact.value, Mapping) else None
        if modality not in listed:
            yield Difference(IMAGING_FIELD, answer, fact)


def differences(answers: Mapping[str, Any], facts: Sequence[RecordFact]) -> list[Difference]:
    """The facts that disagree with an answer the patient gave (never with a missing one)."""
    found: list[Difference] = []
    by_field: dict[str, list[RecordFact]] = {}
    for fact in facts:
        if not fact.field.startswith(RECORD_PREFIX):
            by_field.setdefault(fact.field, []).append(fact)
    for field, group in by_field.items():
        answer = _answer_at(answers, field)
        if answer is None:
            continue
        if field == IMAGING_FIELD:
            found.extend(_imaging_differences(answer, group))
            continue
        # ``True == 1``: a yes is not an age, so the types must agree as well as the values.
        found.extend(
            Difference(field, answer, fact)
            for fact in group
            if fact.value != answer or type(fact.value) is not type(answer)
        )
    return found


def apply_record(
    answers: Mapping[str, Any], facts: Sequence[RecordFact]
) -> tuple[dict[str, Any], Prefilled]:
    """The answers with the record's facts filled in where the patient gave none, and what was
    filled, what disagrees and what could not be used. An answer given is never changed."""
    usable: list[RecordFact] = []
    unusable: list[RecordFact] = []
    for fact in facts:
        # The intake records a scan with its finding; a report without a coded conclusion does
        # not say what the scan showed, and guessing one would change the assessment.
        scan = fact.field == IMAGING_FIELD
        if scan and not (isinstance(fact.value, Mapping) and fact.value.get("finding")):
            unusable.append(fact)
        else:
            usable.append(fact)
    filled, applied = prefill(answers, usable)
    imaging_answered = _answer_at(answers, IMAGING_FIELD) is not None
    not_applied = (
        ()
        if imaging_answered
        else tuple(
            NotApplied(fact, "the report has no coded finding; ask the patient what it showed")
            for fact in unusable
        )
    )
    return filled, Prefilled(tuple(applied), tuple(differences(answers, facts)), not_applied)


def _from_record(field: str, prefilled: Prefilled) -> str:
    sources = [f.source for f in prefilled.applied if field.startswith(f.field)]
    return f" (from the record: {', '.join(dict.fromkeys(sources))})" if sources else ""


def intake_with_record(intake: Intake, facts: Sequence[RecordFact]) -> tuple[Intake, Prefilled]:
    """The intake with the record's facts filled in where it has no answer.

    The answers the patient gave are those set on the model (``exclude_unset``), so a question
    left out is filled and one answered is kept. ``RecordError`` when a value from the record
    makes the intake invalid (an age over 120 from a wrong birth date), naming the field and the
    resource.
    """
    answers = intake.model_dump(mode="json", exclude_unset=True)
    filled, prefilled = apply_record(answers, facts)
    try:
        return Intake.model_validate_json(json.dumps(filled)), prefilled
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = field_path(error["loc"], "")
            message = error_message(error) + _from_record(where, prefilled)
            problems.append(Problem(where or None, message))
        raise RecordError(problems) from None


def read_request(text: str | bytes, today: date) -> tuple[Intake, Prefilled | None]:
    """The intake in FHIR JSON text, with the record when it comes with one.

    A QuestionnaireResponse is read as ``intake_response.parse`` reads it; a Bundle (type
    collection) is one QuestionnaireResponse and the patient's record, whose facts fill what the
    response leaves unanswered. ``ResponseError`` (a ``RecordError`` for the Bundle or the
    record) names each problem.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return parse(text), None  # which reports the malformed JSON as it always has
    if not (isinstance(data, Mapping) and data.get("resourceType") == "Bundle"):
        return intake_from_response(data), None
    response, record = split_request(data)
    intake = intake_from_response(response)
    return intake_with_record(intake, record_facts(record, today))
