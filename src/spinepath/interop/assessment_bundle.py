"""An assessment as a FHIR R4 collection Bundle: what an EHR can file and act on.

One Bundle holds, each entry with a fresh UUID id and ``urn:uuid:<id>`` as its fullUrl:

* the **Patient**: an anonymous one (no identifier, name or birth date; spinepath does not know
  who the person is) that every resource's ``subject`` points at, unless the caller gives a
  reference to the record's Patient, which is then used instead and no Patient is added;
* the **QuestionnaireResponse**: the intake, as answers to the intake Questionnaire;
* **Observations**: the STarT Back score (as ``fhir.score_observation`` writes it, LOINC codes
  beside the local ones), any ODI, RMDQ or NDI score the intake reports, and the surgical
  candidacy with one component per criterion (met, not met, or a ``dataAbsentReason``);
* a **RiskAssessment**: the triage level as the first prediction's outcome, each concern as a
  further prediction (what the findings can point to, never a diagnosis), the instructions as
  ``mitigation``, and the reasons, the questions still to ask and the safety net as notes;
* **ServiceRequests** (intent ``proposal``): one per referral route the concerns and the surgical
  candidacy lead to, and one for imaging when the assessment indicates it;
* a **CarePlan** (intent ``proposal``): one activity per plan item (``doNotPerform`` for the
  care not recommended), the sources' URLs in ``instantiatesUri`` and their citations, with the
  section, in one note per activity;
* a **Provenance**: everything the engine derived (its targets) was authored by spinepath at the
  engine's version, from the response and from the knowledge base at its version;
* when answers were pre-filled from the patient's record (``record_prefill``): one entity more
  in that Provenance per record resource used, and one further **Provenance per record
  resource** whose target is the response, narrowed by HL7's ``targetElement`` extension to the
  items that resource filled (each such item carries an ``id`` for it); the RiskAssessment's
  notes list each answer from the record as "to confirm with the patient", each record fact
  that differs from the patient's answer ("record differs"; the answer is what was assessed),
  and each fact that could not be used.

A record resource is named by a logical identifier (``RECORD_RESOURCE_IDENTIFIER``, value
``Condition/abc``), its type and a display, not by a literal reference: it is in the EHR, not in
this Bundle.

spinepath is named, with both versions, where a resource has an author (the RiskAssessment's
``performer`` and ``method``, the CarePlan's ``author``, a request's ``requester``, the
Provenance's agent). It is named by a display and a logical identifier rather than a Device
resource: the Bundle carries what the assessment says, and nothing in it is a device to manage.

Every literal reference resolves inside the Bundle (bar a given subject), and every spinepath
code is a concept of a CodeSystem that ``terminology.code_systems()`` publishes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from spinepath import knowledge as kb
from spinepath.instruments import catalogue
from spinepath.instruments.scoring import score
from spinepath.interop import fhir, intake_response, terminology
from spinepath.interop.record import IMAGING_FIELD, RecordFact, record_facts
from spinepath.interop.record_prefill import TO_CONFIRM, Prefilled, intake_with_record
from spinepath.interop.terminology import (
    ASSESSMENT_CODES,
    ASSESSMENT_SYSTEM,
    BASE_URL,
    CANDIDACY_DISPLAY,
    CANDIDACY_SYSTEM,
    CONCERN_SYSTEM,
    CRITERION_SYSTEM,
    LEVEL_DISPLAY,
    PLAN_ITEM_SYSTEM,
    REFERRAL_SYSTEM,
    SCORE_LOINC,
    SCORE_SYSTEM,
    TRIAGE_LEVEL_SYSTEM,
    score_code,
)
from spinepath.pathway.assessment import (
    Assessment,
    CandidacyStatus,
    Explained,
    Level,
    PlanItem,
)
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake

IdFactory = Callable[[], uuid.UUID]
Json = dict[str, Any]

PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ENGINE_IDENTIFIER = f"{BASE_URL}/engine"
"""Identifies a release of the spinepath engine by its version."""
KNOWLEDGE_IDENTIFIER = f"{BASE_URL}/knowledge-base"
"""Identifies a release of spinepath's knowledge base by its version."""
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
RECORD_RESOURCE_IDENTIFIER = f"{BASE_URL}/record-resource"
"""Identifies a resource of the patient's record (``Condition/abc``) that answers came from."""
TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
"""HL7's extension on Provenance.target naming the element (by id) the provenance is about."""
RECORD_ITEM_ID = "from-record"
"""Prefix of the ``id`` of a response item whose answer was taken from the record."""
SURVEY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}

