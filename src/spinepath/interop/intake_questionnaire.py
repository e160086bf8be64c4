"""spinepath's intake as an SDC-style FHIR R4 Questionnaire.

**linkIds.** Every question's ``linkId`` is the intake field path it fills, so a response maps
onto the intake without a lookup table: ``age``, ``cauda_equina.saddle_numbness``,
``health.bmi``, ``startback.q9``. Three parts of the intake are lists, and their groups say how:

* ``regions`` is a repeating choice (where the pain is; the answers' order is the list's order),
  and each region's details are in a group ``regions.<region>`` (``regions.low_back``, enabled
  when that region is chosen) whose questions are ``regions.<region>.<field>``, as the web
  questionnaire names its form fields (``regions.low_back.duration_weeks``).
* ``treatments_tried`` and ``imaging`` are repeating groups, one repetition per entry in order;
  their questions are ``treatments_tried.<field>`` and ``imaging.<field>``.

Other groups only arrange the questions as the web questionnaire does, emergency screen first;
their linkIds start with ``group-`` and name no intake field. A question's hint is a ``display``
item beneath it, ``<linkId>-hint``.

**Answers.** A yes/no question (every tri-state answer, the red flags included) is a ``choice``
of HL7's yes/no codes, and *not answered* is the item left out of the response: "unknown is not
no". Other choices are coded in spinepath's intake answer systems (``terminology``), whose codes
are the intake's values. Numbers are ``integer`` or ``decimal`` items with ``minValue`` /
``maxValue`` and a UCUM ``questionnaire-unit``; the STarT Back items are the instrument's own
(``fhir.questionnaire``). The knowledge base's ``ask_if`` conditions are not translated into
``enableWhen``: every question may be answered, and one left out stays unanswered.

The wording is the web questionnaire's: the knowledge base's for red-flag questions,
``pathway/questionnaire.py``'s for the leg-pain follow-ups, ``intake_wording``'s for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal

from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import BaseModel

from spinepath import __version__
from spinepath import knowledge as kb
from spinepath.instruments import catalogue
from spinepath.instruments.wording import Wording, bundled_wording
from spinepath.interop import fhir, intake_wording
from spinepath.interop.intake_wording import AnswerSet, Worded
from spinepath.interop.terminology import BASE_URL, intake_answer_system
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway.intake import (
    INTAKE_VERSION,
    MINIMUM_AGE,
    CaudaEquina,
    Health,
    History,
    ImagingDone,
    Inflammatory,
    Intake,
    Mimics,
    Neurology,
    Outcomes,
    Radiation,
    RegionPain,
    Systemic,
    TreatmentTried,
)
from spinepath.pathway.questionnaire import LEG_FOLLOW_UPS

QUESTIONNAIRE_ID = "spinepath-intake"
CANONICAL_URL = f"{BASE_URL}/Questionnaire/{QUESTIONNAIRE_ID}"
VERSION = INTAKE_VERSION
"""The items are the intake contract's, so the Questionnaire is versioned with it."""
CANONICAL = f"{CANONICAL_URL}|{VERSION}"

# HL7's expanded yes/no table: the codes the v2-0136 yes/no value set draws its Y and N from
# (terminology.hl7.org, ValueSet v2-0136, "Include these codes as defined in
# http://terminology.hl7.org/CodeSystem/v2-0532": Y Yes, N No).
YES_NO_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0532"
YES_NO: tuple[tuple[str, str], ...] = (("Y", "Yes"), ("N", "No"))
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
UCUM = "http://unitsofmeasure.org"

REGIONS_LINK_ID = "regions"
GROUP_PREFIX = "group-"
HINT_SUFFIX = "-hint"

Role = Literal["section", "region", "repeat", "question"]
Kind = Literal["yes_no", "choice", "boolean", "integer", "decimal", "string", "text"]

_UNITS: dict[str, tuple[str, str]] = {
    "days": ("d", "days"),
    "weeks": ("wk", "weeks"),
    "years": ("a", "years"),
    "cm": ("cm", "cm"),
    "kg": ("kg", "kg"),
    "kg/m2": ("kg/m2", "kg/m²"),
    "%": ("%", "%"),
}


