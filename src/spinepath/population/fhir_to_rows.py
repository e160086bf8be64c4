"""FHIR R4 resources as rows of a population data set, one resource at a time.

Each reader takes one parsed resource and returns the rows it gives as ``(part, row)`` pairs, or
raises ``FieldError`` naming the element that cannot be read. A part is a table of the data set,
or one of the staging parts ``fhir_bulk_in`` joins at the end: an episode is a Condition and the
Encounter of its diagnosis visit, which may be in files read in any order, and an assessment
names its episode through that Encounter.

Kinds and categories are read from codes by the value sets of ``fhir_value_sets.yaml``, never
from display text. The column-by-column mapping is in docs/population-data.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from spinepath.interop.intake_questionnaire import (
    CANONICAL,
    CANONICAL_URL,
)
from spinepath.interop.intake_response import Problem, ResponseError, intake_from_items
from spinepath.pathway.intake import Intake
from spinepath.population import tables
from spinepath.population.fhir_elements import (
    ORDERING_SETTING,
    PROM_DUE_DATE,
    PROM_TIMEPOINT,
    FieldError,
    checked_id,
    codings,
    extension_value,
    instrument_of,
    instrument_of_questionnaire,
    objects,
    optional_date,
    read_date,
    referenced_id,
)
from spinepath.population.fhir_value_sets import load
from spinepath.population.intake_column import intake_record
from spinepath.population.rows_to_fhir import GENDERS, ORDERING_SETTINGS

Json = dict[str, Any]
Rows = list[tuple[str, dict[str, Any]]]

EPISODE_CONDITIONS = "episode_conditions"
EPISODE_ENCOUNTERS = "episode_encounters"
STAGED_ASSESSMENTS = "staged_assessments"
MAX_DAYS = 2**31 - 1


def _person(resource: Json) -> str:
    return referenced_id(resource.get("subject"), "Patient", "subject")


def _refuse_status(resource: Json, refused: tuple[str, ...]) -> None:
    status = resource.get("status")
    if status in refused:
        raise FieldError("status", f"{status!r}: not imported ({' and '.join(refused)} are not)")


def _code_columns(found: list[Json], mapping_id: str | None, value: str | None) -> Json:
    """``code_system`` and ``code`` of the coding that gave the value (else the first coding)."""
    chosen = None
    if mapping_id is not None and value is not None:
        mapping = load().mapping(mapping_id)
        chosen = next((c for c in found if mapping.value_of([c]) == value), None)
    chosen = chosen or next((c for c in found if c.get("system") and c.get("code")), None)
    if chosen is None:
        return {"code_system": None, "code": None}
    return {"code_system": str(chosen["system"]), "code": str(chosen["code"])}


def _choice(value: object, field: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def patient(resource: Json) -> Rows:
    organization = resource.get("managingOrganization")
    row = {
        "person_id": checked_id(resource.get("id"), "id"),
        "clinic_id": None
        if organization is None
        else referenced_id(organization, "Organization", "managingOrganization"),
        "sex": _choice(resource.get("gender"), "gender", GENDERS),
        "birth_date": optional_date(resource.get("birthDate"), "birthDate"),
    }
    return [("people", row)]


def organization(resource: Json) -> Rows:
    """Clinics are read from the people's ``managingOrganization``; an Organization adds none."""
    checked_id(resource.get("id"), "id")
    return []


def _verification(resource: Json) -> None:
    found = {c.get("code") for c in codings(resource.get("verificationStatus"))}
    refused = found & {"entered-in-error", "refuted"}
    if refused:
        raise FieldError("verificationStatus", f"{refused.pop()!r}: not imported")


