"""Rows of a population data set as FHIR R4 resources, one row at a time.

Each function takes one row (a dict of the table's columns) and returns its resources, or raises
``FieldError`` naming the column that cannot be written. A row that is written but whose kind or
category would read back differently (its code is in no value set of that kind, or in an earlier
one) is reported through ``warn``: the kinds come back from FHIR by code alone.

Column by column, the mapping is in docs/population-data.md; the codes in
``fhir_value_sets.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from spinepath.interop.intake_questionnaire import CANONICAL, items
from spinepath.interop.intake_response import response_items
from spinepath.population import tables
from spinepath.population.fhir_elements import (
    CLINIC_IDENTIFIER,
    DATA_ABSENT_REASON,
    DATA_ABSENT_SYSTEM,
    ORDERING_SETTING,
    PROM_DUE_DATE,
    PROM_TIMEPOINT,
    SURVEY_CATEGORY,
    FieldError,
    checked_id,
    extensions,
    fhir_date,
    instrument,
    questionnaire_of,
    reference,
    row_id,
    score_codings,
    score_quantity,
    series_uid,
)
from spinepath.population.fhir_value_sets import UnknownSystemError, load
from spinepath.population.intake_column import IntakeError, read_intake

Row = Mapping[str, Any]
Json = dict[str, Any]
Warn = Callable[[FieldError], None]

GENDERS = ("female", "male", "other", "unknown")
ORDERING_SETTINGS = ("primary_care", "specialist", "emergency")
UCUM = "http://unitsofmeasure.org"
DICOM_OTHER = {
    "system": "http://dicom.nema.org/resources/ontology/DCM",
    "code": "OT",
    "display": "Other",
}


def _concept(coding: Json) -> Json:
    return {"coding": [coding]}


def _subject(row: Row) -> Json:
    return reference("Patient", checked_id(row["person_id"], "person_id"))


def _coded(row: Row) -> Json | None:
    """The row's own code as a CodeableConcept, or None when it has none."""
    system, code = row["code_system"], row["code"]
    if system is None and code is None:
        return None
    if system is None or code is None:
        missing = "code_system" if system is None else "code"
        raise FieldError(missing, "a code needs both code_system and code")
    try:
        uri = load().system_uri(system)
    except UnknownSystemError as exc:
        raise FieldError("code_system", str(exc)) from None
    return _concept({"system": uri, "code": code})


def _choice(row: Row, column: str, allowed: tuple[str, ...]) -> str | None:
    value = row[column]
    if value is not None and value not in allowed:
        raise FieldError(column, f"{value!r} is not one of {', '.join(allowed)}")
    return value  # type: ignore[no-any-return]


def _check_kind(
    mapping_id: str, column: str, row: Row, concept: Json | None, warn: Warn, *, default: str | None
) -> None:
    """Warns when the row's kind would not come back from its code."""
    found = load().mapping(mapping_id).value_of(concept["coding"] if concept else [])
    expected = row[column]
    back = found if found is not None or concept is None else default
    if back != expected:
        code = f"{row['code_system']}|{row['code']}" if concept else "no code"
        warn(FieldError(column, f"{expected!r} reads back from FHIR as {back!r} ({code})"))


def patient(row: Row) -> Json:
    resource: Json = {"resourceType": "Patient", "id": checked_id(row["person_id"], "person_id")}
    gender = _choice(row, "sex", GENDERS)
    if gender is not None:
        resource["gender"] = gender
    if row["birth_date"] is not None:
        resource["birthDate"] = fhir_date(row["birth_date"])
    if row["clinic_id"] is not None:
        resource["managingOrganization"] = reference(
            "Organization", checked_id(row["clinic_id"], "clinic_id")
        )
    return resource


def organization(clinic_id: str) -> Json:
    checked_id(clinic_id, "clinic_id")
    return {
        "resourceType": "Organization",
        "id": clinic_id,
        "active": True,
        "identifier": [{"system": CLINIC_IDENTIFIER, "value": clinic_id}],
    }


