"""The decision aid on the result page when surgery is on the table, and the values answers."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from support.web import Person, World

from .journey import SCIATICA_AFTER_FAILED_PHYSIOTHERAPY, answer_all, start, submit

SignIn = Callable[[Person | None], TestClient]


def _sciatica_result(client: TestClient, link: str) -> str:
    answer_all(client, link, SCIATICA_AFTER_FAILED_PHYSIOTHERAPY)
    submit(client, link)
    page = client.get(f"/p/{link}/result")
    assert page.status_code == 200
    return page.text


def test_the_decision_aid_is_shown_when_surgery_is_an_option(client: TestClient) -> None:
    link = start(client)
    text = _sciatica_result(client, link)
    assert "Thinking about surgery" in text
    assert 'class="da' in text  # the aid's own fragment is embedded
    assert 'href="/decision-aid.css"' in text
    css = client.get("/decision-aid.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_the_decision_aid_is_not_shown_for_non_specific_back_pain(client: TestClient) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    assert "Thinking about surgery" not in client.get(f"/p/{link}/result").text


def test_the_leaning_must_be_chosen_and_is_then_recorded_for_the_clinic(
    client: TestClient, world: World, sign_in_as: SignIn
) -> None:
    link = world.patient_a.link_token
    _sciatica_result(client, link)
    refused = client.post(f"/p/{link}/decision-aid", data={})
    assert refused.status_code == 422
    assert 'id="f-da-leaning-error"' in refused.text
    saved = client.post(
        f"/p/{link}/decision-aid",
        data={"da.leaning": "unsure", "da.note": "Worried about time off work"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(f"/p/{link}/result").text
    assert 'value="unsure" checked' in page
    clinic_page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}")
    assert "Leaning: <strong>Unsure</strong>" in clinic_page.text


def test_an_unknown_leaning_is_refused(client: TestClient) -> None:
    link = start(client)
    _sciatica_result(client, link)
    refused = client.post(f"/p/{link}/decision-aid", data={"da.leaning": "coin_toss"})
    assert refused.status_code == 422
    assert "Choose one of the options." in refused.text


def test_the_patient_downloads_a_one_page_summary_with_their_answers(
    client: TestClient, tmp_path: Path
) -> None:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None, "pdftotext is needed: install poppler-utils (.ci/run does)"
    link = start(client)
    page = _sciatica_result(client, link)
    assert f'href="/p/{link}/my-decision.pdf"' in page
    client.post(
        f"/p/{link}/decision-aid",
        data={
            "da.leaning": "leaning_surgery",
            "da.importance.back_to_work": "3",
            "da.note": "Back to the building site by spring",
        },
    )
    response = client.get(f"/p/{link}/my-decision.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    pdf = tmp_path / "my-decision.pdf"
    pdf.write_bytes(response.content)
    out = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True, text=True)
    text = " ".join(out.stdout.split())
    assert "I am leaning towards surgery" in text
    assert "Getting back to work or my usual activities soon: very" in text
    assert "Back to the building site by spring" in text
    assert "Questions for my surgeon" in text


def test_the_summary_of_another_patient_cannot_be_guessed(client: TestClient) -> None:
    assert client.get("/p/not-a-real-link/my-decision.pdf").status_code == 404
