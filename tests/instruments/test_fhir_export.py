"""FHIR R4 Questionnaire export and scored-response resources."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from spinepath.instruments import catalogue
from spinepath.instruments.scoring import score
from spinepath.instruments.wording import find_wording
from spinepath.interop import fhir, terminology

from .answers import NDI_ITEMS, ODI_SECTIONS, spread

ALL = sorted(catalogue.definitions())


@pytest.mark.parametrize("code", ALL)
def test_every_instrument_exports_a_valid_questionnaire_with_stable_link_ids(code: str) -> None:
    definition = catalogue.get(code)
    exported = fhir.questionnaire(code)
    # Round trip through JSON: the export parses back as a valid R4B Questionnaire.
    parsed = Questionnaire.model_validate_json(exported.model_dump_json())
    assert [item.linkId for item in parsed.item or []] == list(definition.item_codes)
    assert parsed.copyright == definition.licence.notice
    assert parsed.url == f"https://spinepath.org/fhir/Questionnaire/{code.replace('_', '-')}"
    assert parsed.version == terminology.canonical_version(definition)


def test_a_version_with_spaces_becomes_a_canonical_safe_version() -> None:
    # "Vernon & Mior 1991" would put spaces into QuestionnaireResponse.questionnaire.
    assert fhir.questionnaire("ndi").version == "Vernon-Mior-1991"
    assert fhir.questionnaire("rmdq").version == "24-item-1983"
    assert fhir.questionnaire("odi").version == "2.1a"
    assert "Vernon & Mior 1991" in (fhir.questionnaire("ndi").description or "")


LICENSED = [c for c in ALL if not catalogue.get(c).licence.wording_shipped]
GENERIC = [c for c in ALL if catalogue.get(c).licence.wording_shipped]


def test_the_licensed_and_the_generic_measures_are_the_expected_ones() -> None:
    assert LICENSED == ["ndi", "odi", "peg3", "rmdq", "startback"]
    assert GENERIC == ["global_change", "nrs_arm", "nrs_back", "nrs_leg", "nrs_neck"]


@pytest.mark.parametrize("code", LICENSED)
def test_without_wording_every_item_says_the_wording_must_be_supplied(code: str) -> None:
    for item in fhir.questionnaire(code).item or []:
        assert "Wording not shipped" in (item.text or "")


@pytest.mark.parametrize("code", GENERIC)
def test_a_generic_measure_exports_its_bundled_wording(code: str) -> None:
    exported = _json(fhir.questionnaire(code))
    assert exported["language"] == "en-GB"
    assert "Wording not shipped" not in json.dumps(exported)
    assert all("not shipped" not in item["text"] for item in exported["item"])


def test_the_change_rating_exports_its_seven_answers_in_order() -> None:
    item = _json(fhir.questionnaire("global_change"))["item"][0]
    displays = [o["valueCoding"]["display"] for o in item["answerOption"]]
    assert displays[0] == "Very much better"
    assert displays[3] == "About the same"
    assert displays[6] == "Very much worse"
    assert [o["extension"][0]["valueDecimal"] for o in item["answerOption"]] == list(range(1, 8))


def _json(resource: Any) -> Any:
    return resource.model_dump(mode="json", exclude_none=True)


def test_odi_answer_options_carry_their_score_as_ordinal_value() -> None:
    first = _json(fhir.questionnaire("odi"))["item"][0]
    assert first["type"] == "choice"
    options = first["answerOption"]
    assert [o["valueCoding"]["code"] for o in options] == ["0", "1", "2", "3", "4", "5"]
    assert [o["extension"] for o in options][2] == [{"url": fhir.ORDINAL_VALUE, "valueDecimal": 2}]


def test_startback_bothersomeness_options_score_only_very_much_and_extremely() -> None:
    q9 = _json(fhir.questionnaire("startback"))["item"][-1]
    scored = {
        o["valueCoding"]["code"]: o["extension"][0]["valueDecimal"] for o in q9["answerOption"]
    }
    assert scored == {
        "not_at_all": 0,
        "slightly": 0,
        "moderately": 0,
        "very_much": 1,
        "extremely": 1,
    }


def test_numeric_items_declare_their_range() -> None:
    item = _json(fhir.questionnaire("nrs_back"))["item"][0]
    assert item["type"] == "integer"
    assert item["extension"] == [
        {"url": fhir.MIN_VALUE, "valueInteger": 0},
        {"url": fhir.MAX_VALUE, "valueInteger": 10},
    ]


def test_the_export_uses_the_site_wording_when_supplied(wording_dir: Path) -> None:
    wording = find_wording(catalogue.get("odi"), wording_dir)
    exported = _json(fhir.questionnaire("odi", wording))
    first = exported["item"][0]
    assert first["text"] == "PLACEHOLDER section 1 heading (synthetic)"
    display = first["answerOption"][0]["valueCoding"]["display"]
    assert display == "PLACEHOLDER section 1 statement 0 (synthetic)"
    assert exported["language"] == "en-GB"


def test_the_bundle_holds_one_questionnaire_per_instrument() -> None:
    bundle = Bundle.model_validate_json(fhir.questionnaire_bundle().model_dump_json())
    types = [e.resource.get_resource_type() for e in bundle.entry or [] if e.resource]
    assert types.count("Questionnaire") == len(ALL)


def test_a_scored_odi_becomes_a_response_and_an_observation_in_percent() -> None:
    answers = spread(ODI_SECTIONS, 16)
    bundle = _json(fhir.scored_bundle(score("odi", answers), answers, effective=date(2026, 1, 5)))
    response, observation = (e["resource"] for e in bundle["entry"])
    assert response["questionnaire"] == "https://spinepath.org/fhir/Questionnaire/odi|2.1a"
    assert len(response["item"]) == 10
    assert observation["valueQuantity"] == {
        "value": 32.0,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert observation["derivedFrom"] == [{"reference": f"urn:uuid:{response['id']}"}]
    assert observation["interpretation"][0]["text"].startswith("Moderate")
    assert "Mapi" in observation["note"][0]["text"]


def test_an_ndi_observation_carries_the_percentage_as_a_component() -> None:
    answers = spread(NDI_ITEMS, 20)
    observation = _json(fhir.score_observation(score("ndi", answers), effective=date(2026, 1, 5)))
    assert observation["valueQuantity"]["value"] == 20
    assert observation["component"][0]["valueQuantity"]["value"] == 40


def test_an_unscorable_response_becomes_an_observation_with_a_data_absent_reason() -> None:
    result = score("odi", spread(ODI_SECTIONS[:5], 5))
    observation = _json(fhir.score_observation(result, effective=date(2026, 1, 5)))
    assert "valueQuantity" not in observation
    assert "5 of 10" in observation["dataAbsentReason"]["text"]