@dataclass(frozen=True)
class Node:
    """One item of the Questionnaire, with what it fills in the intake.

    ``key`` is, for a question, its dotted path inside the object it writes to (the intake, a
    region or one list entry); for a region group, the region; for a repeating group, the list.
    """

    link_id: str
    text: str
    role: Role
    key: str = ""
    kind: Kind | None = None
    options: tuple[tuple[str, str], ...] = ()
    system: str | None = None
    repeats: bool = False
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    pattern: str | None = None
    max_length: int | None = None
    hint: str | None = None
    children: tuple[Node, ...] = field(default=())

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.options)


def _property(model: type[BaseModel], name: str) -> dict[str, Any]:
    """The JSON schema of one field, without the ``null`` that makes it optional."""
    prop: dict[str, Any] = model.model_json_schema()["properties"][name]
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    if len(options) != 1:
        raise TypeError(f"{model.__name__}.{name}: expected one non-null type")
    return {**prop, **options[0]}


def _question(
    link_id: str,
    key: str,
    model: type[BaseModel],
    name: str,
    worded: Worded,
    *,
    answers: AnswerSet | None = None,
    unit: str | None = None,
    required: bool = False,
) -> Node:
    """A question whose answer format is read from the intake model, never restated."""
    prop = _property(model, name)
    node = Node(link_id, worded.text, "question", key, hint=worded.hint, required=required)
    schema_type = prop.get("type")
    values = prop.get("enum") or prop.get("items", {}).get("enum")
    if values is not None:
        if answers is None or set(answers.codes) != set(values):
            raise ValueError(f"{link_id}: the answer set does not match the intake's values")
        return replace(
            node,
            kind="choice",
            options=answers.options,
            system=intake_answer_system(answers),
            repeats=schema_type == "array",
        )
    if schema_type == "boolean":
        return replace(node, kind="yes_no", options=YES_NO, system=YES_NO_SYSTEM)
    if schema_type in ("integer", "number"):
        return replace(
            node,
            kind="integer" if schema_type == "integer" else "decimal",
            minimum=prop.get("minimum"),
            maximum=prop.get("maximum"),
            unit=unit,
        )
    if schema_type == "string" and "pattern" in prop:
        return replace(node, kind="string", pattern=prop["pattern"])
    if schema_type == "string":
        return replace(node, kind="text", max_length=prop.get("maxLength"))
    raise TypeError(f"{link_id}: no question type for {prop}")


_SECTIONS: dict[str, type[BaseModel]] = {
    "radiation": Radiation,
    "neurology": Neurology,
    "cauda_equina": CaudaEquina,
    "systemic": Systemic,
    "history": History,
    "mimics": Mimics,
    "inflammatory": Inflammatory,
    "health": Health,
    "outcomes": Outcomes,
}
_CHOICES: dict[str, AnswerSet] = {
    "sex": intake_wording.SEX,
    "regions": intake_wording.REGION,
    "health.smoking": intake_wording.SMOKING,
    "work_status": intake_wording.WORK_STATUS,
    "priorities": intake_wording.PRIORITY,
}


def _answers(path: str) -> AnswerSet | None:
    if path in _CHOICES:
        return _CHOICES[path]
    if path == "history.trauma":
        return intake_wording.trauma()
    if path.startswith(("radiation.", "neurology.")):
        return intake_wording.side()
    return None


def _intake_question(path: str, worded: Worded, *, unit: str | None = None) -> Node:
    """A question on a field of the intake or of one of its sections."""
    section, _, name = path.rpartition(".")
    model: type[BaseModel] = _SECTIONS[section] if section else Intake
    return _question(path, path, model, name, worded, answers=_answers(path), unit=unit)


