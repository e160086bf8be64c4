"""FHIR R4 export: a Questionnaire per instrument, the local CodeSystems, and scored responses.

The resources are built and checked with fhir.resources' R4B models and serialised as JSON
that is also valid R4 (4.0.1): only elements that R4 and R4B share are used, and the test suite
validates every export against HL7's official R4 JSON schema (tests/interop).

Questionnaire item ``linkId``s are the definition's item codes, so they stay stable across
versions. Ordinal and choice answers carry their published item score in the standard
``ordinalValue`` extension. The licence notice goes in ``copyright``. Where the wording is not
shipped, item text says so (or comes from the site wording file when one is given); the generic
measures carry spinepath's bundled wording.

A scored response is exported as a QuestionnaireResponse plus an Observation holding the
primary score as a UCUM quantity (``derivedFrom`` the response), which any FHIR tool can read.
Both have a subject: the record's Patient when the caller names one, otherwise a contained
Patient with no identifiers (the person is anonymous to spinepath, so there is nothing to
identify them by and no independent Patient to point at).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
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
from spinepath.interop import terminology
from spinepath.interop.terminology import (
    BAND_LOINC,
    BASE_URL,
    QUESTIONNAIRE_LOINC,
    SCORE_LOINC,
    SCORE_SYSTEM,
    answer_system,
    band_code,
    canonical_version,
    entry_uuid,
    score_code,
)

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
UCUM = "http://unitsofmeasure.org"
NOT_SHIPPED = "[Wording not shipped: supply the licensed text in a site wording file]"
ANONYMOUS_PATIENT = "#patient"

IdFactory = Callable[[], uuid.UUID]


def canonical_url(definition: InstrumentDefinition) -> str:
    return f"{BASE_URL}/Questionnaire/{resource_id(definition)}"


def canonical_reference(definition: InstrumentDefinition) -> str:
    """``url|version`` of the definition's Questionnaire, free of whitespace."""
    return f"{canonical_url(definition)}|{canonical_version(definition)}"


def resource_id(definition: InstrumentDefinition) -> str:
    return terminology.fhir_id(definition)


def _option(
    definition: InstrumentDefinition, code: str, score: int, display: str
) -> dict[str, Any]:
    return {
        "valueCoding": {"system": answer_system(definition), "code": code, "display": display},
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
            _option(definition, str(v), v, options.get(str(v), f"Statement scored {v}"))
            for v in range(response.min, response.max + 1)
        ]
    elif isinstance(response, ChoiceResponse):
        out["type"] = "choice"
        out["answerOption"] = [
            _option(definition, o.code, o.score, options.get(o.code, o.code))
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
        "version": canonical_version(definition),
        "name": "".join(part.capitalize() for part in definition.code.split("_")),
        "title": wording.title if wording and wording.title else definition.name,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": f"spinepath {__version__}",
        "description": description,
        "copyright": definition.licence.notice,
        "item": items,
    }
    if definition.code in QUESTIONNAIRE_LOINC:
        data["code"] = [QUESTIONNAIRE_LOINC[definition.code].coding()]
    if wording is not None:
        data["language"] = wording.language
    return Questionnaire.model_validate(data)


def questionnaire_bundle(wordings: Mapping[str, Wording] | None = None) -> Bundle:
    """Every instrument's Questionnaire and the local CodeSystems in one collection Bundle.

    Entries get stable ``urn:uuid`` fullUrls derived from their canonical URL: a canonical is
    not where the resource can be fetched, so it must not pose as its fullUrl.
    """
    wordings = wordings or {}
    resources: list[dict[str, Any]] = [
        questionnaire(d, wordings.get(code)).model_dump(mode="json", exclude_none=True)
        for code, d in catalogue.definitions().items()
    ]
    resources += [
        system.model_dump(mode="json", exclude_none=True) for system in terminology.code_systems()
    ]
    entries = [
        {"fullUrl": entry_uuid(f"{r['url']}|{r['version']}"), "resource": r} for r in resources
    ]
    return Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _anonymous_patient() -> dict[str, Any]:
    # No identifier, name or birth date: spinepath does not know who the person is.
    return {"resourceType": "Patient", "id": ANONYMOUS_PATIENT.removeprefix("#")}


