"""What both directions between a population data set and FHIR share: ids, references, dates,
spinepath's extensions, and how a PROM is coded.

Keys of the data set are FHIR ids: a person is ``Patient/<person_id>``, a clinic
``Organization/<clinic_id>``, an episode ``Condition/<episode_id>`` and
``Encounter/<episode_id>``, an assessment ``QuestionnaireResponse/<assessment_id>``. Rows of the
other tables have no key; their resources get ids made from the table and the row's position, so
the same data set always gives the same files.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from functools import cache
from typing import Any

from spinepath.instruments import catalogue
from spinepath.instruments.models import InstrumentDefinition
from spinepath.interop.fhir import UCUM, canonical_reference, canonical_url
from spinepath.interop.terminology import BASE_URL, SCORE_LOINC, SCORE_SYSTEM, score_code

Json = dict[str, Any]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""R4's ``id`` type."""

PROM_DUE_DATE = f"{BASE_URL}/StructureDefinition/prom-due-date"
"""Extension (valueDate) on a PROM's Observation or QuestionnaireResponse: when it was due."""
PROM_TIMEPOINT = f"{BASE_URL}/StructureDefinition/prom-timepoint"
"""Extension (valueCode: baseline, 6_weeks, 3_months, 12_months): which follow-up it is."""
ORDERING_SETTING = f"{BASE_URL}/StructureDefinition/ordering-setting"
"""Extension (valueCode: primary_care, specialist, emergency) on an ImagingStudy."""
CLINIC_IDENTIFIER = f"{BASE_URL}/NamingSystem/clinic"
"""The identifier system of a clinic's Organization (its ``clinic_id``)."""
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
SURVEY_CATEGORY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}
"""The category spinepath's score Observations carry (``interop.fhir.score_observation``)."""

_ROW_IDS = uuid.UUID("6f1d2c1e-55a5-4d2b-9a67-0c1c6f0d3b6e")


class FieldError(ValueError):
    """A row or resource that cannot be mapped; ``field`` names the column or FHIR element."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def checked_id(value: object, field: str) -> str:
    """``value`` if it can be a FHIR id; FieldError naming ``field`` otherwise."""
    if not isinstance(value, str) or FHIR_ID.fullmatch(value) is None:
        raise FieldError(
            field, f"{value!r} cannot be a FHIR id (1 to 64 letters, digits, '-' or '.')"
        )
    return value


def row_id(table: str, position: int) -> str:
    """The id of the resource made from row ``position`` of ``table`` (a table with no key)."""
    return str(uuid.uuid5(_ROW_IDS, f"{table}/{position}"))


def series_uid(table: str, position: int) -> str:
    """A DICOM UID for an imaging row's one series (UUID-derived, under the 2.25 root)."""
    return f"2.25.{uuid.uuid5(_ROW_IDS, f'{table}/{position}/series').int}"


def reference(resource_type: str, resource_id: str) -> Json:
    return {"reference": f"{resource_type}/{resource_id}"}


_REFERENCE = re.compile(r"(?:^|/)([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def referenced_id(node: object, resource_type: str, field: str) -> str:
    """The id in a Reference to a ``resource_type`` (relative or absolute URL)."""
    text = node.get("reference") if isinstance(node, dict) else None
    found = _REFERENCE.search(text) if isinstance(text, str) else None
    if found is None or found.group(1) != resource_type:
        raise FieldError(f"{field}.reference", f"expected a reference to a {resource_type}")
    return found.group(2)


def fhir_date(value: date) -> str:
    return value.isoformat()


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T.*)?")


def read_date(value: object, field: str) -> date:
    """The calendar date of a FHIR date or dateTime, as written (its time and offset dropped).

    A year or a month alone is not a calendar date and is refused."""
    found = _DATE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise FieldError(field, f"{value!r} is not a date (YYYY-MM-DD, with or without a time)")
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise FieldError(field, f"{value!r} is not a calendar date") from None


def optional_date(value: object, field: str) -> date | None:
    return None if value is None else read_date(value, field)


def objects(value: object) -> list[Json]:
    """The JSON objects of a list element (an element that is not a list has none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def codings(concept: object) -> list[Json]:
    """The codings of a CodeableConcept, or of a list of them; anything malformed left out."""
    concepts = concept if isinstance(concept, list) else [concept]
    found: list[Json] = []
    for item in concepts:
        if isinstance(item, dict):
            found += objects(item.get("coding"))
    return found


def extension_value(resource: Json, url: str, key: str) -> object:
    """The ``key`` value (valueDate, valueCode) of the resource's extension ``url``, or None."""
    for extension in objects(resource.get("extension")):
        if extension.get("url") == url:
            return extension.get(key)
    return None


# --- PROMs: instruments of spinepath's registry ------------------------------------------------


def instrument(instrument_id: object) -> InstrumentDefinition:
    """The registry's instrument of a ``proms.instrument`` value, spelled exactly as its id."""
    found = catalogue.definitions()
    if not isinstance(instrument_id, str) or instrument_id not in found:
        raise FieldError(
            "instrument",
            f"{instrument_id!r} is not an instrument id of spinepath's registry "
            f"({', '.join(found)})",
        )
    return found[instrument_id]


def score_codings(definition: InstrumentDefinition) -> list[Json]:
    """The codes of an instrument's primary score: spinepath's own, and LOINC where verified."""
    return [dict(coding) for coding in _score_codings(definition.code)]


@cache
def _score_codings(code: str) -> tuple[Json, ...]:
    definition = catalogue.get(code)
    primary = score_code(definition, definition.scoring.primary)
    found: list[Json] = [
        {
            "system": SCORE_SYSTEM,
            "code": primary,
            "display": f"{definition.short_name} score ({definition.scoring.unit})",
        }
    ]
    loinc = SCORE_LOINC.get(primary)
    if loinc is not None:
        found.append(loinc.coding())
    return tuple(found)


def score_quantity(definition: InstrumentDefinition, value: float) -> Json:
    return {
        "value": value,
        "unit": definition.scoring.unit,
        "system": UCUM,
        "code": definition.scoring.ucum,
    }


@cache
def _instruments_by_code() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for code, definition in catalogue.definitions().items():
        for coding in score_codings(definition):
            found[(coding["system"], coding["code"])] = code
    return found


def instrument_of(concept: object) -> str | None:
    """The instrument whose primary score an Observation's code names, if any."""
    table = _instruments_by_code()
    for coding in codings(concept):
        found = table.get((str(coding.get("system")), str(coding.get("code"))))
        if found is not None:
            return found
    return None


@cache
def _instruments_by_questionnaire() -> dict[str, str]:
    found: dict[str, str] = {}
    for code, definition in catalogue.definitions().items():
        found[canonical_url(definition)] = code
        found[canonical_reference(definition)] = code
    return found


@cache
def _questionnaires() -> dict[str, str]:
    return {code: canonical_reference(d) for code, d in catalogue.definitions().items()}


def questionnaire_of(definition: InstrumentDefinition) -> str:
    return _questionnaires()[definition.code]


def instrument_of_questionnaire(canonical: object) -> str | None:
    return _instruments_by_questionnaire().get(canonical) if isinstance(canonical, str) else None


def extensions(*pairs: tuple[str, str, object]) -> Iterator[Json]:
    """Extensions (url, value key, value) for the values that are not None."""
    for url, key, value in pairs:
        if value is not None:
            yield {"url": url, key: value}