def condition(resource: Json) -> Rows:
    _verification(resource)
    sets = load()
    person = _person(resource)
    found = codings(resource.get("code"))
    category = sets.mapping("condition_category").value_of(codings(resource.get("category")))
    if category == "encounter-diagnosis":
        region = sets.mapping("episode_region").value_of(codings(resource.get("bodySite")))
        in_value_set = sets.mapping("episode_code").value_of(found) is not None
        if in_value_set or (not found and region is not None):
            encounter = resource.get("encounter")
            row = {
                "episode_id": checked_id(resource.get("id"), "id"),
                "person_id": person,
                "region": region,
                "diagnosis_date": optional_date(resource.get("recordedDate"), "recordedDate"),
                "onset_date": optional_date(resource.get("onsetDateTime"), "onsetDateTime"),
                **_code_columns(found, "episode_code" if in_value_set else None, "back_pain"),
                "encounter_id": None
                if encounter is None
                else referenced_id(encounter, "Encounter", "encounter"),
            }
            return [(EPISODE_CONDITIONS, row)]
    kind = sets.mapping("condition_kind").value_of(found)
    if kind is None:
        raise FieldError(
            "code", "in no category of the conditions table (fhir_value_sets.yaml, condition_kind)"
        )
    row = {
        "person_id": person,
        "category": kind,
        **_code_columns(found, "condition_kind", kind),
        "recorded_on": optional_date(resource.get("recordedDate"), "recordedDate"),
        "ended_on": optional_date(resource.get("abatementDateTime"), "abatementDateTime"),
    }
    return [("conditions", row)]


def encounter(resource: Json) -> Rows:
    _refuse_status(resource, ("entered-in-error", "cancelled"))
    sets = load()
    setting = sets.mapping("encounter_type").value_of(codings(resource.get("type")))
    if setting is None:
        visit_class = resource.get("class")
        found = [visit_class] if isinstance(visit_class, dict) else []
        setting = sets.mapping("encounter_class").value_of(found)
    row = {"encounter_id": checked_id(resource.get("id"), "id"), "setting": setting}
    return [(EPISODE_ENCOUNTERS, row)]


def imaging_study(resource: Json) -> Rows:
    _refuse_status(resource, ("entered-in-error", "cancelled"))
    sets = load()
    series = objects(resource.get("series"))
    modalities = objects(resource.get("modality"))
    modalities += [s["modality"] for s in series if isinstance(s.get("modality"), dict)]
    sites = [s["bodySite"] for s in series if isinstance(s.get("bodySite"), dict)]
    found = codings(resource.get("procedureCode"))
    row = {
        "person_id": _person(resource),
        "performed_on": optional_date(resource.get("started"), "started"),
        "modality": sets.mapping("imaging_modality").value_of(modalities),
        "body_site": sets.mapping("imaging_body_site").value_of(sites),
        "ordered_by_setting": _choice(
            extension_value(resource, ORDERING_SETTING, "valueCode"),
            f"extension({ORDERING_SETTING})",
            ORDERING_SETTINGS,
        ),
        **_code_columns(found, None, None),
    }
    return [("imaging", row)]