# How soon each referral or scan is wanted, as a request priority (routine < urgent < asap <
# stat): an emergency is now, urgent is the same day, soon is within days.
LEVEL_PRIORITY: dict[Level, str] = {
    Level.EMERGENCY: "stat",
    Level.URGENT: "asap",
    Level.SOON: "urgent",
    Level.ROUTINE: "routine",
    Level.SELF_CARE: "routine",
}
CANDIDACY_PRIORITY: dict[CandidacyStatus, str] = {
    CandidacyStatus.EMERGENCY_SURGICAL: "stat",
    CandidacyStatus.URGENT_SURGICAL: "asap",
    CandidacyStatus.REFER_SURGICAL_OPINION: "routine",
}
IMAGING_PRIORITY: dict[str, str] = {
    "immediate": "stat",
    "within_24_hours": "asap",
    "within_1_week": "urgent",
    "after_trial_of_care": "routine",
}
_PRIORITY_ORDER = ("routine", "urgent", "asap", "stat")

# Scores an intake may report (measured elsewhere): field, instrument, score name.
OUTCOME_SCORES: tuple[tuple[str, str, str], ...] = (
    ("odi_percent", "odi", "percent"),
    ("rmdq", "rmdq", "total"),
    ("ndi_percent", "ndi", "percent"),
)


def _coding(system: str, code: str, display: str | None = None) -> Json:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _assessment_concept(code: str) -> Json:
    return {"coding": [_coding(ASSESSMENT_SYSTEM, code, ASSESSMENT_CODES[code])]}


@cache
def _score_displays() -> dict[str, str]:
    system = terminology.score_code_system()
    return {str(c.code): str(c.display or c.code) for c in system.concept or []}


@cache
def _plan_item_codes() -> frozenset[str]:
    systems = terminology.assessment_code_systems()
    found = next(s for s in systems if s.url == PLAN_ITEM_SYSTEM)
    return frozenset(str(c.code) for c in found.concept or [])


def _citations(refs: Iterable[str], knowledge: kb.KnowledgeBase) -> str:
    """Each source as its citation, with the section or finding the reference points to."""
    cited = []
    for ref in refs:
        source_id, _, section = ref.partition(":")
        source = knowledge.sources.get(source_id)
        name = source.citation if source else source_id
        cited.append(f"{name} ({section})" if section else name)
    return "; ".join(cited)


def _urls(refs: Iterable[str], knowledge: kb.KnowledgeBase) -> list[str]:
    urls = (knowledge.sources.get(ref.partition(":")[0]) for ref in refs)
    return list(dict.fromkeys(source.url for source in urls if source is not None))


def _why(item: Explained, knowledge: kb.KnowledgeBase) -> str:
    """Where a statement comes from: its sources and the knowledge-base rules that made it."""
    parts = []
    if item.sources:
        parts.append(f"Sources: {_citations(item.sources, knowledge)}.")
    if item.rule_ids:
        parts.append(f"Rules: {', '.join(item.rule_ids)}.")
    return " ".join(parts)


@dataclass
class _Entries:
    new_id: IdFactory
    entries: list[Json] = field(default_factory=list)

    def add(self, resource: Json) -> str:
        """Adds the resource under a fresh id; its fullUrl, for references to it."""
        resource.setdefault("id", str(self.new_id()))
        url = f"urn:uuid:{resource['id']}"
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