def _knowledge_question(question: QuestionDef) -> Node:
    worded = Worded(question.question, question.hint)
    node = _intake_question(question.fact, worded, unit=question.unit)
    if question.choices and node.kind == "choice":
        # The words the person reads for this question; the codes are the answer set's.
        node = replace(node, options=tuple((c, question.choices[c]) for c, _ in node.options))
    return node


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _knowledge_groups(knowledge: kb.KnowledgeBase, screen: str, prefix: str) -> tuple[Node, ...]:
    """The knowledge base's questions of one screen, under its group headings in asking order.

    The web puts follow-ups on a later page under the same heading; one page holds them all
    here, so each heading is one group and its follow-ups come after the questions they follow.
    """
    groups: dict[str, list[Node]] = {}
    for question in knowledge.questions:
        # pain.* answers hold for each painful region, so they are asked in the region groups.
        if question.screen == screen and not question.fact.startswith("pain."):
            groups.setdefault(question.group, []).append(_knowledge_question(question))
    return tuple(
        Node(f"{prefix}-{_slug(heading)}", heading, "section", children=tuple(questions))
        for heading, questions in groups.items()
    )


def _pain_questions(knowledge: kb.KnowledgeBase) -> dict[str, Worded]:
    """The knowledge base's questions on the pain itself, by region field."""
    fields = {"sudden_onset": "onset"}
    return {
        fields.get(name, name): Worded(q.question, q.hint)
        for q in knowledge.questions
        if (name := q.fact.removeprefix("pain.")) != q.fact
    }


def _region_group(region: str, label: str, knowledge: kb.KnowledgeBase) -> Node:
    p = f"{REGIONS_LINK_ID}.{region}"
    worded = {**intake_wording.REGION_QUESTIONS, **_pain_questions(knowledge)}
    answers = {
        "onset": intake_wording.ONSET,
        "quality": intake_wording.QUALITY,
        "extent": intake_wording.EXTENT,
    }
    units = {"duration_weeks": "weeks"}
    required = {"duration_weeks", "intensity"}
    order = (
        "duration_weeks",
        "intensity",
        "quality",
        "extent",
        "worse_with_movement",
        "onset",
        "not_eased_by_rest",
        "worse_at_night",
        "worse_on_straining",
    )
    if set(order) != set(RegionPain.model_fields) - {"region"}:
        raise ValueError("the region group does not ask every field of a region")
    return Node(
        p,
        label,
        "region",
        region,
        children=tuple(
            _question(
                f"{p}.{name}",
                name,
                RegionPain,
                name,
                worded[name],
                answers=answers.get(name),
                unit=units.get(name),
                required=name in required,
            )
            for name in order
        ),
    )


def _repeat_group(
    name: str,
    text: str,
    model: type[BaseModel],
    answers: dict[str, AnswerSet],
    units: dict[str, str],
) -> Node:
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    return Node(
        name,
        text,
        "repeat",
        name,
        repeats=True,
        children=tuple(
            _question(
                f"{name}.{field_name}",
                field_name,
                model,
                field_name,
                intake_wording.QUESTIONS[f"{name}.{field_name}"],
                answers=answers.get(field_name),
                unit=units.get(field_name),
                required=field_name in required,
            )
            for field_name in model.model_fields
        ),
    )


def _startback(wording: Wording | None) -> Node:
    """The STarT Back items as the instrument's own Questionnaire words them."""
    definition = catalogue.get("startback")
    if wording is None:
        wording = bundled_wording(definition)
    exported = fhir.questionnaire(definition, wording).model_dump(mode="json", exclude_none=True)
    children = []
    for item in exported["item"]:
        codings = [option["valueCoding"] for option in item.get("answerOption", [])]
        path = f"startback.{item['linkId']}"
        children.append(
            Node(
                path,
                item["text"],
                "question",
                path,
                kind="choice" if codings else "boolean",
                options=tuple((c["code"], c["display"]) for c in codings),
                system=codings[0]["system"] if codings else None,
                required=True,
            )
        )
    return Node("startback", intake_wording.STARTBACK_TITLE, "section", children=tuple(children))


def _section(link_id: str, text: str, *children: Node) -> Node:
    return Node(f"{GROUP_PREFIX}{link_id}", text, "section", children=children)


