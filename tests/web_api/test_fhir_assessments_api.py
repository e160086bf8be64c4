"""FHIR through the API: a QuestionnaireResponse in (`Content-Type: application/fhir+json`) on
both assessment endpoints, an assessment Bundle out (`Accept: application/fhir+json`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store.db import Database
from spinepath.store.models import AssessmentRecord
from support.fhir_checks import resources_in, unresolved_references
from support.fhir_schema import schema_errors
from support.intake_responses import example_intake, response_item, response_json
from support.intakes import low_back_pain
from support.web import World

URL = "/api/v1/assessments"
FHIR_JSON = "application/fhir+json"
Json = dict[str, Any]
EXAMPLE = "foot-drop-urgent.json"


def _post(client: TestClient, body: Json | str, url: str = URL, **headers: str) -> Any:
    content = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, content=content, headers={"content-type": FHIR_JSON, **headers})


def test_a_questionnaire_response_is_assessed_as_its_intake_is(client: TestClient) -> None:
    intake = example_intake(EXAMPLE)
    response = _post(client, response_json(intake))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == assess(intake).model_dump(mode="json")


def test_accept_fhir_json_returns_the_assessment_as_a_bundle(client: TestClient) -> None:
    response = client.post(URL, json=low_back_pain(), headers={"accept": FHIR_JSON})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FHIR_JSON
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert schema_errors(bundle) == []
    assert unresolved_references(bundle) == []


def test_fhir_in_and_out(client: TestClient) -> None:
    intake = example_intake("cauda-equina-emergency.json")
    response = _post(client, response_json(intake), accept=FHIR_JSON)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert schema_errors(bundle) == []
    [risk] = [r for r in resources_in(bundle) if r["resourceType"] == "RiskAssessment"]
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == "emergency"


@pytest.mark.parametrize(
    ("accept", "fhir"),
    [
        ("application/json", False),
        ("*/*", False),
        ("", False),
        (FHIR_JSON, True),
        (f"application/json;q=0.5, {FHIR_JSON}", True),
        (f"{FHIR_JSON};q=0.2, application/json", False),
        (f"application/json, {FHIR_JSON}", False),
        (f"{FHIR_JSON};q=0, application/json;q=0.1", False),
    ],
)
def test_fhir_is_returned_only_when_preferred(client: TestClient, accept: str, fhir: bool) -> None:
    response = client.post(URL, json=low_back_pain(), headers={"accept": accept})
    assert response.status_code == 200
    assert ("resourceType" in response.json()) is fhir


def test_an_unknown_link_id_is_named(client: TestClient) -> None:
    body = response_json(example_intake(EXAMPLE))
    response_item(body, "group-about")["item"].append(
        {"linkId": "favourite_colour", "answer": [{"valueString": "blue"}]}
    )
    response = _post(client, body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "favourite_colour"
    assert "unknown linkId" in error["message"]


def test_a_string_where_a_whole_number_is_expected_is_named(client: TestClient) -> None:
    body = response_json(example_intake(EXAMPLE))
    response_item(body, "regions.low_back.duration_weeks")["answer"] = [{"valueString": "3"}]
    response = _post(client, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "regions.low_back.duration_weeks",
            "message": "expected valueInteger (a whole number), got valueString",
        }
    ]


def test_a_child_is_refused_naming_age(client: TestClient) -> None:
    body = response_json(example_intake(EXAMPLE))
    response_item(body, "age")["answer"] = [{"valueInteger": 12}]
    response = _post(client, body, accept=FHIR_JSON)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "age"
    assert "16" in error["message"]


@pytest.mark.parametrize("body", ["{", "not json", '{"resourceType": "QuestionnaireResponse",}'])
def test_malformed_json_is_refused(client: TestClient, body: str) -> None:
    response = _post(client, body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] is None
    assert error["message"].startswith("malformed JSON")


def test_a_plain_intake_sent_as_fhir_json_is_refused_naming_what_it_lacks(
    client: TestClient,
) -> None:
    response = _post(client, low_back_pain())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "resourceType"


def test_the_stateless_endpoint_stores_nothing(client: TestClient) -> None:
    _post(client, response_json(example_intake(EXAMPLE)))
    database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        assert session.query(AssessmentRecord).count() == 0


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_patients_questionnaire_response_is_assessed_and_stored(
    client: TestClient, world: World, database: Database
) -> None:
    intake = example_intake(EXAMPLE)
    url = f"/api/v1/patients/{world.patient_a.id}/assessments"
    response = _post(client, response_json(intake), url, **_bearer(world.token_a))
    assert response.status_code == 201, response.text
    assert response.json()["level"] == assess(intake).triage.level.value
    with database.session() as session:
        [record] = session.query(AssessmentRecord).all()
        assert Intake.model_validate(record.intake) == intake


def test_a_bad_patients_questionnaire_response_stores_nothing(
    client: TestClient, world: World, database: Database
) -> None:
    body = response_json(example_intake(EXAMPLE))
    response_item(body, "age")["answer"] = [{"valueString": "44"}]
    url = f"/api/v1/patients/{world.patient_a.id}/assessments"
    response = _post(client, body, url, **_bearer(world.token_a))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["age"]
    with database.session() as session:
        assert session.query(AssessmentRecord).count() == 0


def test_another_clinics_patient_is_still_not_found(client: TestClient, world: World) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/assessments"
    response = _post(client, response_json(example_intake(EXAMPLE)), url, **_bearer(world.token_b))
    assert response.status_code == 404


def test_the_other_patient_routes_do_not_read_fhir(client: TestClient, world: World) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/notes"
    response = _post(client, {"text": "seen today"}, url, **_bearer(world.token_a))
    assert response.status_code == 201


def test_the_openapi_schema_documents_fhir_in_and_out(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    stateless = spec["paths"]["/api/v1/assessments"]["post"]
    assert set(stateless["requestBody"]["content"]) == {"application/json", FHIR_JSON}
    assert FHIR_JSON in stateless["responses"]["200"]["content"]
    stored = spec["paths"]["/api/v1/patients/{patient_id}/assessments"]["post"]
    assert FHIR_JSON in stored["requestBody"]["content"]
    notes = spec["paths"]["/api/v1/patients/{patient_id}/notes"]["post"]
    assert set(notes["requestBody"]["content"]) == {"application/json"}