@dataclass
class _Context:
    intake: Intake
    assessment: Assessment
    knowledge: kb.KnowledgeBase
    recorded: str
    subject: Json
    software: Json
    response: Json
    record: Prefilled | None = None


def _software(assessment: Assessment) -> Json:
    """spinepath at the engine's and knowledge base's versions, as the author of a resource."""
    return {
        "identifier": {"system": ENGINE_IDENTIFIER, "value": assessment.engine_version},
        "display": f"spinepath {assessment.engine_version}, knowledge base "
        f"{assessment.knowledge_version}",
    }


def _outcome_observations(ctx: _Context) -> Iterable[Json]:
    for name, instrument, score_name in OUTCOME_SCORES:
        value = getattr(ctx.intake.outcomes, name)
        if value is None:
            continue
        definition = catalogue.get(instrument)
        code = score_code(definition, score_name)
        codings = [_coding(SCORE_SYSTEM, code, _score_displays()[code])]
        if code in SCORE_LOINC:
            codings.append(SCORE_LOINC[code].coding())
        percent = score_name == "percent"
        scoring = definition.scoring
        yield {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY],
            "code": {"coding": codings, "text": f"{definition.name} ({definition.version}) score"},
            "subject": ctx.subject,
            # When it was measured is not asked, so there is no effective time: issued says
            # when spinepath was told.
            "issued": ctx.recorded,
            "valueQuantity": {
                "value": value,
                "unit": "%" if percent else scoring.unit,
                "system": fhir.UCUM,
                "code": "%" if percent else scoring.ucum,
            },
            "derivedFrom": [ctx.response],
            "note": [
                {"text": "Reported in the spinepath intake, measured elsewhere."},
                {"text": definition.licence.notice},
            ],
        }


def _candidacy_observation(ctx: _Context) -> Json:
    surgical = ctx.assessment.surgical
    components = []
    for criterion in surgical.criteria:
        component: Json = {
            "code": {
                "coding": [_coding(CRITERION_SYSTEM, criterion.code, criterion.label)],
                "text": criterion.detail,
            }
        }
        if criterion.met is None:
            component["dataAbsentReason"] = {
                "coding": [_coding(DATA_ABSENT, "unknown", "Unknown")],
                "text": "The answers do not tell.",
            }
        else:
            component["valueBoolean"] = criterion.met
        components.append(component)
    notes = [surgical.summary]
    if surgical.referral_route:
        notes.append(f"Referral: {surgical.referral_route}.")
    notes += [f"Still to ask: {q.question} ({q.consequences()})." for q in surgical.still_to_ask]
    why = _why(surgical, ctx.knowledge)
    if why:
        notes.append(why)
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": _assessment_concept("surgical-candidacy"),
        "subject": ctx.subject,
        "effectiveDateTime": ctx.recorded,
        "valueCodeableConcept": {
            "coding": [
                _coding(CANDIDACY_SYSTEM, surgical.status.value, CANDIDACY_DISPLAY[surgical.status])
            ],
            "text": CANDIDACY_DISPLAY[surgical.status],
        },
        "derivedFrom": [ctx.response],
        "component": components,
        "note": [{"text": text} for text in notes],
    }