def _asked(paths: tuple[str, ...]) -> tuple[Node, ...]:
    return tuple(_intake_question(p, intake_wording.QUESTIONS[p]) for p in paths)


def _tree(wording: Wording | None) -> tuple[Node, ...]:
    knowledge = kb.default()
    w = intake_wording
    age = replace(
        _intake_question("age", w.QUESTIONS["age"], unit="years"),
        minimum=MINIMUM_AGE,
        required=True,
    )
    # A repeating choice of the regions' names: the regions themselves are the groups below.
    regions = replace(
        _question(
            REGIONS_LINK_ID,
            REGIONS_LINK_ID,
            RegionPain,
            "region",
            w.QUESTIONS[REGIONS_LINK_ID],
            answers=w.REGION,
        ),
        repeats=True,
        required=True,
    )
    outcomes = tuple(
        _intake_question(path, w.outcome_question(code, words), unit=unit)
        for path, code, words, unit in (
            ("outcomes.odi_percent", "odi", "per cent (0-100)", "%"),
            ("outcomes.rmdq", "rmdq", "total (0-24)", None),
            ("outcomes.ndi_percent", "ndi", "per cent (0-100)", "%"),
        )
    )
    lifestyle = (
        _intake_question("health.smoking", w.QUESTIONS["health.smoking"]),
        _intake_question("health.height_cm", w.QUESTIONS["health.height_cm"], unit="cm"),
        _intake_question("health.weight_kg", w.QUESTIONS["health.weight_kg"], unit="kg"),
        _intake_question("health.bmi", w.QUESTIONS["health.bmi"], unit="kg/m2"),
        _intake_question("work_status", w.QUESTIONS["work_status"]),
    )
    return (
        _section(
            "emergency",
            w.EMERGENCY_TITLE,
            *_knowledge_groups(knowledge, "emergency", f"{GROUP_PREFIX}emergency"),
        ),
        _section(
            "about",
            w.ABOUT_TITLE,
            age,
            *_asked(("sex", "history.prior_spine_surgery")),
        ),
        _section(
            "pain",
            w.PAIN_TITLE,
            regions,
            *(_region_group(code, label, knowledge) for code, label in w.REGION.options),
        ),
        _section(
            "limbs",
            w.LIMBS_TITLE,
            *(_intake_question(f.path, Worded(f.question)) for f in LEG_FOLLOW_UPS),
        ),
        _section(
            "warning-signs",
            w.WARNING_SIGNS_TITLE,
            *_knowledge_groups(knowledge, "red_flag", f"{GROUP_PREFIX}warning-signs"),
        ),
        _section(
            "inflammatory",
            w.INFLAMMATORY_TITLE,
            _section(
                "inflammatory-back",
                w.INFLAMMATORY_BACK,
                *_asked(
                    tuple(
                        f"inflammatory.{name}"
                        for name in (
                            "started_before_35",
                            "wakes_second_half_of_night",
                            "buttock_pain",
                            "improves_with_movement",
                            "improves_within_48h_of_nsaid",
                        )
                    )
                ),
            ),
            _section(
                "inflammatory-family",
                w.INFLAMMATORY_FAMILY,
                *_asked(
                    tuple(
                        f"inflammatory.{name}"
                        for name in (
                            "first_degree_relative_with_spa",
                            "arthritis",
                            "enthesitis",
                            "psoriasis",
                            "inflammatory_bowel_disease_or_uveitis",
                        )
                    )
                ),
            ),
        ),
        _startback(wording),
        _repeat_group(
            "treatments_tried",
            w.TREATMENTS_TITLE,
            TreatmentTried,
            {"type": w.TREATMENT, "response": w.TREATMENT_RESPONSE},
            {"weeks": "weeks"},
        ),
        _repeat_group(
            "imaging",
            w.IMAGING_TITLE,
            ImagingDone,
            {"modality": w.IMAGING_MODALITY, "finding": w.IMAGING_FINDING, "side": w.IMAGING_SIDE},
            {"weeks_ago": "weeks"},
        ),
        _section("outcomes", w.OUTCOMES_TITLE, *outcomes),
        _section(
            "health",
            w.HEALTH_TITLE,
            _section("health-lifestyle", w.HEALTH_LIFESTYLE, *lifestyle),
            _section(
                "health-conditions",
                w.HEALTH_CONDITIONS,
                *_asked(
                    (
                        "health.diabetes",
                        "health.heart_disease",
                        "health.lung_disease",
                        "health.kidney_disease",
                    )
                ),
            ),
            _section("health-pregnancy", w.HEALTH_PREGNANCY, *_asked(("health.pregnant",))),
        ),
        _section(
            "what-matters",
            w.WHAT_MATTERS_TITLE,
            *_asked(("priorities", "what_matters_note")),
        ),
    )


