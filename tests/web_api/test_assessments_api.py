"""POST /api/v1/assessments: stateless, strict, with errors that name the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from spinepath.pathway.assessment import ASSESSMENT_VERSION
from support.intakes import cauda_equina_symptoms, low_back_pain

URL = "/api/v1/assessments"


def error_fields(response_json: dict[str, list[dict[str, str | None]]]) -> list[str | None]:
    return [error["field"] for error in response_json["errors"]]


def test_it_assesses_an_intake_without_signing_in(client: TestClient) -> None:
    response = client.post(URL, json=low_back_pain())
    assert response.status_code == 200
    body = response.json()
    assert body["assessment_version"] == ASSESSMENT_VERSION == "2"
    assert body["triage"]["level"] in {"self_care", "routine", "soon", "urgent", "emergency"}


def test_cauda_equina_symptoms_are_an_emergency(client: TestClient) -> None:
    response = client.post(URL, json=cauda_equina_symptoms())
    assert response.json()["triage"]["level"] == "emergency"


def test_it_stores_nothing(client: TestClient) -> None:
    client.post(URL, json=low_back_pain())
    from spinepath.store.models import AssessmentRecord, AuditEvent, Patient

    database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        for table in (Patient, AssessmentRecord, AuditEvent):
            assert session.query(table).count() == 0


def test_a_child_is_refused_with_an_error_naming_age(client: TestClient) -> None:
    response = client.post(URL, json=low_back_pain(age=12))
    assert response.status_code == 422
    assert error_fields(response.json()) == ["age"]
    assert "16" in response.json()["errors"][0]["message"]


def test_an_out_of_range_answer_names_its_path(client: TestClient) -> None:
    intake = low_back_pain(regions=[{"region": "low_back", "duration_weeks": 2, "intensity": 11}])
    response = client.post(URL, json=intake)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["regions.0.intensity"]


def test_an_unknown_field_is_named(client: TestClient) -> None:
    response = client.post(URL, json=low_back_pain(favourite_colour="blue"))
    assert response.status_code == 422
    assert error_fields(response.json()) == ["favourite_colour"]


def test_a_number_sent_as_a_string_is_refused(client: TestClient) -> None:
    response = client.post(URL, json=low_back_pain(age="40"))
    assert response.status_code == 422
    assert error_fields(response.json()) == ["age"]


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b'{"age": 40,}', b"\xff\xfe", b"[]", b"null", b'"text"']
)
def test_malformed_bodies_get_a_4xx(client: TestClient, body: bytes) -> None:
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["errors"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_gets_415(client: TestClient, content_type: str) -> None:
    response = client.post(URL, content=b'{"age": 40}', headers={"content-type": content_type})
    assert response.status_code == 415


def test_a_body_over_the_limit_gets_413(client: TestClient) -> None:
    padding = "x" * (client.app.state.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    response = client.post(URL, json=low_back_pain(what_matters_note=padding))
    assert response.status_code == 413


def test_a_streamed_body_over_the_limit_gets_413(client: TestClient) -> None:
    limit: int = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b" " * 1024

    response = client.post(
        URL,
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_errors_are_json_with_field_and_message(client: TestClient) -> None:
    response = client.post(URL, json={"age": 40})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"] == [
        {"field": "regions", "message": response.json()["errors"][0]["message"]}
    ]