def _subject(data: dict[str, Any], subject: str | None) -> None:
    if subject is None:
        data["contained"] = [_anonymous_patient()]
        data["subject"] = {"reference": ANONYMOUS_PATIENT}
    else:
        data["subject"] = {"reference": subject}


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
    new_id: IdFactory = uuid.uuid4,
) -> QuestionnaireResponse:
    """The answers as a QuestionnaireResponse to the instrument's Questionnaire.

    ``subject`` is a reference to the record's Patient; without one the response contains an
    anonymous Patient. The id is a fresh UUID (``new_id``) so responses never collide.
    """
    definition = catalogue.get(instrument) if isinstance(instrument, str) else instrument
    checked = validate_answers(definition, answers)
    system = answer_system(definition)
    items = [
        {"linkId": item.code, "answer": [_answer_value(item, value, system)]}
        for item in definition.items
        if (value := checked[item.code]) is not None
    ]
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(new_id()),
        "questionnaire": canonical_reference(definition),
        "status": "completed",
        "authored": authored.isoformat(),
        "item": items,
    }
    _subject(data, subject)
    return QuestionnaireResponse.model_validate(data)


def _score_coding(
    definition: InstrumentDefinition, name: str, display: str | None = None
) -> list[dict[str, str]]:
    local: dict[str, str] = {"system": SCORE_SYSTEM, "code": score_code(definition, name)}
    if display:
        local["display"] = display
    codings: list[dict[str, str]] = [local]
    loinc = SCORE_LOINC.get(score_code(definition, name))
    if loinc is not None:
        codings.append(loinc.coding())
    return codings


def score_observation(
    result: ScoreResult,
    *,
    effective: date,
    subject: str | None = None,
    derived_from: str | None = None,
    new_id: IdFactory = uuid.uuid4,
) -> Observation:
    """The primary score as an Observation (UCUM quantity); band and subscores alongside.

    ``derived_from`` is a reference to the QuestionnaireResponse the score came from;
    ``subject`` as for ``questionnaire_response``.
    """
    definition = catalogue.get(result.instrument)
    scoring = definition.scoring
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(new_id()),
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
            "coding": _score_coding(
                definition,
                scoring.primary,
                f"{definition.short_name} score ({scoring.unit})",
            ),
            "text": f"{definition.name} ({definition.version}) score",
        },
        "effectiveDateTime": effective.isoformat(),
        "note": [{"text": definition.licence.notice}],
    }
    _subject(data, subject)
    if derived_from:
        data["derivedFrom"] = [{"reference": derived_from}]
    if result.valid and result.score is not None:
        data["valueQuantity"] = {
            "value": round(result.score, 4),
            "unit": scoring.unit,
            "system": UCUM,
            "code": scoring.ucum,
        }
        components: list[dict[str, Any]] = [
            {
                "code": {"coding": _score_coding(definition, name)},
                "valueQuantity": {"value": value, "system": UCUM, "code": "{score}"},
            }
            for name, value in result.subscores.items()
        ]
        if result.percent is not None and scoring.primary != "percent":
            components.append(
                {
                    "code": {"coding": _score_coding(definition, "percent")},
                    "valueQuantity": {
                        "value": round(result.percent, 4),
                        "unit": "%",
                        "system": UCUM,
                        "code": "%",
                    },
                }
            )
        if result.band is not None:
            local = {
                "system": SCORE_SYSTEM,
                "code": band_code(definition, result.band.code),
                "display": result.band.label,
            }
            data["interpretation"] = [{"coding": [local], "text": result.band.label}]
            # The band is also a coded component, where a standard code for it (the STarT Back
            # risk level's LOINC answer) can stand beside the local one.
            value_codings = [local]
            standard = BAND_LOINC.get(local["code"])
            if standard is not None:
                value_codings.append(standard.coding())
            components.append(
                {
                    "code": {"coding": _score_coding(definition, "band")},
                    "valueCodeableConcept": {
                        "coding": value_codings,
                        "text": result.band.label,
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
    new_id: IdFactory = uuid.uuid4,
) -> Bundle:
    """A collection Bundle: the QuestionnaireResponse and the score Observation derived from it.

    Each entry's fullUrl is ``urn:uuid:`` + its resource id, and ``derivedFrom`` points at the
    response's fullUrl, so the reference resolves inside the Bundle.
    """
    response = questionnaire_response(
        result.instrument, answers, authored=effective, subject=subject, new_id=new_id
    )
    response_url = f"urn:uuid:{response.id}"
    observation = score_observation(
        result, effective=effective, subject=subject, derived_from=response_url, new_id=new_id
    )
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(new_id()),
            "type": "collection",
            "entry": [
                {"fullUrl": response_url, "resource": response.model_dump(mode="json")},
                {
                    "fullUrl": f"urn:uuid:{observation.id}",
                    "resource": observation.model_dump(mode="json"),
                },
            ],
        }
    )
