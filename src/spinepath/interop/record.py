"""A patient's FHIR R4 record read into intake facts, to pre-fill the questionnaire.

The record is a Bundle (or a list of resources) of plain JSON dicts: Patient, Condition,
Observation, MedicationStatement, MedicationRequest, Procedure, DiagnosticReport, ImagingStudy
and ServiceRequest. Which codes mean what lives in ``value_sets/record.yaml`` and
``value_sets/spinal_imaging.yaml``, each code with its provenance; this module only applies them.

A record can say "yes" but never "no": a diagnosis missing from a record is not an absent disease,
so every fact but age, sex and smoking status is a yes, and an unanswered question stays
unanswered when the record is silent ("unknown is not No"). Every fact carries the resource it
came from and the coding that matched, so the questionnaire can show it as "from your record —
please confirm", and :func:`prefill` never overwrites what the patient said.

Facts whose ``field`` starts with ``record.`` have no intake question (a spinal infection, cauda
equina syndrome, a recent injury, an open surgical referral, how long ago low back pain began):
the CDS services read them; :func:`prefill` leaves them out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from spinepath.interop.codes import Matched, ValueSet, first_match, load

RECORD_PREFIX = "record."
IMAGING_FIELD = "imaging"

# Conditions a clinician has withdrawn are not facts about the patient.
_WITHDRAWN = frozenset({"entered-in-error", "refuted"})
_INACTIVE = frozenset({"inactive", "resolved"})
_MEDICATION_ACTIVE = frozenset({"active"})
_PROCEDURE_DONE = frozenset({"completed"})
_OBSERVATION_FINAL = frozenset({"final", "amended", "corrected"})
_REPORT_DONE = frozenset({"final", "amended", "corrected", "appended", "preliminary"})
_IMAGING_STUDY_DONE = frozenset({"available"})
# A referral still being acted on; a draft is not yet an order.
_SERVICE_REQUEST_OPEN = frozenset({"active", "on-hold"})
_SEXES = {"male": "male", "female": "female", "other": "other"}


@dataclass(frozen=True)
class RecordFact:
    """One intake answer the record supports, and where it came from."""

    field: str
    """The dotted intake path it answers (``history.cancer``), or ``record.<name>``."""
    value: object
    source: str
    """The resource it came from, ``Condition/abc``."""
    display: str
    """The record's text of the coding that matched, with system and code."""
    code: str
    """``system|code`` of that coding."""


def resources(bundle: Mapping[str, Any] | Sequence[Any]) -> list[Mapping[str, Any]]:
    """The resources of a Bundle (entries' ``resource``), of a list, or the one resource given."""
    if isinstance(bundle, Mapping):
        if bundle.get("resourceType") != "Bundle":
            return [bundle] if "resourceType" in bundle else []
        items: Sequence[Any] = [
            entry.get("resource")
            for entry in bundle.get("entry") or []
            if isinstance(entry, Mapping)
        ]
    else:
        items = bundle
    found: list[Mapping[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping) and item.get("resourceType") == "Bundle":
            found.extend(resources(item))
        elif isinstance(item, Mapping) and isinstance(item.get("resourceType"), str):
            found.append(item)
    return found


def reference(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '')}".rstrip("/")


