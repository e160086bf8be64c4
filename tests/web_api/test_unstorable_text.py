"""A lone surrogate (an escape such as \\ud800 with no pair) anywhere in a JSON body is a 422
naming the field, on every route and both databases; it used to be a server error when stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.web import World

LONE = '"\\ud800"'


def _post(client: TestClient, url: str, body: str, token: str | None = None) -> dict[str, object]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = client.post(url, content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    error: dict[str, object] = response.json()["errors"][0]
    return error


@pytest.mark.parametrize("spelling", ["\\ud800", "\\uDFFF", "\\udbff"])
def test_a_lone_surrogate_in_an_answer_key_is_refused(client: TestClient, spelling: str) -> None:
    body = '{"instrument": "nrs_back", "answers": {"' + spelling + '": 3}}'
    error = _post(client, "/api/v1/scores", body)
    assert str(error["field"]).startswith("answers.")
    assert "surrogate" in str(error["message"])


def test_a_lone_surrogate_in_a_value_is_refused_naming_it(client: TestClient, world: World) -> None:
    error = _post(client, "/api/v1/patients", '{"reference": ' + LONE + "}", world.token_a)
    assert error["field"] == "reference"


def test_a_lone_surrogate_in_saved_responses_is_refused(client: TestClient, world: World) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/responses"
    body = '{"instrument": "nrs_back", "answers": {"x": ' + LONE + '}, "taken_on": "2030-01-01"}'
    error = _post(client, url, body, world.token_a)
    assert error["field"] == "answers.x"


def test_a_paired_surrogate_is_an_ordinary_character(client: TestClient, world: World) -> None:
    # \ud83d\ude00 is one character (an emoji): it must not be mistaken for a lone surrogate.
    response = client.post(
        "/api/v1/patients",
        content=b'{"reference": "A1 \\ud83d\\ude00"}',
        headers={"content-type": "application/json", "authorization": f"Bearer {world.token_a}"},
    )
    assert response.status_code in (200, 201), response.text
