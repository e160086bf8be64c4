"""The launched patient's record as "From the record" rows: what ``interop.record`` reads from it,
in the clinician's words, each with the resource it came from; and a check that the spinepath
patient linked to the record looks like the same person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from spinepath.interop.record import (
    IMAGING_FIELD,
    RECORD_PREFIX,
    RecordFact,
    UnreadableRecordError,
    record_facts,
)
from spinepath.interop.record_prefill import RecordError, read_record
from spinepath.pathway.facts import field_description
from spinepath.pathway.intake import Intake
from spinepath.web.smart.client import LaunchError, Record

LABELS = {
    "age": "Age",
    "sex": "Sex",
    IMAGING_FIELD: "Spinal imaging",
    "health.smoking": "Smoking",
    "record.spinal_infection": "Spinal infection (in the record)",
    "record.drug_use_disorder": "Drug use disorder (in the record)",
    "record.cauda_equina": "Cauda equina syndrome (in the record)",
    "record.neurological_deficit": "Neurological deficit (in the record)",
    "record.spinal_fracture": "Spinal fracture (in the record)",
    "record.recent_trauma": "Recent injury (in the record)",
    "record.surgical_referral": "Open surgical referral",
    "record.low_back_pain_weeks": "Low back pain in the record",
}
"""Labels for the facts whose intake field has no short description of its own."""
MODALITIES = {"xray": "X-ray", "mri": "MRI", "ct": "CT"}
DESCRIPTION_MAX_CHARS = 70


@dataclass(frozen=True)
class FactRow:
    label: str
    value: str
    display: str
    """The record's wording of the coding that matched."""
    source: str
    """The resource, ``Condition/abc``."""
    in_questionnaire: bool
    """Whether the questionnaire asks it (the patient confirms it there)."""


def label(field: str) -> str:
    if field in LABELS:
        return LABELS[field]
    description = field_description(field)
    if description and len(description) <= DESCRIPTION_MAX_CHARS:
        return description.rstrip(".")
    return field.rpartition(".")[2].replace("_", " ").capitalize()


def words(field: str, value: object) -> str:
    if field == IMAGING_FIELD and isinstance(value, dict):
        parts = [MODALITIES.get(str(value.get("modality")), str(value.get("modality")))]
        if isinstance(value.get("weeks_ago"), int):
            parts.append(f"{value['weeks_ago']} weeks ago")
        if value.get("finding"):
            parts.append(str(value["finding"]).replace("_", " "))
        return ", ".join(parts)
    if field == "record.low_back_pain_weeks":
        return "onset not recorded" if value is None else f"for {value} weeks"
    if value is True:
        return "Yes"
    if value is None:
        return "not recorded"
    return str(value).replace("_", " ")


def facts_of(record: Record, base: str, today: dt.date) -> list[RecordFact]:
    """The record's facts; a :class:`LaunchError` when a resource cannot be read, since a page
    missing it could hide a red flag."""
    bundle = record.bundle(base)
    try:
        read_record(bundle)
        return record_facts(bundle, today)
    except RecordError as error:
        problems = "; ".join(str(p) for p in error.problems[:3])
        raise LaunchError(f"The EHR's record is not valid FHIR: {problems}", status=502) from error
    except UnreadableRecordError as error:
        raise LaunchError(f"The EHR's record could not be read: {error}", status=502) from error


def rows(facts: Sequence[RecordFact]) -> list[FactRow]:
    return [
        FactRow(
            label=label(fact.field),
            value=words(fact.field, fact.value),
            display=fact.display,
            source=fact.source,
            in_questionnaire=not fact.field.startswith(RECORD_PREFIX),
        )
        for fact in facts
    ]


def identity_mismatches(
    facts: Sequence[RecordFact], intake: Intake, answered: dt.date, today: dt.date
) -> list[str]:
    """Where the record and the linked patient's answers disagree about who the patient is.

    The link is by reference only, so a mistyped reference would show another person's answers:
    an age or sex that does not match says so on the page.
    """
    found: list[str] = []
    for fact in facts:
        if fact.field == "age" and isinstance(fact.value, int):
            # The answers' age was given on the day they were sent; the record's is today's.
            allowed = 1 + (today - answered).days // 365
            if abs(fact.value - intake.age) > allowed:
                found.append(
                    f"the record gives age {fact.value}, the answers {intake.age} "
                    f"(source {fact.source})"
                )
        if fact.field == "sex" and intake.sex is not None and fact.value != intake.sex:
            found.append(
                f"the record gives sex {fact.value}, the answers {intake.sex} "
                f"(source {fact.source})"
            )
    return found