def _risk_assessment(ctx: _Context, basis: list[Json]) -> Json:
    assessment = ctx.assessment
    triage = assessment.triage
    level: Json = {
        "outcome": {
            "coding": [
                _coding(TRIAGE_LEVEL_SYSTEM, triage.level.value, LEVEL_DISPLAY[triage.level])
            ],
            "text": triage.headline,
        }
    }
    if triage.reasons:
        level["rationale"] = "; ".join(reason.text for reason in triage.reasons)
    predictions = [level]
    for concern in assessment.concerns:
        findings = "; ".join(finding.text for finding in concern.findings)
        predictions.append(
            {
                "outcome": {
                    "coding": [_coding(CONCERN_SYSTEM, concern.code, concern.label)],
                    "text": concern.label,
                },
                "rationale": (
                    f"{concern.summary} Findings: {findings}. Urgency: "
                    f"{LEVEL_DISPLAY[concern.level].lower()}. Referral: {concern.referral_route}."
                    f" {_why(concern, ctx.knowledge)}"
                ).strip(),
            }
        )
    notes = [assessment.notice]
    notes += [f"{reason.text}. {_why(reason, ctx.knowledge)}".strip() for reason in triage.reasons]
    notes += [f"Still to ask: {q.question} ({q.consequences()})." for q in triage.still_to_ask]
    notes += [f"Safety net: {line}" for line in triage.safety_net]
    notes += _record_notes(ctx.record)
    return {
        "resourceType": "RiskAssessment",
        "status": "final",
        "code": {**_assessment_concept("triage"), "text": "spinepath triage"},
        "subject": ctx.subject,
        "occurrenceDateTime": ctx.recorded,
        "method": {"text": ctx.software["display"]},
        "performer": ctx.software,
        "basis": basis,
        "prediction": predictions,
        "mitigation": " ".join(triage.instructions),
        "note": [{"text": text} for text in notes],
    }


@dataclass
class _Referral:
    route: str
    priority: str
    reasons: list[Json] = field(default_factory=list)
    reason_references: list[Json] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def raise_to(self, priority: str) -> None:
        if _PRIORITY_ORDER.index(priority) > _PRIORITY_ORDER.index(self.priority):
            self.priority = priority


def _referrals(ctx: _Context, candidacy: Json) -> list[_Referral]:
    """One referral per route: concerns and the surgical status that share one are merged."""
    found: dict[str, _Referral] = {}

    def referral(route: str, priority: str) -> _Referral:
        entry = found.setdefault(route, _Referral(route, priority))
        entry.raise_to(priority)
        return entry

    for concern in ctx.assessment.concerns:
        entry = referral(concern.referral_route, LEVEL_PRIORITY[concern.level])
        entry.reasons.append(
            {
                "coding": [_coding(CONCERN_SYSTEM, concern.code, concern.label)],
                "text": concern.label,
            }
        )
        entry.notes.append(f"{concern.label}: {_why(concern, ctx.knowledge)}")
    surgical = ctx.assessment.surgical
    priority = CANDIDACY_PRIORITY.get(surgical.status)
    if priority is not None and surgical.referral_route:
        entry = referral(surgical.referral_route, priority)
        display = CANDIDACY_DISPLAY[surgical.status]
        entry.reasons.append(
            {"coding": [_coding(CANDIDACY_SYSTEM, surgical.status.value, display)], "text": display}
        )
        entry.reason_references.append(candidacy)
        entry.notes.append(f"{display}: {surgical.summary} {_why(surgical, ctx.knowledge)}")
    return list(found.values())


def _referral_request(ctx: _Context, referral: _Referral, risk: Json) -> Json:
    by_label = {r.label: r.id for r in ctx.knowledge.referrals.values()}
    code: Json = {"text": referral.route}
    if referral.route in by_label:
        code["coding"] = [_coding(REFERRAL_SYSTEM, by_label[referral.route], referral.route)]
    request: Json = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "proposal",
        "category": [_assessment_concept("referral")],
        "priority": referral.priority,
        "code": code,
        "subject": ctx.subject,
        "authoredOn": ctx.recorded,
        "requester": ctx.software,
        "reasonCode": referral.reasons,
        "supportingInfo": [risk],
        "note": [{"text": text.strip()} for text in referral.notes],
    }
    if referral.reason_references:
        request["reasonReference"] = referral.reason_references
    return request


