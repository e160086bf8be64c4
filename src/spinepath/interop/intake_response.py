"""A FHIR QuestionnaireResponse to the intake Questionnaire, to and from spinepath's ``Intake``.

Both directions walk the Questionnaire's own items (``intake_questionnaire.items``), so a
response can only say what the Questionnaire asks, in the form it asks it.

Reading is strict, as the intake model is: a linkId the Questionnaire does not have (or has in
another group), an answer of the wrong type (``valueString`` ``"40"`` for a whole number), a code
outside the question's answer set or system, a second answer to a single-answer question, a
number out of range or an age under 16 is refused. The problems go together in one
``ResponseError`` (a ``ValueError``), each naming the linkId at fault; nothing is returned
half-read. Problems with the items come first: the rest of the response is checked once the
items can be read.

Besides the items, the response must name the intake Questionnaire and be ``completed`` or
``amended``: an ``in-progress`` response is a draft, not an answer to assess.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from spinepath.interop.fhir import ANONYMOUS_PATIENT
from spinepath.interop.intake_questionnaire import (
    CANONICAL,
    CANONICAL_URL,
    REGIONS_LINK_ID,
    YES_NO_SYSTEM,
    Node,
    items,
)
from spinepath.pathway.intake import Intake
from spinepath.validation import error_message, field_path

RESOURCE_TYPE = "QuestionnaireResponse"
ACCEPTED_STATUSES = ("completed", "amended")
_VALUE_KEYS = {
    "yes_no": "valueCoding",
    "choice": "valueCoding",
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "string": "valueString",
    "text": "valueString",
}
_WHAT = {
    "valueCoding": "a coded answer",
    "valueBoolean": "true or false",
    "valueInteger": "a whole number",
    "valueDecimal": "a number",
    "valueString": "text",
}
_LISTS = ("treatments_tried", "imaging")

IdFactory = Callable[[], uuid.UUID]
Json = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    link_id: str | None
    """The linkId (or, outside the items, the element) at fault; None for the whole response."""
    message: str

    def __str__(self) -> str:
        return f"{self.link_id}: {self.message}" if self.link_id else self.message


class ResponseError(ValueError):
    """A QuestionnaireResponse that cannot be read as an intake; ``problems`` says why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


# --- Intake -> QuestionnaireResponse -------------------------------------------------------------


def _get(container: Mapping[str, Any], key: str) -> Any:
    node: Any = container
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _answer(node: Node, value: Any) -> Json:
    if node.kind == "yes_no":
        code = "Y" if value else "N"
        return {
            "valueCoding": {
                "system": YES_NO_SYSTEM,
                "code": code,
                "display": dict(node.options)[code],
            }
        }
    if node.kind == "choice":
        return {
            "valueCoding": {
                "system": node.system,
                "code": value,
                "display": dict(node.options)[value],
            }
        }
    if node.kind == "boolean":
        return {"valueBoolean": value}
    if node.kind == "integer":
        return {"valueInteger": value}
    if node.kind == "decimal":
        return {"valueDecimal": value}
    return {"valueString": value}


def response_items(nodes: tuple[Node, ...], container: Mapping[str, Any]) -> list[Json]:
    out: list[Json] = []
    for node in nodes:
        if node.role == "section":
            children = response_items(node.children, container)
            if children:
                out.append({"linkId": node.link_id, "item": children})
        elif node.role == "region":
            out += [
                {"linkId": node.link_id, "item": response_items(node.children, region)}
                for region in container["regions"]
                if region["region"] == node.key
            ]
        elif node.role == "repeat":
            out += [
                {"linkId": node.link_id, "item": response_items(node.children, entry)}
                for entry in container[node.key]
            ]
        else:
            if node.link_id == REGIONS_LINK_ID:
                value: Any = [region["region"] for region in container["regions"]]
            else:
                value = _get(container, node.key)
            values = value if node.repeats else [value]
            # FHIR has no empty string: an empty note is no note.
            if value is not None and value != "" and values:
                out.append({"linkId": node.link_id, "answer": [_answer(node, v) for v in values]})
    return out


def questionnaire_response(
    intake: Intake,
    *,
    authored: datetime,
    subject: str | None = None,
    new_id: IdFactory = uuid.uuid4,
) -> QuestionnaireResponse:
    """The intake as a completed response to the intake Questionnaire.

    ``subject`` is a reference to the record's Patient; without one the response contains an
    anonymous Patient, as ``fhir.questionnaire_response`` does.
    """
    data: Json = {
        "resourceType": RESOURCE_TYPE,
        "id": str(new_id()),
        "questionnaire": CANONICAL,
        "status": "completed",
        "authored": authored.isoformat(),
        "item": response_items(items(), intake.model_dump(mode="json")),
    }
    if subject is None:
        data["contained"] = [{"resourceType": "Patient", "id": ANONYMOUS_PATIENT.removeprefix("#")}]
        data["subject"] = {"reference": ANONYMOUS_PATIENT}
    else:
        data["subject"] = {"reference": subject}
    return QuestionnaireResponse.model_validate(data)


# --- QuestionnaireResponse -> Intake -------------------------------------------------------------


