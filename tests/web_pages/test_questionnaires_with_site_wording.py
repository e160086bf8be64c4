"""With a site wording file installed, STarT Back is asked in the questionnaire and follow-up
questionnaires are offered, scored with the published rules and charted."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spinepath.settings import Settings
from support.web import make_settings

from .journey import answer_all, answer_until, post_step, start, submit
from .wording import write_placeholder_wording

STARTBACK_LOW_RISK = {
    **{f"startback.q{n}": "false" for n in range(1, 9)},
    "startback.q9": "slightly",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    wording = write_placeholder_wording(tmp_path / "wording", ("startback", "odi", "nrs_back"))
    return make_settings(database_url, tmp_path, instrument_wording_dir=wording)


def _through_inflammatory(client: TestClient, link: str) -> None:
    answer_until(client, link, "startback")


def test_the_startback_step_asks_every_item_in_the_site_wording(client: TestClient) -> None:
    link = start(client)
    _through_inflammatory(client, link)
    page = client.get(f"/p/{link}/step/startback")
    for n in range(1, 10):
        assert f'name="startback.q{n}"' in page.text
    assert "PLACEHOLDER item 1 (startback)" in page.text
    assert "Keele University" in page.text  # the licence notice is shown with the items


def test_a_half_answered_startback_is_refused_item_by_item(client: TestClient) -> None:
    link = start(client)
    _through_inflammatory(client, link)
    response = post_step(client, link, "startback", {"startback.q1": "true"})
    assert response.status_code == 422
    assert 'id="f-startback-q2-error"' in response.text


def test_a_full_startback_reaches_the_result(client: TestClient) -> None:
    # All items disagree and bothersomeness "slightly": total 0, low risk (Keele scoring,
    # see docs/instruments.md).
    link = start(client)
    answer_all(client, link, {"startback": STARTBACK_LOW_RISK})
    submit(client, link)
    page = client.get(f"/p/{link}/result")
    assert "STarT Back result:</strong> low risk" in page.text


def test_a_due_follow_up_is_answered_scored_and_charted(client: TestClient) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    result = client.get(f"/p/{link}/result").text
    assert f'href="/p/{link}/follow-up/odi"' in result
    form = client.get(f"/p/{link}/follow-up/odi")
    assert 'name="item.pain_intensity"' in form.text
    refused = client.post(f"/p/{link}/follow-up/odi", data={"item.pain_intensity": "9"})
    assert refused.status_code == 422
    # ODI: every section 2 of 5 -> 20/50 = 40% (Fairbank & Pynsent 2000).
    answers = {f"item.{code}": "2" for code in _odi_items()}
    saved = client.post(f"/p/{link}/follow-up/odi", data=answers, follow_redirects=False)
    assert saved.status_code == 303
    result = client.get(f"/p/{link}/result").text
    assert "last score 40" in result
    chart = client.get(f"/p/{link}/progress.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in chart.text


def _odi_items() -> tuple[str, ...]:
    from spinepath.instruments import catalogue

    return catalogue.get("odi").item_codes


def test_without_answers_there_is_no_chart(client: TestClient) -> None:
    link = start(client)
    assert client.get(f"/p/{link}/progress.svg").status_code == 404