def _imaging_request(ctx: _Context, risk: Json) -> Json:
    imaging = ctx.assessment.imaging
    text = imaging.modality or ASSESSMENT_CODES["imaging"]
    notes = [f"When: {imaging.timing.replace('_', ' ')}."]
    why = _why(imaging, ctx.knowledge)
    if why:
        notes.append(why)
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "proposal",
        "category": [_assessment_concept("imaging")],
        "priority": IMAGING_PRIORITY.get(imaging.timing, "routine"),
        "code": {**_assessment_concept("imaging"), "text": text},
        "subject": ctx.subject,
        "authoredOn": ctx.recorded,
        "requester": ctx.software,
        "reasonCode": [{"text": imaging.reason}],
        "supportingInfo": [risk],
        "note": [{"text": note} for note in notes],
    }


def _activity_code(code: str, text: str) -> Json:
    out: Json = {"text": text}
    if code in _plan_item_codes():
        out["coding"] = [_coding(PLAN_ITEM_SYSTEM, code)]
    return out


def _activity(
    ctx: _Context, code: str, item: Explained, description: str, section: str, notes: list[Json]
) -> Json:
    detail: Json = {
        "code": _activity_code(code, description),
        "status": "not-started",
        "description": description,
    }
    urls = _urls(item.sources, ctx.knowledge)
    if urls:
        detail["instantiatesUri"] = urls
    why = _why(item, ctx.knowledge)
    if why:
        notes.append({"text": f"{code} ({section}): {why}"})
    return {"detail": detail}


def _care_plan(ctx: _Context, risk: Json) -> Json:
    plan = ctx.assessment.care_plan
    notes: list[Json] = []
    activities = []
    sections: tuple[tuple[str, list[PlanItem]], ...] = (
        ("now", plan.now),
        ("self-management", plan.self_management),
        ("prevention", plan.prevention),
    )
    for section, planned in sections:
        activities += [_activity(ctx, i.id, i, i.text, section, notes) for i in planned]
    step = plan.next_step
    next_code = step.rule_ids[0] if step.rule_ids else "next-step"
    next_activity = _activity(ctx, next_code, step, step.text, "next step", notes)
    next_activity["detail"]["scheduledString"] = f"Review after {step.review_after_weeks} weeks"
    activities.append(next_activity)
    for item in plan.not_recommended:
        activity = _activity(ctx, item.id, item, item.item, "not recommended", notes)
        activity["detail"]["doNotPerform"] = True
        activity["detail"]["reasonCode"] = [{"text": item.reason}]
        activities.append(activity)
    return {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "proposal",
        "category": [_assessment_concept("care-plan")],
        "title": ASSESSMENT_CODES["care-plan"],
        "description": ctx.assessment.startback.matched_care,
        "subject": ctx.subject,
        "created": ctx.recorded,
        "author": ctx.software,
        "supportingInfo": [risk],
        "activity": activities,
        "note": notes,
    }


def _record_notes(record: Prefilled | None) -> list[str]:
    if record is None:
        return []
    notes = [f"From the patient's record: {line}." for line in record.applied_lines()]
    notes += [
        f"Record differs: {d.detail()}. The patient's answer was assessed." for d in record.differs
    ]
    notes += [f"In the patient's record, not used: {n}." for n in record.not_applied]
    return notes


def _record_entity(source: str, facts: list[RecordFact]) -> Json:
    kind, _, _ = source.partition("/")
    displays = "; ".join(dict.fromkeys(f.display for f in facts))
    return {
        "role": "source",
        "what": {
            "type": kind,
            "identifier": {"system": RECORD_RESOURCE_IDENTIFIER, "value": source},
            "display": f"{source} in the patient's record: {displays}",
        },
    }


def _items(items: list[Json]) -> Iterable[Json]:
    for item in items:
        yield item
        yield from _items(item.get("item", []))


