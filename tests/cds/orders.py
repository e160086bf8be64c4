"""Order-select and order-sign requests for the tests: a record, the draft orders, the prefetch."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from spinepath import clock
from support.fhir_record import (
    ATC,
    LOINC,
    bundle,
    condition,
    medication,
    patient,
    service_request,
)

ORDER_SELECT = "/cds-services/spinepath-order-select"
ORDER_SIGN = "/cds-services/spinepath-order-sign"
TODAY = clock.today()


def days_ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def born_aged(years: int) -> str:
    """A birth date making the patient ``years`` old today (birthday a month ago)."""
    month_ago = TODAY - dt.timedelta(days=31)
    return f"{month_ago.year - years:04d}-{month_ago.month:02d}-{min(month_ago.day, 28):02d}"


def low_back_pain(onset_days: int | None = 14, **kwargs: Any) -> dict[str, Any]:
    onset = days_ago(onset_days) if onset_days is not None else None
    return condition("M54.5", display="Low back pain", onset=onset, **kwargs)


def lumbar_mri(id: str = "img-1", code: str = "30679-5", **extra: Any) -> dict[str, Any]:
    return {**service_request(code, LOINC, status="draft", id=id), **extra}


def opioid(id: str = "rx-1", code: str = "N02AA05", system: str = ATC) -> dict[str, Any]:
    return medication(code, system, kind="MedicationRequest", status="draft", id=id)


def prefetch(record: list[dict[str, Any]], age: int = 35) -> dict[str, Any]:
    def of(*kinds: str) -> dict[str, Any] | None:
        found = [r for r in record if r["resourceType"] in kinds]
        return bundle(*found) if found else None

    patients = [r for r in record if r["resourceType"] == "Patient"]
    return {
        "patient": patients[0] if patients else patient(born_aged(age)),
        "conditions": of("Condition"),
        "medicationRequests": of("MedicationRequest"),
        "medicationStatements": of("MedicationStatement"),
        "procedures": of("Procedure"),
        "serviceRequests": of("ServiceRequest"),
    }


def order_request(
    record: list[dict[str, Any]],
    orders: list[dict[str, Any]] | None = None,
    *,
    hook: str = "order-select",
    age: int = 35,
    selections: list[str] | None = None,
    with_prefetch: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    drafts = orders if orders is not None else [lumbar_mri()]
    context: dict[str, Any] = {
        "userId": "Practitioner/dr-1",
        "patientId": "pat-1",
        "draftOrders": bundle(*drafts) | {"type": "collection"},
    }
    if hook == "order-select":
        context["selections"] = (
            selections
            if selections is not None
            else [f"{d['resourceType']}/{d['id']}" for d in drafts]
        )
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if with_prefetch:
        body["prefetch"] = prefetch(record, age)
    return body | extra
