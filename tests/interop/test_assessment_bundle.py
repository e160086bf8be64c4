"""An assessment as a FHIR R4 Bundle: valid against HL7's official R4 JSON schema, parsed by
fhir.resources, every reference resolved inside it, every spinepath code published, and saying
what the assessment says."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given, settings

from engine.strategies import intake_data
from spinepath.interop import assessment_bundle, fhir, terminology
from spinepath.interop.assessment_bundle import fhir_examples
from spinepath.interop.intake_response import intake_from_response, parse
from spinepath.pathway.assessment import Assessment, CandidacyStatus
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.fhir_checks import (
    codings,
    is_uuid,
    published,
    resources_in,
    undefined_local_codes,
    unresolved_references,
    walk,
)
from support.fhir_schema import schema_errors
from support.files import EXAMPLES_DIR, example_paths

Json = dict[str, Any]
RECORDED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
RECORDED_INSTANT = "2026-01-05T09:30:00Z"
EXAMPLES = example_paths()
LOINC = "http://loinc.org"


def _json(resource: Any) -> Json:
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


@cache
def _example(name: str) -> tuple[Intake, Assessment]:
    intake = Intake.model_validate_json((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return intake, assess(intake)


@cache
def _bundle(name: str) -> Json:
    """Built once per example: read, never changed, by the tests below."""
    intake, assessment = _example(name)
    return _json(assessment_bundle.assessment_bundle(intake, assessment, recorded=RECORDED))


def bundle(name: str) -> Json:
    """A copy, for a test to change."""
    copied: Json = json.loads(json.dumps(_bundle(name)))
    return copied


def of_type(found: Json, resource_type: str) -> list[Json]:
    return [r for r in resources_in(found) if r["resourceType"] == resource_type]


def one(found: Json, resource_type: str) -> Json:
    [resource] = of_type(found, resource_type)
    return resource


def _codes(codeable: Json) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in codeable.get("coding", [])}


NAMES = [p.name for p in EXAMPLES]


# --- valid, parsed, resolved ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_example_bundle_validates_against_the_r4_schema(name: str) -> None:
    found = bundle(name)
    assert schema_errors(found) == []
    for resource in resources_in(found):
        assert schema_errors(resource) == [], resource["resourceType"]


@pytest.mark.parametrize("name", NAMES)
def test_every_example_bundle_parses_with_fhir_resources(name: str) -> None:
    parsed = Bundle.model_validate(bundle(name))
    assert parsed.type == "collection"
    assert len(parsed.entry or []) == len(bundle(name)["entry"])


@pytest.mark.parametrize("name", NAMES)
def test_every_reference_resolves_and_every_id_is_a_fresh_uuid(name: str) -> None:
    found = bundle(name)
    assert unresolved_references(found) == []
    assert is_uuid(found["id"])
    for entry in found["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        assert is_uuid(entry["resource"]["id"])
    full_urls = [entry["fullUrl"] for entry in found["entry"]]
    assert len(full_urls) == len(set(full_urls))


@pytest.mark.parametrize("name", NAMES)
def test_every_spinepath_code_is_a_concept_of_a_published_code_system(name: str) -> None:
    found = bundle(name)
    assert undefined_local_codes(found) == []
    used = {c["system"] for c in codings(found)}
    assert {s for s in used if s.startswith(terminology.BASE_URL)} <= set(published())


def test_the_check_for_undefined_codes_notices_one() -> None:
    found = bundle("cauda-equina-emergency.json")
    risk = one(found, "RiskAssessment")
    risk["prediction"][0]["outcome"]["coding"][0]["code"] = "very_urgent"
    assert [c["code"] for c in undefined_local_codes(found)] == ["very_urgent"]


def test_every_local_code_system_is_published_by_the_instrument_export() -> None:
    exported = _json(fhir.questionnaire_bundle())
    urls = {r["url"] for r in resources_in(exported) if r["resourceType"] == "CodeSystem"}
    for url in (
        terminology.TRIAGE_LEVEL_SYSTEM,
        terminology.CONCERN_SYSTEM,
        terminology.CANDIDACY_SYSTEM,
        terminology.CRITERION_SYSTEM,
        terminology.REFERRAL_SYSTEM,
        terminology.PLAN_ITEM_SYSTEM,
        terminology.ASSESSMENT_SYSTEM,
        "https://spinepath.org/fhir/CodeSystem/intake-side",
    ):
        assert url in urls
    for system in terminology.assessment_code_systems() + terminology.intake_answer_code_systems():
        assert schema_errors(_json(system)) == [], system.url


def test_the_code_systems_are_derived_from_the_output_model_and_the_knowledge_base() -> None:
    systems = published()
    levels = systems[terminology.TRIAGE_LEVEL_SYSTEM]
    assert levels == {"self_care", "routine", "soon", "urgent", "emergency"}
    assert systems[terminology.CANDIDACY_SYSTEM] == {s.value for s in CandidacyStatus}
    assert "cauda_equina" in systems[terminology.CONCERN_SYSTEM]
    assert {"CP-KEEP-ACTIVE", "NS-NERVE-PAIN", "NR-BED-REST"} <= systems[
        terminology.PLAN_ITEM_SYSTEM
    ]


# --- what it says ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_risk_assessment_carries_the_triage_level_and_every_concern(name: str) -> None:
    _, assessment = _example(name)
    risk = one(bundle(name), "RiskAssessment")
    first, *concerns = risk["prediction"]
    assert _codes(first["outcome"]) == {
        (terminology.TRIAGE_LEVEL_SYSTEM, assessment.triage.level.value)
    }
    assert first["outcome"]["text"] == assessment.triage.headline
    assert [_codes(c["outcome"]) for c in concerns] == [
        {(terminology.CONCERN_SYSTEM, c.code)} for c in assessment.concerns
    ]
    assert risk["mitigation"] == " ".join(assessment.triage.instructions)
    notes = [n["text"] for n in risk["note"]]
    assert notes[0] == assessment.notice
    for question in assessment.triage.still_to_ask:
        assert any(question.question in note for note in notes)


def test_unanswered_red_flags_are_listed_as_still_to_ask() -> None:
    risk = one(bundle("unanswered-red-flags-soon.json"), "RiskAssessment")
    still = [n["text"] for n in risk["note"] if n["text"].startswith("Still to ask:")]
    assert still
    assert any("pee" in text or "bladder" in text for text in still)


def test_startback_is_an_observation_with_its_verified_loinc_codes() -> None:
    found = bundle("sciatica-refer-surgical-opinion.json")
    [startback] = [
        o for o in of_type(found, "Observation") if (LOINC, "91351-7") in _codes(o["code"])
    ]
    _, assessment = _example("sciatica-refer-surgical-opinion.json")
    assert startback["valueQuantity"]["value"] == assessment.startback.total
    risk_level = next(c for c in startback["component"] if (LOINC, "91352-5") in _codes(c["code"]))
    assert (LOINC, "LA8982-6") in _codes(risk_level["valueCodeableConcept"])  # medium
    response_url = next(
        e["fullUrl"]
        for e in found["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert startback["derivedFrom"] == [{"reference": response_url}]


def test_without_startback_there_is_no_startback_observation() -> None:
    intake, _ = _example("neck-strain-self-care.json")
    found = bundle("neck-strain-self-care.json")
    assert intake.startback is None
    assert not [o for o in of_type(found, "Observation") if (LOINC, "91351-7") in _codes(o["code"])]


def test_outcome_scores_in_the_intake_are_observations() -> None:
    found = bundle("sciatica-refer-surgical-opinion.json")
    scores = {
        code: o
        for o in of_type(found, "Observation")
        for system, code in _codes(o["code"])
        if system == terminology.SCORE_SYSTEM and code in ("odi-percent", "rmdq-total")
    }
    assert scores["odi-percent"]["valueQuantity"] == {
        "value": 48,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert (LOINC, "97909-6") in _codes(scores["odi-percent"]["code"])
    assert scores["rmdq-total"]["valueQuantity"]["value"] == 14
    assert scores["rmdq-total"]["valueQuantity"]["code"] == "{score}"
    for observation in scores.values():
        assert "effectiveDateTime" not in observation  # when it was measured was not asked
        assert observation["issued"] == RECORDED_INSTANT


def test_surgical_candidacy_is_an_observation_with_one_component_per_criterion() -> None:
    _, assessment = _example("foot-drop-urgent.json")
    found = bundle("foot-drop-urgent.json")
    [candidacy] = [
        o
        for o in of_type(found, "Observation")
        if (terminology.ASSESSMENT_SYSTEM, "surgical-candidacy") in _codes(o["code"])
    ]
    assert _codes(candidacy["valueCodeableConcept"]) == {
        (terminology.CANDIDACY_SYSTEM, assessment.surgical.status.value)
    }
    assert len(candidacy["component"]) == len(assessment.surgical.criteria)
    for component, criterion in zip(
        candidacy["component"], assessment.surgical.criteria, strict=True
    ):
        assert _codes(component["code"]) == {(terminology.CRITERION_SYSTEM, criterion.code)}
        if criterion.met is None:
            assert component["dataAbsentReason"]["coding"][0]["code"] == "unknown"
        else:
            assert component["valueBoolean"] is criterion.met
    assert any(c.met is None for c in assessment.surgical.criteria)


@pytest.mark.parametrize("name", NAMES)
def test_the_care_plan_has_one_activity_per_plan_item_each_with_its_sources(name: str) -> None:
    _, assessment = _example(name)
    plan = assessment.care_plan
    care_plan = one(bundle(name), "CarePlan")
    assert care_plan["intent"] == "proposal"
    details = [activity["detail"] for activity in care_plan["activity"]]
    planned = [*plan.now, *plan.self_management, *plan.prevention]
    expected = (
        [i.text for i in planned] + [plan.next_step.text] + [i.item for i in plan.not_recommended]
    )
    assert [d["description"] for d in details] == expected
    refused = [d for d in details if d.get("doNotPerform")]
    assert [d["reasonCode"][0]["text"] for d in refused] == [i.reason for i in plan.not_recommended]
    notes = [note["text"] for note in care_plan["note"]]
    coded = {c for d in details for c in _codes(d["code"])}
    for code in [i.id for i in planned] + [i.id for i in plan.not_recommended]:
        assert any(note.startswith(f"{code} (") and "Sources: " in note for note in notes)
        assert (terminology.PLAN_ITEM_SYSTEM, code) in coded
    assert details[len(planned)]["scheduledString"] == (
        f"Review after {plan.next_step.review_after_weeks} weeks"
    )
    assert all(url.startswith("https://") for d in details for url in d.get("instantiatesUri", []))


def _requests(found: Json, category: str) -> list[Json]:
    return [
        r
        for r in of_type(found, "ServiceRequest")
        if (terminology.ASSESSMENT_SYSTEM, category) in _codes(r["category"][0])
    ]


@pytest.mark.parametrize("name", NAMES)
def test_referrals_and_imaging_are_proposed_when_the_assessment_says_so(name: str) -> None:
    _, assessment = _example(name)
    found = bundle(name)
    for request in of_type(found, "ServiceRequest"):
        assert request["intent"] == "proposal"
    referrals = _requests(found, "referral")
    routes = {c.referral_route for c in assessment.concerns}
    surgical = assessment.surgical
    if surgical.status in assessment_bundle.CANDIDACY_PRIORITY and surgical.referral_route:
        routes.add(surgical.referral_route)
    assert {r["code"]["text"] for r in referrals} == routes
    assert len(referrals) == len(routes)
    imaging = _requests(found, "imaging")
    assert len(imaging) == (1 if assessment.imaging.indicated else 0)


def test_a_surgical_opinion_is_a_routine_proposal_citing_the_candidacy() -> None:
    found = bundle("sciatica-refer-surgical-opinion.json")
    [referral] = _requests(found, "referral")
    assert referral["priority"] == "routine"
    assert (terminology.REFERRAL_SYSTEM, "spinal_surgeon") in _codes(referral["code"])
    assert (terminology.CANDIDACY_SYSTEM, "refer_surgical_opinion") in {
        c for reason in referral["reasonCode"] for c in _codes(reason)
    }
    candidacy_url = next(
        e["fullUrl"]
        for e in found["entry"]
        if (terminology.ASSESSMENT_SYSTEM, "surgical-candidacy")
        in _codes(e["resource"].get("code", {}))
    )
    assert referral["reasonReference"] == [{"reference": candidacy_url}]


def test_an_emergency_refers_now_and_merges_the_concern_with_the_surgical_status() -> None:
    found = bundle("cauda-equina-emergency.json")
    [referral] = _requests(found, "referral")
    assert referral["priority"] == "stat"
    reasons = {c for reason in referral["reasonCode"] for c in _codes(reason)}
    assert (terminology.CONCERN_SYSTEM, "cauda_equina") in reasons
    assert (terminology.CANDIDACY_SYSTEM, "emergency_surgical") in reasons
    [scan] = _requests(found, "imaging")
    assert scan["priority"] == "stat"


def test_the_provenance_names_the_engine_and_knowledge_base_versions() -> None:
    _, assessment = _example("foot-drop-urgent.json")
    found = bundle("foot-drop-urgent.json")
    provenance = one(found, "Provenance")
    [agent] = provenance["agent"]
    assert agent["who"]["identifier"] == {
        "system": assessment_bundle.ENGINE_IDENTIFIER,
        "value": assessment.engine_version,
    }
    knowledge = next(e for e in provenance["entity"] if e["role"] == "derivation")
    assert knowledge["what"]["identifier"] == {
        "system": assessment_bundle.KNOWLEDGE_IDENTIFIER,
        "value": assessment.knowledge_version,
    }
    assert provenance["recorded"] == RECORDED_INSTANT
    derived = {
        e["fullUrl"]
        for e in found["entry"]
        if e["resource"]["resourceType"] not in ("Patient", "QuestionnaireResponse", "Provenance")
    }
    assert {t["reference"] for t in provenance["target"]} == derived
    assert one(found, "RiskAssessment")["method"]["text"] == agent["who"]["display"]


# --- subject, ids, input --------------------------------------------------------------------------


def test_the_subject_is_an_anonymous_patient_in_the_bundle() -> None:
    found = bundle("neck-strain-self-care.json")
    patient = one(found, "Patient")
    assert set(patient) == {"resourceType", "id"}
    patient_url = f"urn:uuid:{patient['id']}"
    subjects = [r["subject"] for r in resources_in(found) if "subject" in r]
    assert len(subjects) == len(found["entry"]) - 2  # all but the Patient and the Provenance
    assert all(s == {"reference": patient_url} for s in subjects)


def test_a_given_subject_is_referred_to_instead() -> None:
    intake, assessment = _example("foot-drop-urgent.json")
    subject = "https://ehr.example/fhir/Patient/123"
    found = _json(
        assessment_bundle.assessment_bundle(intake, assessment, recorded=RECORDED, subject=subject)
    )
    assert schema_errors(found) == []
    assert not of_type(found, "Patient")
    subjects = list(walk(found, "subject"))
    assert subjects
    assert all(s == {"reference": subject} for s in subjects)
    assert "contained" not in json.dumps(found)
    assert unresolved_references(found, allowed=[subject]) == []


def test_ids_come_from_the_given_factory_so_output_is_reproducible() -> None:
    intake, assessment = _example("sciatica-refer-surgical-opinion.json")

    def made() -> Json:
        counter: Iterator[uuid.UUID] = (uuid.UUID(int=n) for n in itertools.count(1))
        return _json(
            assessment_bundle.assessment_bundle(
                intake, assessment, recorded=RECORDED, new_id=lambda: next(counter)
            )
        )

    assert made() == made()


def test_a_time_without_a_timezone_is_refused() -> None:
    intake, assessment = _example("neck-strain-self-care.json")
    with pytest.raises(ValueError, match="timezone"):
        assessment_bundle.assessment_bundle(
            intake, assessment, recorded=RECORDED.replace(tzinfo=None)
        )


@pytest.mark.parametrize("name", ["foot-drop-urgent.json", "stenosis-refer-surgical-opinion.json"])
def test_a_questionnaire_response_becomes_an_assessment_bundle(name: str) -> None:
    intake, assessment = _example(name)
    from_example = bundle(name)
    response = one(from_example, "QuestionnaireResponse")
    read = parse(json.dumps(response))
    assert read == intake
    found = _json(assessment_bundle.assessment_bundle(read, assess(read), recorded=RECORDED))
    assert schema_errors(found) == []
    # The response inside the Bundle is the intake again.
    assert intake_from_response(one(found, "QuestionnaireResponse")) == intake
    assert (
        one(found, "RiskAssessment")["prediction"][0]["outcome"]
        == one(from_example, "RiskAssessment")["prediction"][0]["outcome"]
    )
    assert assessment == assess(read)


def test_the_examples_offered_for_other_checks_are_valid() -> None:
    for found in fhir_examples():
        dumped = _json(found)
        assert schema_errors(dumped) == []
        assert undefined_local_codes(dumped) == []
        assert unresolved_references(dumped, allowed=["https://ehr.example/fhir/Patient/123"]) == []


@settings(max_examples=12, deadline=None, database=None)
@given(data=intake_data())
def test_any_intake_gives_a_valid_bundle(data: Json) -> None:
    intake = Intake.model_validate(data)
    found = _json(assessment_bundle.assessment_bundle(intake, assess(intake), recorded=RECORDED))
    assert schema_errors(found) == []
    assert unresolved_references(found) == []
    assert undefined_local_codes(found) == []
    assert intake_from_response(one(found, "QuestionnaireResponse")) == intake