def _mark_record_items(response: Json, record: Prefilled) -> dict[str, list[str]]:
    """Gives an ``id`` to each response item answered from the record; the ids by source."""
    items = list(_items(response.get("item", [])))
    scans = [item for item in items if item["linkId"] == IMAGING_FIELD]
    by_link_id = {item["linkId"]: item for item in items if "answer" in item}
    marked: dict[str, list[str]] = {}
    scan_number = 0
    for fact in record.applied:
        if fact.field == IMAGING_FIELD:
            # The scans from the record are the intake's imaging, in the order of the facts.
            item = scans[scan_number] if scan_number < len(scans) else None
            scan_number += 1
            element = f"{RECORD_ITEM_ID}.{IMAGING_FIELD}.{scan_number}"
        else:
            item = by_link_id.get(fact.field)
            element = f"{RECORD_ITEM_ID}.{fact.field}"
        if item is None:
            continue
        item["id"] = element
        marked.setdefault(fact.source, [])
        if element not in marked[fact.source]:
            marked[fact.source].append(element)
    return marked


def _record_provenances(ctx: _Context, marked: dict[str, list[str]]) -> list[Json]:
    """One Provenance per record resource: the response items it filled came from it."""
    if ctx.record is None:
        return []
    found = []
    for source, facts in ctx.record.sources().items():
        elements = marked.get(source, [])
        targets = [
            {**ctx.response, "extension": [{"url": TARGET_ELEMENT, "valueUri": element}]}
            for element in elements
        ] or [ctx.response]
        found.append(
            {
                "resourceType": "Provenance",
                "target": targets,
                "recorded": ctx.recorded,
                "activity": {"text": f"Answer pre-filled from the patient's record, {TO_CONFIRM}"},
                "agent": [
                    {
                        "type": {"coding": [_coding(PARTICIPANT_TYPE, "assembler", "Assembler")]},
                        "who": ctx.software,
                    }
                ],
                "entity": [_record_entity(source, facts)],
            }
        )
    return found


def _provenance(ctx: _Context, targets: list[str]) -> Json:
    version = ctx.assessment.knowledge_version
    record = ctx.record.sources() if ctx.record is not None else {}
    return {
        "resourceType": "Provenance",
        "target": [{"reference": url} for url in targets],
        "recorded": ctx.recorded,
        "agent": [
            {
                "type": {"coding": [_coding(PARTICIPANT_TYPE, "author", "Author")]},
                "who": ctx.software,
            }
        ],
        "entity": [
            {"role": "source", "what": ctx.response},
            {
                "role": "derivation",
                "what": {
                    "identifier": {"system": KNOWLEDGE_IDENTIFIER, "value": version},
                    "display": f"spinepath knowledge base {version}",
                },
            },
            *(_record_entity(source, facts) for source, facts in record.items()),
        ],
    }


def assessment_bundle(
    intake: Intake,
    assessment: Assessment,
    *,
    recorded: datetime,
    subject: str | None = None,
    knowledge: kb.KnowledgeBase | None = None,
    new_id: IdFactory = uuid.uuid4,
    record: Prefilled | None = None,
) -> Bundle:
    """The intake and its assessment as a collection Bundle (see the module docstring).

    ``recorded`` is when the assessment was made (timezone-aware: FHIR instants carry one);
    ``subject`` a reference to the record's Patient; ``knowledge`` the knowledge base whose
    sources the assessment cites (the packaged one by default); ``new_id`` the UUID factory;
    ``record`` what ``record_prefill`` took from the patient's record into ``intake``, if any.
    """
    if recorded.tzinfo is None:
        raise ValueError("recorded must be timezone-aware")
    knowledge = knowledge or kb.default()
    entries = _Entries(new_id)
    if subject is None:
        # No identifier, name or birth date: spinepath does not know who the person is.
        subject = entries.add({"resourceType": "Patient"})
    response = intake_response.questionnaire_response(
        intake, authored=recorded, subject=subject, new_id=new_id
    )
    response_json = response.model_dump(mode="json", exclude_none=True)
    marked = _mark_record_items(response_json, record) if record is not None else {}
    response_url = entries.add(response_json)
    ctx = _Context(
        intake,
        assessment,
        knowledge,
        recorded.isoformat(),
        {"reference": subject},
        _software(assessment),
        {"reference": response_url},
        record,
    )
    derived: list[str] = []
    if intake.startback is not None:
        observation = fhir.score_observation(
            score("startback", intake.startback.model_dump()),
            effective=recorded.date(),
            subject=subject,
            derived_from=response_url,
            new_id=new_id,
        )
        derived.append(entries.add(observation.model_dump(mode="json", exclude_none=True)))
    derived += [entries.add(o) for o in _outcome_observations(ctx)]
    basis = [{"reference": url} for url in [response_url, *derived]]
    candidacy_url = entries.add(_candidacy_observation(ctx))
    derived.append(candidacy_url)
    risk_url = entries.add(_risk_assessment(ctx, basis))
    derived.append(risk_url)
    risk = {"reference": risk_url}
    for referral in _referrals(ctx, {"reference": candidacy_url}):
        derived.append(entries.add(_referral_request(ctx, referral, risk)))
    if assessment.imaging.indicated:
        derived.append(entries.add(_imaging_request(ctx, risk)))
    derived.append(entries.add(_care_plan(ctx, risk)))
    entries.add(_provenance(ctx, derived))
    for provenance in _record_provenances(ctx, marked):
        entries.add(provenance)
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(new_id()),
            "type": "collection",
            "timestamp": ctx.recorded,
            "entry": entries.entries,
        }
    )