def episode_condition(row: Row, warn: Warn) -> Json:
    episode = checked_id(row["episode_id"], "episode_id")
    sets = load()
    resource: Json = {
        "resourceType": "Condition",
        "id": episode,
        "category": [_concept(sets.mapping("condition_category").coding("encounter-diagnosis"))],
        "subject": _subject(row),
        "encounter": reference("Encounter", episode),
    }
    concept = _coded(row)
    region = _choice(row, "region", load().mapping("episode_region").values)
    if concept is not None:
        resource["code"] = concept
        if sets.mapping("episode_code").value_of(concept["coding"]) is None:
            warn(FieldError("code", "not a back or neck pain code: it reads back as no episode"))
    elif region is None:
        warn(FieldError("code", "an episode with no code and no region reads back as no episode"))
    if region is not None:
        resource["bodySite"] = [_concept(sets.mapping("episode_region").coding(region))]
    if row["onset_date"] is not None:
        resource["onsetDateTime"] = fhir_date(row["onset_date"])
    if row["diagnosis_date"] is not None:
        resource["recordedDate"] = fhir_date(row["diagnosis_date"])
    return resource


def episode_encounter(row: Row) -> Json:
    episode = checked_id(row["episode_id"], "episode_id")
    sets = load()
    setting = _choice(row, "setting", sets.mapping("encounter_class").values)
    encounter_class: Json
    if setting is None:
        encounter_class = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    else:
        encounter_class = sets.mapping("encounter_class").coding(setting)
    resource: Json = {
        "resourceType": "Encounter",
        "id": episode,
        "status": "finished",
        "class": encounter_class,
        "subject": _subject(row),
        "diagnosis": [{"condition": reference("Condition", episode)}],
    }
    if setting in sets.mapping("encounter_type").values:
        resource["type"] = [_concept(sets.mapping("encounter_type").coding(str(setting)))]
    if row["diagnosis_date"] is not None:
        resource["period"] = {"start": fhir_date(row["diagnosis_date"])}
    return resource


def condition(row: Row, position: int, warn: Warn) -> Json:
    sets = load()
    _choice(row, "category", tables.CONDITION_CATEGORIES)
    status = "active" if row["ended_on"] is None else "resolved"
    resource: Json = {
        "resourceType": "Condition",
        "id": row_id("conditions", position),
        "clinicalStatus": _concept(sets.mapping("condition_clinical_status").coding(status)),
        "category": [_concept(sets.mapping("condition_category").coding("problem-list-item"))],
        "subject": _subject(row),
    }
    concept = _coded(row)
    if concept is not None:
        resource["code"] = concept
    _check_kind("condition_kind", "category", row, concept, warn, default=None)
    if row["recorded_on"] is not None:
        resource["recordedDate"] = fhir_date(row["recorded_on"])
    if row["ended_on"] is not None:
        resource["abatementDateTime"] = fhir_date(row["ended_on"])
    return resource


def imaging_study(row: Row, position: int, warn: Warn) -> Json:
    sets = load()
    modality = _choice(row, "modality", sets.mapping("imaging_modality").values)
    site = _choice(row, "body_site", sets.mapping("imaging_body_site").values)
    setting = _choice(row, "ordered_by_setting", ORDERING_SETTINGS)
    resource: Json = {
        "resourceType": "ImagingStudy",
        "id": row_id("imaging", position),
        "status": "available",
        "subject": _subject(row),
    }
    resource["extension"] = list(extensions((ORDERING_SETTING, "valueCode", setting)))
    if not resource["extension"]:
        del resource["extension"]
    modality_coding = (
        None if modality is None else sets.mapping("imaging_modality").coding(modality)
    )
    if modality_coding is not None:
        resource["modality"] = [modality_coding]
    if row["performed_on"] is not None:
        resource["started"] = fhir_date(row["performed_on"])
    concept = _coded(row)
    if concept is not None:
        resource["procedureCode"] = [concept]
    if site is not None:
        resource["series"] = [
            {
                "uid": series_uid("imaging", position),
                "modality": modality_coding or DICOM_OTHER,
                "bodySite": sets.mapping("imaging_body_site").coding(site),
            }
        ]
    return resource


