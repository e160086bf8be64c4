"""FHIR R4 (R4B models) export: a Questionnaire per instrument, and scored responses.

Questionnaire item ``linkId``s are the definition's item codes, so they stay stable across
versions. Ordinal and choice answers carry their published item score in the standard
``ordinalValue`` extension. The licence notice goes in ``copyright``. Where the wording is not
shipped, item text says so (or comes from the site wording file when one is given); the generic
measures carry spinepath's bundled wording.

A scored response is exported as a QuestionnaireResponse plus an Observation holding the
primary score as a UCUM quantity (``derivedFrom`` the response), which any FHIR tool can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from spinepath import __version__
from spinepath.instruments import catalogue
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    InstrumentDefinition,
    Item,
    NumericResponse,
    OrdinalResponse,
)
from spinepath.instruments.scoring import ScoreResult, validate_answers
from spinepath.instruments.wording import Wording, bundled_wording

BASE = "urn:spinepath:questionnaire"
SCORE_SYSTEM = "urn:spinepath:score"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
UCUM = "http://unitsofmeasure.org"
NOT_SHIPPED = "[Wording not shipped: supply the licensed text in a site wording file]"


def canonical_url(definition: InstrumentDefinition) -> str:
    return f"{BASE}:{definition.code}"


def resource_id(definition: InstrumentDefinition) -> str:
    # FHIR ids allow letters, digits, '-' and '.', not '_'.
    return definition.code.replace("_", "-")


def _answer_system(definition: InstrumentDefinition, item: Item) -> str:
    return f"{canonical_url(definition)}:{item.code}"


def _option(
    definition: InstrumentDefinition, item: Item, code: str, score: int, display: str
) -> dict[str, Any]:
    return {
        "valueCoding": {
            "system": _answer_system(definition, item),
            "code": code,
            "display": display,
        },
        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": score}],
    }


def _item(
    definition: InstrumentDefinition, item: Item, position: int, wording: Wording | None
) -> dict[str, Any]:
    words = wording.items[item.code] if wording else None
    text = words.text if words else f"{item.name} {NOT_SHIPPED}"
    out: dict[str, Any] = {
        "linkId": item.code,
        "prefix": str(position),
        "text": text,
        "required": definition.scoring.max_missing == 0
        and definition.scoring.method != "count_true",
    }
    response = item.response
    options = words.options if words else {}
    if isinstance(response, OrdinalResponse):
        out["type"] = "choice"
        out["answerOption"] = [
            _option(definition, item, str(v), v, options.get(str(v), f"Statement scored {v}"))
            for v in range(response.min, response.max + 1)
        ]
    elif isinstance(response, ChoiceResponse):
        out["type"] = "choice"
        out["answerOption"] = [
            _option(definition, item, o.code, o.score, options.get(o.code, o.code))
            for o in response.options
        ]
    elif isinstance(response, BooleanResponse):
        out["type"] = "boolean"
    else:
        if not isinstance(response, NumericResponse):
            raise TypeError(f"expected NumericResponse, got {type(response).__name__}")
        out["type"] = "integer"
        out["extension"] = [
            {"url": MIN_VALUE, "valueInteger": response.min},
            {"url": MAX_VALUE, "valueInteger": response.max},
        ]
    return out


def questionnaire(
    instrument: str | InstrumentDefinition, wording: Wording | None = None
) -> Questionnaire:
    definition = catalogue.get(instrument) if isinstance(instrument, str) else instrument
    if wording is None:
        wording = bundled_wording(definition)
    items = [_item(definition, item, n, wording) for n, item in enumerate(definition.items, 1)]
    description = (
        f"{definition.name} ({definition.version}): {definition.measures}. "
        f"Scoring: {definition.scoring.rule} Missing items: {definition.scoring.missing_rule}"
    )
    if wording is None:
        description += f" {NOT_SHIPPED}."
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": resource_id(definition),
        "url": canonical_url(definition),
        "version": definition.version,
        "name": "".join(part.capitalize() for part in definition.code.split("_")),
        "title": wording.title if wording and wording.title else definition.name,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": f"spinepath {__version__}",
        "description": description,
        "copyright": definition.licence.notice,
        "item": items,
    }
    if wording is not None:
        data["language"] = wording.language
    return Questionnaire.model_validate(data)


def questionnaire_bundle(wordings: Mapping[str, Wording] | None = None) -> Bundle:
    """Every instrument's Questionnaire in one collection Bundle."""
    wordings = wordings or {}
    entries = [
        {
            "fullUrl": canonical_url(d),
            "resource": questionnaire(d, wordings.get(code)).model_dump(mode="json"),
        }
        for code, d in catalogue.definitions().items()
    ]
    return Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _answer_value(item: Item, value: int | bool | str, system: str) -> dict[str, Any]:
    response = item.response
    if isinstance(response, BooleanResponse):
        return {"valueBoolean": value}
    if isinstance(response, NumericResponse):
        return {"valueInteger": value}
    return {"valueCoding": {"system": system, "code": str(value)}}