@cache
def _parents() -> dict[str, str | None]:
    """Each item's linkId -> the linkId of the group it belongs in (None at the top)."""
    parents: dict[str, str | None] = {}

    def visit(nodes: tuple[Node, ...], parent: str | None) -> None:
        for node in nodes:
            parents[node.link_id] = parent
            visit(node.children, node.link_id)

    visit(items(), None)
    return parents


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


class _InvalidAnswerError(Exception):
    """One answer that cannot be read; the message says why."""


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.region_order: list[str] | None = None
        self.regions: dict[str, Json] = {}

    def problem(self, link_id: str | None, message: str) -> None:
        self.problems.append(Problem(link_id, message))

    def read(self, found: object, nodes: tuple[Node, ...], container: Json, where: str) -> None:
        if not isinstance(found, list):
            self.problem(where, "item must be a list of items")
            return
        by_id = {node.link_id: node for node in nodes}
        seen: set[str] = set()
        for number, raw in enumerate(found, 1):
            link_id = raw.get("linkId") if isinstance(raw, dict) else None
            if not isinstance(link_id, str):
                self.problem(where, f"item {number} has no linkId")
                continue
            node = by_id.get(link_id)
            if node is None:
                self.problem(link_id, self._misplaced(link_id, where))
                continue
            if link_id in seen and node.role != "repeat":
                self.problem(link_id, "appears more than once; give one item with every answer")
                continue
            seen.add(link_id)
            if node.role == "question":
                self._question(node, raw, container)
                continue
            if "answer" in raw:
                self.problem(link_id, "is a group: its questions go in item, not answer")
                continue
            children = raw.get("item", [])
            if node.role == "section":
                self.read(children, node.children, container, link_id)
            elif node.role == "region":
                region: Json = {"region": node.key}
                self.regions[node.key] = region
                self.read(children, node.children, region, link_id)
            else:
                entry: Json = {}
                container.setdefault(node.key, []).append(entry)
                self.read(children, node.children, entry, link_id)

    def _misplaced(self, link_id: str, where: str) -> str:
        parents = _parents()
        if link_id not in parents:
            return (
                f"unknown linkId: not an item of the spinepath intake Questionnaire ({CANONICAL})"
            )
        if link_id.endswith("-hint"):
            return "is a hint (a display item), which has no answer"
        parent = parents[link_id]
        place = parent or "the top level of the response"
        return f"is not an item of {where}: it belongs in {place}"

    def _question(self, node: Node, raw: Json, container: Json) -> None:
        if "item" in raw:
            self.problem(node.link_id, "is a question: it has no nested items")
            return
        answers = raw.get("answer")
        if answers is None:
            return  # left unanswered
        if not isinstance(answers, list) or not answers:
            self.problem(node.link_id, "answer must be a list of at least one answer")
            return
        if len(answers) > 1 and not node.repeats:
            self.problem(node.link_id, f"takes one answer, got {len(answers)}")
            return
        values = []
        for answer in answers:
            try:
                values.append(self._value(node, answer))
            except _InvalidAnswerError as exc:
                self.problem(node.link_id, str(exc))
                return
        if node.link_id == REGIONS_LINK_ID:
            if len(set(values)) != len(values):
                self.problem(node.link_id, "each region may be chosen once")
                return
            self.region_order = values
            return
        _put(container, node.key, values if node.repeats else values[0])

    @staticmethod
    def _value(node: Node, answer: object) -> Any:
        if not isinstance(answer, dict):
            raise _InvalidAnswerError("each answer must be an object")
        if "item" in answer:
            raise _InvalidAnswerError("no question here has items nested under its answer")
        keys = [key for key in answer if key.startswith("value")]
        if len(keys) != 1:
            raise _InvalidAnswerError(
                f"each answer must have exactly one value[x], got {len(keys)}"
            )
        key = keys[0]
        value = answer[key]
        expected = _VALUE_KEYS[node.kind or "text"]
        if key != expected:
            raise _InvalidAnswerError(f"expected {expected} ({_WHAT[expected]}), got {key}")
        if key == "valueCoding":
            return _code(node, value)
        if key == "valueBoolean":
            ok = isinstance(value, bool)
        elif key == "valueInteger":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif key == "valueDecimal":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = _finite(value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise _InvalidAnswerError(f"{key} must be {_WHAT[key]}, got {_json_type(value)}")
        return value


def _finite(value: float) -> float:
    # Python's JSON reader takes NaN, Infinity and integers too large for a float; FHIR has none.
    try:
        number = float(value)
    except OverflowError:
        raise _InvalidAnswerError("valueDecimal is too large") from None
    if not math.isfinite(number):
        raise _InvalidAnswerError("valueDecimal must be a finite number")
    return number


def _code(node: Node, coding: object) -> Any:
    if not isinstance(coding, dict):
        raise _InvalidAnswerError("valueCoding must be an object with a system and a code")
    system, code = coding.get("system"), coding.get("code")
    if system != node.system:
        raise _InvalidAnswerError(f"the code's system must be {node.system}, got {system!r}")
    if not isinstance(code, str) or code not in node.codes:
        allowed = ", ".join(c for c, _ in node.options)
        raise _InvalidAnswerError(f"{code!r} is not one of the answers ({allowed})")
    if node.kind == "yes_no":
        return code == "Y"
    return code


def _put(container: Json, key: str, value: Any) -> None:
    *path, name = key.split(".")
    for part in path:
        container = container.setdefault(part, {})
    container[name] = value


def _header_problems(data: Json) -> list[Problem]:
    problems = []
    if data.get("resourceType") != RESOURCE_TYPE:
        problems.append(
            Problem(
                "resourceType",
                f"expected {RESOURCE_TYPE}, got {data.get('resourceType')!r}: only a response to "
                "the intake Questionnaire can be assessed",
            )
        )
        return problems
    if data.get("questionnaire") not in (CANONICAL_URL, CANONICAL):
        problems.append(
            Problem(
                "questionnaire",
                f"must be {CANONICAL} (the spinepath intake Questionnaire), got "
                f"{data.get('questionnaire')!r}",
            )
        )
    if data.get("status") not in ACCEPTED_STATUSES:
        problems.append(
            Problem(
                "status",
                f"must be {' or '.join(ACCEPTED_STATUSES)}, got {data.get('status')!r}",
            )
        )
    return problems


def _item_link_id(data: Json, loc: Sequence[int | str]) -> tuple[str | None, list[str]]:
    """The linkId of the deepest item on an error's path, and the path below it."""
    node: Any = data
    found: str | None = None
    rest: list[str] = []
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        rest.append(str(part))
        if isinstance(node, dict) and isinstance(node.get("linkId"), str):
            found, rest = node["linkId"], []
    return found, rest


def _fhir_problems(data: Json) -> list[Problem]:
    """Whatever else the R4 model refuses (a malformed date, an unknown element)."""
    try:
        QuestionnaireResponse.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            link_id, rest = _item_link_id(data, error["loc"])
            where = ".".join(rest)
            message = error_message(error)
            if link_id is None:
                problems.append(Problem(where or None, message))
            else:
                problems.append(Problem(link_id, f"{where}: {message}" if where else message))
        return problems
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        # fhir.resources fails this way on some malformed elements (a contained resource whose
        # resourceType is not a string) instead of reporting a validation error.
        return [Problem(None, f"not a FHIR R4 {RESOURCE_TYPE} ({type(exc).__name__}: {exc})")]
    return []


def _intake_link_id(loc: Sequence[int | str], document: Json) -> tuple[str | None, str]:
    """The linkId an intake validation error belongs to, and a prefix for its message."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "regions" and isinstance(parts[1], int):
        parts[1] = document["regions"][parts[1]]["region"]
    elif len(parts) >= 2 and parts[0] in _LISTS and isinstance(parts[1], int):
        prefix = f"repetition {parts[1] + 1}: "
        del parts[1]
    candidate = field_path(parts, default="", skip_branches=True)
    known = _parents()
    while candidate and candidate not in known:
        candidate = candidate.rpartition(".")[0]
    return candidate or None, prefix


def _to_intake(document: Json) -> Intake:
    try:
        return Intake.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            link_id, prefix = _intake_link_id(error["loc"], document)
            problems.append(Problem(link_id, prefix + error_message(error)))
        raise ResponseError(problems) from None


def _document(data: Json) -> Json:
    """The intake document a response's header and items record; ``ResponseError`` if they do
    not."""
    problems = _header_problems(data)
    if problems:
        raise ResponseError(problems)
    reader = _Reader()
    document: Json = {}
    reader.read(data.get("item", []), items(), document, "the response")
    if reader.region_order is not None:
        document["regions"] = [
            reader.regions.pop(code, {"region": code}) for code in reader.region_order
        ]
    for code in reader.regions:
        reader.problem(
            f"{REGIONS_LINK_ID}.{code}", f"answered for a region not chosen under {REGIONS_LINK_ID}"
        )
    if reader.problems:
        raise ResponseError(reader.problems)
    return document


def intake_from_items(data: Json) -> Intake:
    """The intake a QuestionnaireResponse records, its header and items checked as
    ``intake_from_response`` checks them but without validating the whole resource against the
    R4 model (milliseconds a response: too slow for a million in a bulk file)."""
    return _to_intake(_document(data))


def intake_from_response(data: object) -> Intake:
    """The intake a QuestionnaireResponse (parsed JSON) records; ``ResponseError`` if it cannot.

    A yes/no item left out is *not answered* (``None``), never no.
    """
    if not isinstance(data, dict):
        raise ResponseError([Problem(None, f"expected a {RESOURCE_TYPE} (a JSON object)")])
    document = _document(data)
    problems = _fhir_problems(data)
    try:
        intake = _to_intake(document)
    except ResponseError as exc:
        problems += exc.problems
    if problems:
        raise ResponseError(problems)
    return intake


def parse(text: str | bytes) -> Intake:
    """The intake a QuestionnaireResponse in JSON text records; ``ResponseError`` if it cannot."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ResponseError([Problem(None, f"malformed JSON: {exc}")]) from None
    return intake_from_response(data)