def medication_request(row: Row, position: int, warn: Warn) -> Json:
    _choice(row, "drug_class", tables.DRUG_CLASSES)
    concept = _coded(row)
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": row_id("medications", position),
        "status": "completed",
        "intent": "order",
        # medication[x] is required: a row without a code says so rather than invent one.
        "medicationCodeableConcept": concept
        or {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]},
        "subject": _subject(row),
    }
    _check_kind("drug_class", "drug_class", row, concept, warn, default="other")
    if row["prescribed_on"] is not None:
        resource["authoredOn"] = fhir_date(row["prescribed_on"])
    days = row["days_supply"]
    if days is not None:
        if days < 0:
            raise FieldError("days_supply", f"{days} is negative")
        resource["dispenseRequest"] = {
            "expectedSupplyDuration": {"value": days, "unit": "days", "system": UCUM, "code": "d"}
        }
    return resource


def procedure(row: Row, position: int, warn: Warn) -> Json:
    _choice(row, "kind", tables.PROCEDURE_KINDS)
    resource: Json = {
        "resourceType": "Procedure",
        "id": row_id("procedures", position),
        "status": "completed",
        "subject": _subject(row),
    }
    return _coded_event(
        resource, row, warn, "procedure_kind", ("performed_on", "performedDateTime")
    )


def service_request(row: Row, position: int, warn: Warn) -> Json:
    _choice(row, "kind", load().mapping("referral_kind").values)
    resource: Json = {
        "resourceType": "ServiceRequest",
        "id": row_id("referrals", position),
        "status": "active",
        "intent": "order",
        "subject": _subject(row),
    }
    return _coded_event(resource, row, warn, "referral_kind", ("referred_on", "authoredOn"))


def _coded_event(resource: Json, row: Row, warn: Warn, kinds: str, date: tuple[str, str]) -> Json:
    """The row's code (checked against its kind) and its date (column, element) on
    ``resource``."""
    concept = _coded(row)
    if concept is not None:
        resource["code"] = concept
    _check_kind(kinds, "kind", row, concept, warn, default=None)
    column, element = date
    if row[column] is not None:
        resource[element] = fhir_date(row[column])
    return resource


def prom(row: Row, position: int, warn: Warn) -> Json:
    """A completed PROM as its score Observation; one due and not done as an in-progress
    QuestionnaireResponse. Both carry the due date and the time point in extensions."""
    definition = instrument(row["instrument"])
    timepoint = _choice(row, "timepoint", tables.TIMEPOINTS)
    due = None if row["due_on"] is None else fhir_date(row["due_on"])
    resource: Json = {"id": row_id("proms", position)}
    found = list(
        extensions((PROM_DUE_DATE, "valueDate", due), (PROM_TIMEPOINT, "valueCode", timepoint))
    )
    if found:
        resource["extension"] = found
    score = row["score"]
    if score is not None and not math.isfinite(score):
        raise FieldError("score", f"{score} is not a finite number")
    if row["completed_on"] is None:
        if score is not None:
            warn(FieldError("score", "a score without completed_on is not written"))
        resource |= {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": questionnaire_of(definition),
            "status": "in-progress",
            "subject": _subject(row),
        }
        return resource
    resource |= {
        "resourceType": "Observation",
        "status": "final",
        "category": [SURVEY_CATEGORY],
        "code": {"coding": score_codings(definition)},
        "subject": _subject(row),
        "effectiveDateTime": fhir_date(row["completed_on"]),
    }
    if score is None:
        resource["dataAbsentReason"] = _concept({"system": DATA_ABSENT_SYSTEM, "code": "unknown"})
    else:
        resource["valueQuantity"] = score_quantity(definition, score)
    return resource


def assessment(row: Row) -> Json:
    """The intake as a completed response to the intake Questionnaire, through the mapping of
    ``interop.intake_response`` (its items, without building the pydantic model of the whole
    response, which costs milliseconds a resource)."""
    try:
        intake = read_intake(row["intake"])
    except IntakeError as exc:
        raise FieldError("intake", str(exc)) from None
    resource: Json = {
        "resourceType": "QuestionnaireResponse",
        "id": checked_id(row["assessment_id"], "assessment_id"),
        "questionnaire": CANONICAL,
        "status": "completed",
        "subject": _subject(row),
    }
    if row["episode_id"] is not None:
        resource["encounter"] = reference("Encounter", checked_id(row["episode_id"], "episode_id"))
    if row["assessed_on"] is not None:
        resource["authored"] = fhir_date(row["assessed_on"])
    resource["item"] = response_items(items(), intake.model_dump(mode="json"))
    return resource
