"""Every FHIR export validates against HL7's official R4 JSON schema and meets HL7's FHIRPath
invariants, its references resolve inside its Bundle, and its ids never collide.

The R4B pydantic models let through a canonical with spaces in it; the official schema
(tests/interop/vendor/fhir.schema.json, R4 4.0.1) does not, so it is the check that counts. The
invariants are evaluated by fhirpathpy (test_fhir_invariants.py); what is written out below is
what spinepath promises beyond them.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from jsonschema import Draft6Validator  # type: ignore[import-untyped]

from spinepath.instruments import catalogue
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    InstrumentDefinition,
    NumericResponse,
    OrdinalResponse,
)
from spinepath.instruments.scoring import score
from spinepath.interop import fhir, terminology
from support import fhirpath_invariants
from support.fhir_checks import resources_in, unresolved_references, walk
from support.fhir_schema import root_validator, schema, schema_errors

ALL = sorted(catalogue.definitions())
DAY = date(2026, 1, 5)

Json = dict[str, Any]


def _json(resource: Any) -> Json:
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


def complete_answers(definition: InstrumentDefinition) -> dict[str, object]:
    """A full set of answers, each at the top of its range so that every score is non-zero."""
    answers: dict[str, object] = {}
    for item in definition.items:
        response = item.response
        if isinstance(response, OrdinalResponse | NumericResponse):
            answers[item.code] = response.max
        elif isinstance(response, BooleanResponse):
            answers[item.code] = True
        elif isinstance(response, ChoiceResponse):
            answers[item.code] = response.options[-1].code
    return answers


def scored(code: str, *, subject: str | None = None, new_id: Any = uuid.uuid4) -> Json:
    answers = complete_answers(catalogue.get(code))
    bundle = fhir.scored_bundle(
        score(code, answers), answers, effective=DAY, subject=subject, new_id=new_id
    )
    return _json(bundle)


# --- the schema itself ------------------------------------------------------------------------


def test_the_vendored_schema_is_the_r4_4_0_1_json_schema() -> None:
    vendored = schema()
    assert vendored["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert vendored["id"] == "http://hl7.org/fhir/json-schema/4.0"
    # 4.0.1 (not 4.0.0) is the release that lists its own version among the FHIR versions.
    versions = vendored["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]["enum"]
    assert versions[-1] == "4.0.1"
    Draft6Validator.check_schema(vendored)


def test_the_schema_rejects_what_the_old_export_got_wrong() -> None:
    # Without this the other tests could pass against a schema that accepts anything.
    response = scored("ndi")["entry"][0]["resource"]
    assert schema_errors(response) == []
    spaced = {**response, "questionnaire": "urn:spinepath:questionnaire:ndi|Vernon & Mior 1991"}
    assert any(e.startswith("questionnaire:") for e in schema_errors(spaced))
    # The root schema, as HL7 publishes it, gives the same verdicts.
    assert root_validator().is_valid(response)
    assert not root_validator().is_valid(spaced)
    assert schema_errors({**response, "id": "ndi_2026-01-05"})
    assert schema_errors({**response, "status": "done"})


# --- every export validates -------------------------------------------------------------------


@pytest.mark.parametrize("code", ALL)
def test_every_questionnaire_validates_against_the_r4_schema(code: str) -> None:
    assert schema_errors(_json(fhir.questionnaire(code))) == []


def test_the_questionnaire_bundle_and_its_code_systems_validate() -> None:
    bundle = _json(fhir.questionnaire_bundle())
    assert schema_errors(bundle) == []
    types = [r["resourceType"] for r in resources_in(bundle)]
    assert types.count("Questionnaire") == len(ALL)
    assert types.count("CodeSystem") == len(terminology.code_systems())
    assert root_validator().is_valid(bundle)


@pytest.mark.parametrize("code", ALL)
def test_every_scored_bundle_validates_against_the_r4_schema(code: str) -> None:
    bundle = scored(code)
    assert schema_errors(bundle) == []
    response, observation = resources_in(bundle)
    assert schema_errors(response) == []
    assert schema_errors(observation) == []
    assert "valueQuantity" in observation


def test_an_unscorable_response_validates_with_a_data_absent_reason() -> None:
    answers = {"pain_intensity": 3, "lifting": 2}
    result = score("odi", answers)
    assert not result.valid
    bundle = _json(fhir.scored_bundle(result, answers, effective=DAY))
    assert schema_errors(bundle) == []
    observation = resources_in(bundle)[1]
    assert "valueQuantity" not in observation
    assert observation["dataAbsentReason"]["coding"][0]["code"] == "unknown"


def test_a_response_for_a_patient_in_the_record_validates() -> None:
    bundle = scored("startback", subject="https://ehr.example/fhir/Patient/123")
    assert schema_errors(bundle) == []
    for resource in resources_in(bundle):
        assert resource["subject"] == {"reference": "https://ehr.example/fhir/Patient/123"}
        assert "contained" not in resource


# --- references and ids -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ALL)
def test_every_reference_in_a_scored_bundle_resolves_inside_it(code: str) -> None:
    bundle = scored(code)
    response, observation = resources_in(bundle)
    assert observation["derivedFrom"] == [{"reference": bundle["entry"][0]["fullUrl"]}]
    assert response["subject"] == observation["subject"] == {"reference": "#patient"}
    assert unresolved_references(bundle) == []
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in bundle["entry"])


def test_the_reference_check_notices_a_dangling_reference() -> None:
    bundle = scored("odi")
    bundle["entry"][1]["resource"]["derivedFrom"] = [{"reference": "QuestionnaireResponse/x"}]
    assert unresolved_references(bundle) == ["QuestionnaireResponse/x"]


def test_questionnaire_bundle_entries_have_stable_uuid_full_urls_not_canonicals() -> None:
    first, second = _json(fhir.questionnaire_bundle()), _json(fhir.questionnaire_bundle())
    urls = [entry["fullUrl"] for entry in first["entry"]]
    assert all(url.startswith("urn:uuid:") for url in urls)
    assert urls == [entry["fullUrl"] for entry in second["entry"]]
    assert unresolved_references(first) == []


def test_every_canonical_and_local_code_resolves_against_the_published_bundle() -> None:
    published = resources_in(_json(fhir.questionnaire_bundle()))
    questionnaires = {
        f"{r['url']}|{r['version']}" for r in published if r["resourceType"] == "Questionnaire"
    }
    systems = {
        r["url"]: {c["code"] for c in r["concept"]}
        for r in published
        if r["resourceType"] == "CodeSystem"
    }
    exported = published + [r for code in ALL for r in resources_in(scored(code))]
    # scored() answers at the top of each range; a lower ODI band is coded as well.
    low: dict[str, object] = dict.fromkeys(catalogue.get("odi").item_codes, 1)
    exported += resources_in(_json(fhir.scored_bundle(score("odi", low), low, effective=DAY)))
    codings: list[Json] = []
    for resource in exported:
        for canonical in walk(resource, "questionnaire"):
            assert canonical in questionnaires
        codings += [c for coding in walk(resource, "coding") for c in coding]
        codings += walk(resource, "valueCoding")
    assert len(codings) > 100
    for c in codings:
        if c["system"].startswith(terminology.BASE_URL):
            assert c["code"] in systems[c["system"]], c
        else:
            assert c["system"].startswith(("http://", "https://")), c


def test_no_export_uses_the_old_urn_namespace() -> None:
    everything = json.dumps(_json(fhir.questionnaire_bundle())) + "".join(
        json.dumps(scored(code)) for code in ALL
    )
    assert "urn:spinepath" not in everything


def test_ids_and_full_urls_are_unique_across_two_patients_on_the_same_day() -> None:
    first, second = scored("odi"), scored("odi")
    ids = [r["id"] for b in (first, second) for r in resources_in(b)] + [
        first["id"],
        second["id"],
    ]
    full_urls = [e["fullUrl"] for b in (first, second) for e in b["entry"]]
    assert len(set(ids)) == len(ids) == 6
    assert len(set(full_urls)) == len(full_urls) == 4


def test_ids_come_from_the_given_factory_so_output_is_reproducible() -> None:
    def counter() -> Iterator[uuid.UUID]:
        return (uuid.UUID(int=n) for n in itertools.count(1))

    one, two = counter(), counter()
    first = scored("nrs_back", new_id=lambda: next(one))
    second = scored("nrs_back", new_id=lambda: next(two))
    assert first == second
    assert [r["id"] for r in resources_in(first)] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]


# --- FHIRPath invariants ----------------------------------------------------------------------
# HL7's invariants themselves (que-2, bdl-7, dom-3, obs-6, obs-7, csd-1, once written out here,
# and every other one that applies) are evaluated by fhirpathpy in test_fhir_invariants.py. What
# stays here is what spinepath promises beyond them.


def _questionnaires() -> list[Json]:
    return [_json(fhir.questionnaire(code)) for code in ALL]


def test_the_invariants_once_written_out_here_are_evaluated_by_the_engine() -> None:
    report = fhirpath_invariants.assert_invariants(_json(fhir.questionnaire_bundle()))
    for code in ALL:
        report.merge(fhirpath_invariants.assert_invariants(scored(code)))
    evaluated = {key for _, key in report.evaluated}
    assert {"que-2", "bdl-7", "dom-3", "obs-6", "obs-7", "csd-1"} <= evaluated


def test_answer_options_appear_only_on_choice_items() -> None:
    # Stricter than R4's que-5 (which the engine checks): spinepath puts a list of answers on
    # choice items and on nothing else, numeric items included.
    for questionnaire in _questionnaires():
        for item in questionnaire["item"]:
            assert ("answerOption" in item) == (item["type"] == "choice"), item["linkId"]


@pytest.mark.parametrize("code", ALL)
def test_each_response_item_answers_a_question_once_in_questionnaire_order(code: str) -> None:
    # R4 4.0.1 has no invariant for this (qrs-2, "repeated answers are combined in the answers
    # array of a single item", arrived after R4), so it stays written out.
    response = resources_in(scored(code))[0]
    asked = [item["linkId"] for item in _json(fhir.questionnaire(code))["item"]]
    answered = [item["linkId"] for item in response["item"]]
    assert len(answered) == len(set(answered))
    assert answered == [link_id for link_id in asked if link_id in answered]
    assert all(len(item["answer"]) == 1 for item in response["item"])


@pytest.mark.parametrize("code", ALL)
def test_the_only_contained_resource_is_the_anonymous_patient(code: str) -> None:
    for resource in resources_in(scored(code)):
        assert [c["resourceType"] for c in resource["contained"]] == ["Patient"]
        assert "identifier" not in resource["contained"][0]


@pytest.mark.parametrize("code", ALL)
def test_a_score_has_either_a_value_or_a_reason_and_every_component_a_value(code: str) -> None:
    # obs-6 only forbids both; spinepath always gives one of the two.
    answers = complete_answers(catalogue.get(code))
    answered = resources_in(scored(code))[1]
    unanswered = _json(fhir.score_observation(score(code, dict.fromkeys(answers)), effective=DAY))
    for observation in (answered, unanswered):
        has_value = any(key.startswith("value") for key in observation)
        assert has_value != ("dataAbsentReason" in observation)
        for component in observation.get("component", []):
            assert any(key.startswith("value") for key in component)


def test_each_code_system_counts_its_own_concepts() -> None:
    for system in terminology.code_systems():
        assert system.count == len(system.concept or []), system.url


# --- LOINC beside the local codes -------------------------------------------------------------


def _codes(codeable: Json) -> dict[str, str]:
    return {c["system"]: c["code"] for c in codeable["coding"]}


def test_the_odi_carries_its_verified_loinc_codes_beside_the_local_ones() -> None:
    questionnaire = _json(fhir.questionnaire("odi"))
    assert questionnaire["code"] == [
        {"system": "http://loinc.org", "code": "97908-8", "display": "Oswestry Disability Index"}
    ]
    observation = resources_in(scored("odi"))[1]
    assert _codes(observation["code"]) == {
        terminology.SCORE_SYSTEM: "odi-percent",
        "http://loinc.org": "97909-6",
    }


def test_startback_carries_its_verified_loinc_codes_beside_the_local_ones() -> None:
    assert _json(fhir.questionnaire("startback"))["code"][0]["code"] == "91349-1"
    observation = resources_in(scored("startback"))[1]
    assert _codes(observation["code"])["http://loinc.org"] == "91351-7"
    components = {_codes(c["code"])["http://loinc.org"]: c for c in observation["component"]}
    assert components["91350-9"]["valueQuantity"]["value"] == 5
    risk = components["91352-5"]["valueCodeableConcept"]
    assert _codes(risk) == {
        terminology.SCORE_SYSTEM: "startback-band-high",
        "http://loinc.org": "LA9193-9",
    }


@pytest.mark.parametrize("code", [c for c in ALL if c not in ("odi", "startback")])
def test_instruments_without_a_verified_loinc_code_carry_none(code: str) -> None:
    exported = json.dumps(_json(fhir.questionnaire(code))) + json.dumps(scored(code))
    assert "loinc.org" not in exported