def fhir_examples() -> list[Bundle]:
    """Representative Bundles, for the checks that walk every exporter's output (tests/interop):
    the smallest intake, one that reaches every kind of resource, for a record's Patient, and
    the smallest pre-filled from a record."""
    recorded = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    smallest = Intake.model_validate(
        {"age": 40, "regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 5}]}
    )
    everything = Intake.model_validate(
        {
            "age": 52,
            "regions": [{"region": "low_back", "duration_weeks": 14, "intensity": 7}],
            "radiation": {"leg": "left", "leg_below_knee": True},
            "neurology": {"leg_numbness_or_tingling": "left"},
            "cauda_equina": {"saddle_numbness": True, "urinary_difficulty": True, "onset_days": 2},
            "startback": {
                **{f"q{n}": n % 2 == 1 for n in range(1, 9)},
                "q9": "very_much",
            },
            "outcomes": {"odi_percent": 48, "rmdq": 14, "ndi_percent": 30},
            "treatments_tried": [{"type": "physiotherapy", "weeks": 8, "response": "none"}],
            "imaging": [
                {"modality": "mri", "finding": "disc_herniation", "matches_symptoms": True}
            ],
        }
    )
    prefilled, record = intake_with_record(smallest, record_facts(_EXAMPLE_RECORD, recorded.date()))
    return [
        assessment_bundle(smallest, assess(smallest), recorded=recorded),
        assessment_bundle(
            everything,
            assess(everything),
            recorded=recorded,
            subject="https://ehr.example/fhir/Patient/123",
        ),
        assessment_bundle(prefilled, assess(prefilled), recorded=recorded, record=record),
    ]


def _concept(system: str, code: str, display: str) -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


_CONFIRMED = {
    "clinicalStatus": _concept(
        "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
    ),
    "verificationStatus": _concept(
        "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
    ),
}
# A synthetic record for the pre-filled example: answers from the Patient, a diagnosis and a
# reported scan with a coded conclusion.
_EXAMPLE_RECORD: Json = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "ex-1", "gender": "female"}},
        {
            "resource": {
                "resourceType": "Condition",
                "id": "ex-dm",
                **_CONFIRMED,
                "code": _concept("http://hl7.org/fhir/sid/icd-10", "E11.9", "Type 2 diabetes"),
            }
        },
        {
            "resource": {
                "resourceType": "DiagnosticReport",
                "id": "ex-mri",
                "status": "final",
                "code": _concept("http://loinc.org", "24968-0", "MR Lumbar spine"),
                "effectiveDateTime": "2025-12-01",
                "conclusionCode": [
                    _concept("http://hl7.org/fhir/sid/icd-10", "M51.1", "Disc disorder")
                ],
            }
        },
    ],
}