def _days(resource: Json) -> int | None:
    dispense = resource.get("dispenseRequest")
    duration = dispense.get("expectedSupplyDuration") if isinstance(dispense, dict) else None
    if duration is None:
        return None
    field = "dispenseRequest.expectedSupplyDuration"
    value = duration.get("value") if isinstance(duration, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(field, "needs a number of days as its value")
    if duration.get("code") != "d" or duration.get("system") != "http://unitsofmeasure.org":
        raise FieldError(field, "is read in days only (UCUM code d)")
    if value != int(value) or not 0 <= value <= MAX_DAYS:
        raise FieldError(field, f"{value} is not a whole number of days")
    return int(value)


def medication_request(resource: Json) -> Rows:
    _refuse_status(resource, ("entered-in-error", "draft", "cancelled"))
    if resource.get("intent") in ("proposal", "plan", "option"):
        raise FieldError("intent", f"{resource.get('intent')!r}: not a prescription issued")
    if "medicationCodeableConcept" not in resource and "medicationReference" in resource:
        raise FieldError("medicationReference", "not read: give the medicine's code inline")
    found = codings(resource.get("medicationCodeableConcept"))
    drug_class = load().mapping("drug_class").value_of(found)
    if drug_class is None and found:
        drug_class = "other"
    row = {
        "person_id": _person(resource),
        "prescribed_on": optional_date(resource.get("authoredOn"), "authoredOn"),
        "drug_class": drug_class,
        **_code_columns(found, "drug_class", drug_class),
        "days_supply": _days(resource),
    }
    return [("medications", row)]


def procedure(resource: Json) -> Rows:
    _refuse_status(resource, ("not-done", "entered-in-error", "preparation"))
    found = codings(resource.get("code"))
    kind = load().mapping("procedure_kind").value_of(found)
    if kind is None:
        raise FieldError("code", "in no kind of the procedures table (procedure_kind)")
    performed = resource.get("performedDateTime")
    if performed is None and isinstance(resource.get("performedPeriod"), dict):
        performed = resource["performedPeriod"].get("start")
    row = {
        "person_id": _person(resource),
        "performed_on": optional_date(performed, "performed[x]"),
        "kind": kind,
        **_code_columns(found, "procedure_kind", kind),
    }
    return [("procedures", row)]


def service_request(resource: Json) -> Rows:
    _refuse_status(resource, ("draft", "entered-in-error"))
    found = codings(resource.get("code"))
    kind = load().mapping("referral_kind").value_of(found)
    if kind is None:
        raise FieldError("code", "in no kind of the referrals table (referral_kind)")
    row = {
        "person_id": _person(resource),
        "referred_on": optional_date(resource.get("authoredOn"), "authoredOn"),
        "kind": kind,
        **_code_columns(found, "referral_kind", kind),
    }
    return [("referrals", row)]


def _prom_row(resource: Json, instrument_id: str) -> dict[str, Any]:
    due = extension_value(resource, PROM_DUE_DATE, "valueDate")
    return {
        "person_id": _person(resource),
        "instrument": instrument_id,
        "timepoint": _choice(
            extension_value(resource, PROM_TIMEPOINT, "valueCode"),
            f"extension({PROM_TIMEPOINT})",
            tables.TIMEPOINTS,
        ),
        "due_on": optional_date(due, f"extension({PROM_DUE_DATE})"),
        "completed_on": None,
        "score": None,
    }


def _score(resource: Json) -> float | None:
    quantity = resource.get("valueQuantity")
    if quantity is None:
        return None
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError("valueQuantity.value", "a score must be a number")
    return float(value)


def observation(resource: Json) -> Rows:
    instrument_id = instrument_of(resource.get("code"))
    if instrument_id is None:
        raise FieldError("code", "not the score of an instrument of spinepath's registry")
    if resource.get("status") not in ("final", "amended", "corrected"):
        raise FieldError("status", f"{resource.get('status')!r}: only a final score is imported")
    row = _prom_row(resource, instrument_id)
    row["completed_on"] = read_date(resource.get("effectiveDateTime"), "effectiveDateTime")
    row["score"] = _score(resource)
    return [("proms", row)]


def _intake(resource: Json) -> Intake:
    return intake_from_items(resource)


def _first(problems: list[Problem]) -> FieldError:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0]
    return FieldError(first.link_id or "item", first.message + more)


def questionnaire_response(resource: Json) -> Rows:
    questionnaire = resource.get("questionnaire")
    if questionnaire in (CANONICAL, CANONICAL_URL):
        try:
            intake = _intake(resource)
        except ResponseError as exc:
            raise _first(exc.problems) from None
        encounter = resource.get("encounter")
        row = {
            "person_id": _person(resource),
            "assessment_id": checked_id(resource.get("id"), "id"),
            "encounter_id": None
            if encounter is None
            else referenced_id(encounter, "Encounter", "encounter"),
            "assessed_on": optional_date(resource.get("authored"), "authored"),
            "intake": intake_record(intake),
        }
        return [(STAGED_ASSESSMENTS, row)]
    instrument_id = instrument_of_questionnaire(questionnaire)
    if instrument_id is not None and resource.get("status") == "in-progress":
        return [("proms", _prom_row(resource, instrument_id))]
    raise FieldError(
        "questionnaire",
        f"{questionnaire!r}: neither the intake Questionnaire nor a PROM still to complete",
    )


READERS: dict[str, Callable[[Json], Rows]] = {
    "Patient": patient,
    "Organization": organization,
    "Condition": condition,
    "Encounter": encounter,
    "ImagingStudy": imaging_study,
    "MedicationRequest": medication_request,
    "Procedure": procedure,
    "ServiceRequest": service_request,
    "Observation": observation,
    "QuestionnaireResponse": questionnaire_response,
}
"""The resource types a data set is read from, each with its reader."""

SKIPPED = ("OperationOutcome",)
"""Resource types an export may hold that give no rows and are not errors (its own messages)."""