@cache
def _default_tree() -> tuple[Node, ...]:
    return _tree(None)


def items(startback_wording: Wording | None = None) -> tuple[Node, ...]:
    """The Questionnaire's items; ``startback_wording`` is a site's licensed STarT Back text."""
    return _default_tree() if startback_wording is None else _tree(startback_wording)


def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Every node, depth first, in Questionnaire order."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def questions() -> dict[str, Node]:
    """Every question by linkId."""
    return {n.link_id: n for n in walk(items()) if n.role == "question"}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _extensions(node: Node) -> list[dict[str, Any]]:
    value = "valueInteger" if node.kind == "integer" else "valueDecimal"
    out: list[dict[str, Any]] = []
    if node.minimum is not None:
        out.append({"url": fhir.MIN_VALUE, value: _number(node.minimum)})
    if node.maximum is not None:
        out.append({"url": fhir.MAX_VALUE, value: _number(node.maximum)})
    if node.unit is not None:
        code, display = _UNITS[node.unit]
        out.append({"url": UNIT, "valueCoding": {"system": UCUM, "code": code, "display": display}})
    if node.pattern is not None:
        out.append({"url": REGEX, "valueString": node.pattern})
    return out


def _item(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": node.link_id, "text": node.text}
    if node.role != "question":
        out["type"] = "group"
        if node.role == "region":
            out["enableWhen"] = [
                {
                    "question": REGIONS_LINK_ID,
                    "operator": "=",
                    "answerCoding": {
                        "system": intake_answer_system(intake_wording.REGION),
                        "code": node.key,
                    },
                }
            ]
        if node.repeats:
            out["repeats"] = True
        out["item"] = [_item(child) for child in node.children]
        return out
    out["type"] = "choice" if node.kind == "yes_no" else node.kind
    if node.required:
        out["required"] = True
    if node.repeats:
        out["repeats"] = True
    if node.max_length is not None:
        out["maxLength"] = node.max_length
    extensions = _extensions(node)
    if extensions:
        out["extension"] = extensions
    if node.options:
        out["answerOption"] = [
            {"valueCoding": {"system": node.system, "code": code, "display": display}}
            for code, display in node.options
        ]
    if node.hint:
        out["item"] = [
            {"linkId": f"{node.link_id}{HINT_SUFFIX}", "text": node.hint, "type": "display"}
        ]
    return out


def questionnaire(startback_wording: Wording | None = None) -> Questionnaire:
    """The intake Questionnaire. Without a site's STarT Back wording its items say so."""
    startback = catalogue.get("startback")
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": CANONICAL_URL,
        "version": VERSION,
        "name": "SpinepathIntake",
        "title": "spinepath back and neck pain questionnaire",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": f"spinepath {__version__}",
        "description": (
            "What a person with neck, upper-back or low-back pain reports: the input of a "
            f"spinepath assessment (intake version {VERSION}). Each question's linkId is the "
            "intake field it fills; a yes/no question left out of a response is not answered, "
            "which spinepath never reads as no."
        ),
        "copyright": (
            "spinepath's questions, under the project's licence (Apache-2.0). The STarT Back "
            f"items: {startback.licence.notice}"
        ),
        "item": [_item(node) for node in items(startback_wording)],
    }
    return Questionnaire.model_validate(data)