def parse_date(value: object) -> date | None:
    """The day of a FHIR date or dateTime; None for a partial (year or month) or bad value."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _status(concept: object) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def condition_onset(resource: Mapping[str, Any]) -> date | None:
    """When a condition began, from onsetDateTime or onsetPeriod.start; None when not recorded.

    ``recordedDate`` is when it was written down, not when it began, so it is not used here.
    """
    onset = parse_date(resource.get("onsetDateTime"))
    if onset is None and isinstance(resource.get("onsetPeriod"), Mapping):
        onset = parse_date(resource["onsetPeriod"].get("start"))
    return onset


def _when(resource: Mapping[str, Any]) -> date | None:
    """The date a resource is about, for recency windows and for ordering facts newest first."""
    kind = resource.get("resourceType")
    if kind == "Condition":
        return condition_onset(resource) or parse_date(resource.get("recordedDate"))
    for name in ("performedDateTime", "effectiveDateTime", "issued", "started", "authoredOn"):
        found = parse_date(resource.get(name))
        if found is not None:
            return found
    for name in ("performedPeriod", "effectivePeriod"):
        period = resource.get(name)
        if isinstance(period, Mapping):
            found = parse_date(period.get("start"))
            if found is not None:
                return found
    return None


def _usable(resource: Mapping[str, Any], value_set: ValueSet) -> bool:
    kind = resource.get("resourceType")
    if kind == "Condition":
        if _status(resource.get("verificationStatus")) in _WITHDRAWN:
            return False
        clinical = _status(resource.get("clinicalStatus"))
        return not (value_set.statuses == "current" and clinical in _INACTIVE)
    status = resource.get("status")
    allowed = {
        "MedicationStatement": _MEDICATION_ACTIVE,
        "MedicationRequest": _MEDICATION_ACTIVE,
        "Procedure": _PROCEDURE_DONE,
        "Observation": _OBSERVATION_FINAL,
        "DiagnosticReport": _REPORT_DONE,
        "ImagingStudy": _IMAGING_STUDY_DONE,
        "ServiceRequest": _SERVICE_REQUEST_OPEN,
    }.get(str(kind))
    return allowed is not None and status in allowed


def _recent(resource: Mapping[str, Any], value_set: ValueSet, today: date) -> bool:
    if value_set.within_days is None:
        return True
    when = _when(resource)
    if when is None:
        # No date: count it while it is not over, so a missing date never hides an injury.
        return _status(resource.get("clinicalStatus")) not in _INACTIVE
    return 0 <= (today - when).days <= value_set.within_days


class ResourceIndex:
    """Resources by reference, to follow MedicationRequest.medicationReference."""

    def __init__(self, found: Sequence[Mapping[str, Any]]) -> None:
        self.by_reference: dict[str, Mapping[str, Any]] = {}
        for resource in found:
            self.by_reference[reference(resource)] = resource

    def medication_concepts(self, resource: Mapping[str, Any]) -> list[object]:
        """The medicine's codes: the concept, or the referenced (or contained) Medication's code
        and ingredients."""
        concepts: list[object] = [resource.get("medicationCodeableConcept")]
        target = resource.get("medicationReference")
        if isinstance(target, Mapping) and isinstance(target.get("reference"), str):
            ref = str(target["reference"])
            medication: Mapping[str, Any] | None = None
            if ref.startswith("#"):
                for contained in resource.get("contained") or []:
                    if isinstance(contained, Mapping) and contained.get("id") == ref[1:]:
                        medication = contained
            else:
                medication = self.by_reference.get(ref.split("/_history")[0])
            if medication is not None:
                concepts.append(medication.get("code"))
                for ingredient in medication.get("ingredient") or []:
                    if isinstance(ingredient, Mapping):
                        concepts.append(ingredient.get("itemCodeableConcept"))
        return concepts


def concepts_of(resource: Mapping[str, Any], index: ResourceIndex) -> list[object]:
    """The CodeableConcepts that say what a resource is."""
    kind = resource.get("resourceType")
    if kind in ("MedicationStatement", "MedicationRequest"):
        return index.medication_concepts(resource)
    if kind == "ImagingStudy":
        found: list[object] = list(resource.get("procedureCode") or [])
        return found
    return [resource.get("code")]


def _match_any(value_set: ValueSet, concepts: Sequence[object]) -> Matched | None:
    for concept in concepts:
        hit = first_match(value_set, concept)
        if hit is not None:
            return hit
    return None


def _fact(field: str, value: object, resource: Mapping[str, Any], hit: Matched) -> RecordFact:
    return RecordFact(field, value, reference(resource), hit.display, hit.code)


def _patient_facts(patient: Mapping[str, Any], today: date) -> Iterator[RecordFact]:
    source = reference(patient)
    born = parse_date(patient.get("birthDate"))
    if born is not None and born <= today:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        yield RecordFact(
            "age", age, source, f"Born {born.isoformat()}", f"birthDate|{born.isoformat()}"
        )
    sex = _SEXES.get(str(patient.get("gender")))
    if sex is not None:
        yield RecordFact("sex", sex, source, f"Administrative gender: {sex}", f"gender|{sex}")


def weeks_between(start: date, today: date) -> int:
    return max(0, (today - start).days // 7)


def _flag_facts(
    resource: Mapping[str, Any], concepts: Sequence[object], value_set: ValueSet, today: date
) -> Iterator[RecordFact]:
    hit = _match_any(value_set, concepts)
    if hit is None or value_set.fact is None:
        return
    if value_set.kind == "flag" and _recent(resource, value_set, today):
        yield _fact(value_set.fact, True, resource, hit)
    elif value_set.kind == "onset":
        onset = condition_onset(resource)
        # An onset after today is an error in the record, so the onset is not known.
        weeks = weeks_between(onset, today) if onset is not None and onset <= today else None
        yield _fact(value_set.fact, weeks, resource, hit)


def _smoking(resource: Mapping[str, Any], sets: Sequence[ValueSet]) -> RecordFact | None:
    status_codes = [v for v in sets if v.kind == "observation" and v.fact == "health.smoking"]
    if not any(first_match(v, resource.get("code")) for v in status_codes):
        return None
    for answers in (v for v in sets if v.kind == "answer" and v.fact == "health.smoking"):
        hit = first_match(answers, resource.get("valueCodeableConcept"))
        if hit is not None:
            return _fact("health.smoking", answers.value, resource, hit)
    return None


def _imaging(
    resource: Mapping[str, Any], concepts: Sequence[object], sets: Sequence[ValueSet], today: date
) -> RecordFact | None:
    for imaging in load("spinal_imaging").value_sets:
        if imaging.kind != "imaging":
            continue
        hit = _match_any(imaging, concepts)
        if hit is None or hit.entry.modality is None:
            continue
        value: dict[str, object] = {"modality": hit.entry.modality}
        when = _when(resource)
        if when is not None and when <= today:
            value["weeks_ago"] = weeks_between(when, today)
        for finding in (v for v in sets if v.kind == "finding"):
            if _match_any(finding, list(resource.get("conclusionCode") or [])) is not None:
                value["finding"] = finding.value
                break
        return _fact(IMAGING_FIELD, value, resource, hit)
    return None


class UnreadableRecordError(ValueError):
    """A resource in the record is not shaped as FHIR says (a list where a code belongs, say).

    Its facts cannot be read, and skipping it could hide a red flag, so callers must not go on
    as if the record were complete: the CDS services give no card, the SMART page says so."""


def record_facts(bundle: Mapping[str, Any], today: date) -> list[RecordFact]:
    """Every fact the record supports, grouped by field, newest resource first within a field.

    ``today`` fixes ages, recency windows and onset weeks, so the same record and day always give
    the same facts. Raises :class:`UnreadableRecordError` naming the resource that cannot be read.
    """
    try:
        found = resources(bundle)
        index = ResourceIndex(found)
    except (TypeError, AttributeError, KeyError, ValueError) as error:
        raise UnreadableRecordError(f"the Bundle cannot be read: {error}") from error
    sets = load("record").value_sets
    facts: list[tuple[RecordFact, date | None]] = []
    for resource in found:
        try:
            facts.extend(_resource_facts(resource, index, sets, today))
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            raise UnreadableRecordError(f"{reference(resource)} cannot be read: {error}") from error
    try:
        facts = _one_fact_per_scan(facts, found)
    except (TypeError, AttributeError) as error:
        raise UnreadableRecordError(
            f"a DiagnosticReport's imagingStudy cannot be read: {error}"
        ) from error
    order = {field: i for i, field in enumerate(dict.fromkeys(f.field for f, _ in facts))}
    facts.sort(key=lambda pair: (order[pair[0].field], -(pair[1] or date.min).toordinal()))
    return _unique(fact for fact, _ in facts)


def _resource_facts(
    resource: Mapping[str, Any], index: ResourceIndex, sets: Sequence[ValueSet], today: date
) -> list[tuple[RecordFact, date | None]]:
    kind = str(resource.get("resourceType"))
    if kind == "Patient":
        return [(fact, None) for fact in _patient_facts(resource, today)]
    facts: list[tuple[RecordFact, date | None]] = []
    concepts = concepts_of(resource, index)
    when = _when(resource)
    for value_set in sets:
        if kind in value_set.resources and _usable(resource, value_set):
            facts.extend((f, when) for f in _flag_facts(resource, concepts, value_set, today))
    if kind == "Observation" and resource.get("status") in _OBSERVATION_FINAL:
        smoking = _smoking(resource, sets)
        if smoking is not None:
            facts.append((smoking, when))
    if kind in ("DiagnosticReport", "ImagingStudy") and resource.get("status") in (
        _REPORT_DONE | _IMAGING_STUDY_DONE
    ):
        imaging = _imaging(resource, concepts, sets, today)
        if imaging is not None:
            facts.append((imaging, when))
    return facts


def _one_fact_per_scan(
    facts: list[tuple[RecordFact, date | None]], found: Sequence[Mapping[str, Any]]
) -> list[tuple[RecordFact, date | None]]:
    """A scan usually appears twice, as the ImagingStudy and as the report on it; the report
    carries the finding, so the study is dropped when a report names it, or when a report
    describes a scan of the same kind on the same day."""
    # A reference may be relative or absolute ("https://ehr/fhir/ImagingStudy/x"): type and id.
    reported = {
        "/".join(str(study.get("reference")).rstrip("/").split("/")[-2:])
        for resource in found
        if resource.get("resourceType") == "DiagnosticReport"
        for study in resource.get("imagingStudy") or []
        if isinstance(study, Mapping)
    }
    report_scans = {
        (_scan_kind(fact), when)
        for fact, when in facts
        if fact.field == IMAGING_FIELD and fact.source.startswith("DiagnosticReport/")
    }
    return [
        (fact, when)
        for fact, when in facts
        if not (
            fact.field == IMAGING_FIELD
            and fact.source.startswith("ImagingStudy/")
            and (fact.source in reported or (_scan_kind(fact), when) in report_scans)
        )
    ]


def _scan_kind(fact: RecordFact) -> object:
    return fact.value.get("modality") if isinstance(fact.value, Mapping) else None


def _unique(facts: Iterator[RecordFact]) -> list[RecordFact]:
    # One resource can match two value sets for the same field (HIV and a transplant both mean
    # immunosuppression); it is one piece of evidence.
    seen: set[tuple[str, str]] = set()
    kept: list[RecordFact] = []
    for fact in facts:
        if (fact.field, fact.source) not in seen:
            seen.add((fact.field, fact.source))
            kept.append(fact)
    return kept


def _is_flat(answers: Mapping[str, Any]) -> bool:
    return any("." in key for key in answers)


def _answered_nested(answers: Mapping[str, Any], path: Sequence[str]) -> bool | None:
    """Whether ``path`` holds an answer; None when it cannot be filled (a non-object on the way)."""
    node: object = answers
    for part in path[:-1]:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
        if node is None:
            return False
    if not isinstance(node, Mapping):
        return None
    return node.get(path[-1]) is not None


def _set_nested(answers: dict[str, Any], path: Sequence[str], value: object) -> None:
    node = answers
    for part in path[:-1]:
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def prefill(
    answers: Mapping[str, Any], facts: Sequence[RecordFact]
) -> tuple[dict[str, Any], list[RecordFact]]:
    """The answers with record facts filled in where the patient gave no answer, and those facts.

    An answer is absent when its key is missing or null (``null`` is "not answered"); any other
    value, ``false`` and ``[]`` included, is the patient's and is never changed. Answers may be
    nested like the intake (``{"history": {"cancer": true}}``) or keyed by dotted path
    (``{"history.cancer": true}``, the form's field names); the filled answers keep that shape.

    For a single-valued field the first fact (the newest) is used, and the facts returned are
    those that support the value used. Imaging is a list: every imaging fact is used; it has a
    finding only when the report's conclusion is coded, so the questionnaire asks the patient for
    the rest. Each fact returned is to be shown as "from your record — please confirm".
    """
    filled: dict[str, Any] = copy.deepcopy(dict(answers))
    flat = _is_flat(answers)
    applied: list[RecordFact] = []
    by_field: dict[str, list[RecordFact]] = {}
    for fact in facts:
        if not fact.field.startswith(RECORD_PREFIX):
            by_field.setdefault(fact.field, []).append(fact)
    for field, group in by_field.items():
        path = field.split(".")
        if flat:
            absent: bool | None = filled.get(field) is None
        else:
            answered = _answered_nested(filled, path)
            absent = None if answered is None else not answered
        if not absent:
            continue
        if field == IMAGING_FIELD:
            value: object = [copy.deepcopy(f.value) for f in group]
            used = group
        else:
            value = group[0].value
            used = [f for f in group if f.value == value]
        if flat:
            filled[field] = value
        else:
            _set_nested(filled, path, value)
        applied.extend(used)
    return filled, applied
