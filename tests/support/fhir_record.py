"""Small builders of FHIR R4 resources (plain JSON dicts) for record and CDS tests.

Each builder writes only what the code under test reads, so a test shows its case at a glance.
"""

from __future__ import annotations

import itertools
from typing import Any

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def patient(birth_date: str | None = "1990-06-15", gender: str | None = "female") -> dict[str, Any]:
    found: dict[str, Any] = {"resourceType": "Patient", "id": "pat-1"}
    if birth_date is not None:
        found["birthDate"] = birth_date
    if gender is not None:
        found["gender"] = gender
    return found


def condition(
    code: str,
    system: str = ICD10,
    *,
    display: str | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    onset: str | None = None,
    recorded: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "Condition",
        "id": id or _id("cond-"),
        "subject": {"reference": "Patient/pat-1"},
        "code": concept(system, code, display),
    }
    if clinical is not None:
        found["clinicalStatus"] = concept(CLINICAL, clinical)
    if verification is not None:
        found["verificationStatus"] = concept(VERIFICATION, verification)
    if onset is not None:
        found["onsetDateTime"] = onset
    if recorded is not None:
        found["recordedDate"] = recorded
    return found


def medication(
    code: str,
    system: str = ATC,
    *,
    kind: str = "MedicationStatement",
    status: str = "active",
    display: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": id or _id("med-"),
        "status": status,
        **({"intent": "order"} if kind == "MedicationRequest" else {}),
        "subject": {"reference": "Patient/pat-1"},
        "medicationCodeableConcept": concept(system, code, display),
    }


def procedure(
    code: str, system: str = SNOMED, *, performed: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": _id("proc-"),
        "status": status,
        "subject": {"reference": "Patient/pat-1"},
        "code": concept(system, code),
    }
    if performed is not None:
        found["performedDateTime"] = performed
    return found


def service_request(
    code: str, system: str = SNOMED, *, status: str = "active", id: str | None = None
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": id or _id("sr-"),
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/pat-1"},
        "code": concept(system, code),
    }


def observation(code: str, value: dict[str, Any], *, status: str = "final") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _id("obs-"),
        "status": status,
        "subject": {"reference": "Patient/pat-1"},
        "code": concept(LOINC, code),
        "valueCodeableConcept": value,
    }


def report(
    code: str, *, effective: str | None = None, conclusion: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": _id("dr-"),
        "status": "final",
        "subject": {"reference": "Patient/pat-1"},
        "code": concept(LOINC, code),
    }
    if effective is not None:
        found["effectiveDateTime"] = effective
    if conclusion is not None:
        found["conclusionCode"] = [concept(ICD10, conclusion)]
    return found


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


RECORD_FOR_YES_NO = {
    "history.cancer": condition("C50.9", ICD10, id="c-cancer"),
    "history.osteoporosis": condition("M81.0", ICD10, id="c-osteo"),
    "health.diabetes": condition("E11.9", ICD10, id="c-dm"),
}
"""A record diagnosis for each of three yes/no intake questions, for pre-fill properties."""