def questionnaire_response(
    instrument: str | InstrumentDefinition,
    answers: Mapping[str, object],
    *,
    authored: date,
    subject: str | None = None,
) -> QuestionnaireResponse:
    definition = catalogue.get(instrument) if isinstance(instrument, str) else instrument
    checked = validate_answers(definition, answers)
    items = [
        {
            "linkId": item.code,
            "answer": [_answer_value(item, value, _answer_system(definition, item))],
        }
        for item in definition.items
        if (value := checked[item.code]) is not None
    ]
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"{resource_id(definition)}-{authored.isoformat()}",
        "questionnaire": f"{canonical_url(definition)}|{definition.version}",
        "status": "completed",
        "authored": authored.isoformat(),
        "item": items,
    }
    if subject:
        data["subject"] = {"reference": subject}
    return QuestionnaireResponse.model_validate(data)


def score_observation(
    result: ScoreResult,
    *,
    effective: date,
    response_id: str | None = None,
    subject: str | None = None,
) -> Observation:
    """The primary score as an Observation (UCUM quantity); band and subscores alongside."""
    definition = catalogue.get(result.instrument)
    code = f"{definition.code}-{definition.scoring.primary}"
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{code.replace('_', '-')}-{effective.isoformat()}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": SCORE_SYSTEM,
                    "code": code,
                    "display": f"{definition.short_name} score ({definition.scoring.unit})",
                }
            ],
            "text": f"{definition.name} ({definition.version}) score",
        },
        "effectiveDateTime": effective.isoformat(),
        "note": [{"text": definition.licence.notice}],
    }
    if subject:
        data["subject"] = {"reference": subject}
    if response_id:
        data["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{response_id}"}]
    if result.valid and result.score is not None:
        data["valueQuantity"] = {
            "value": round(result.score, 4),
            "unit": definition.scoring.unit,
            "system": UCUM,
            "code": definition.scoring.ucum,
        }
        if result.band is not None:
            data["interpretation"] = [
                {
                    "coding": [
                        {
                            "system": SCORE_SYSTEM,
                            "code": f"{definition.code}-band-{result.band.code}",
                        }
                    ],
                    "text": result.band.label,
                }
            ]
        components = [
            {
                "code": {"coding": [{"system": SCORE_SYSTEM, "code": f"{definition.code}-{name}"}]},
                "valueQuantity": {"value": value, "system": UCUM, "code": "{score}"},
            }
            for name, value in result.subscores.items()
        ]
        if result.percent is not None and definition.scoring.primary != "percent":
            components.append(
                {
                    "code": {
                        "coding": [{"system": SCORE_SYSTEM, "code": f"{definition.code}-percent"}]
                    },
                    "valueQuantity": {
                        "value": round(result.percent, 4),
                        "unit": "%",
                        "system": UCUM,
                        "code": "%",
                    },
                }
            )
        if components:
            data["component"] = components
    else:
        data["dataAbsentReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "unknown",
                }
            ],
            "text": result.reason or "not scorable",
        }
    return Observation.model_validate(data)


def scored_bundle(
    result: ScoreResult,
    answers: Mapping[str, object],
    *,
    effective: date,
    subject: str | None = None,
) -> Bundle:
    """A collection Bundle: the QuestionnaireResponse and the score Observation derived from it."""
    response = questionnaire_response(
        result.instrument, answers, authored=effective, subject=subject
    )
    observation = score_observation(
        result, effective=effective, response_id=response.id, subject=subject
    )
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": response.model_dump(mode="json")},
                {"resource": observation.model_dump(mode="json")},
            ],
        }
    )
