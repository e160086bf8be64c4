"""Clinician pages over HTTP on both databases: sign-in, worklist, patient page, notes, invite,
audit log, and that a clinic never sees another clinic's patients."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from support.intakes import low_back_pain
from support.web import PASSWORD, Person, World, save_assessment

from .journey import EMERGENCY_ALL_NO, answer_all, post_step, submit

SignIn = Callable[[Person | None], TestClient]
HTML = {"accept": "text/html"}
LOW_BACK = low_back_pain()


def test_the_sign_in_page_has_labelled_fields(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label class="label" for="f-email">E-mail address</label>' in page.text
    assert '<label class="label" for="f-password">Password</label>' in page.text


def test_a_wrong_password_is_refused_with_the_error_next_to_the_field(
    client: TestClient, world: World
) -> None:
    response = client.post("/login", data={"email": world.clinician_a.email, "password": "wrong"})
    assert response.status_code == 401
    assert 'id="f-email-error"' in response.text
    assert "not right" in response.text
    assert client.get("/clinic", follow_redirects=False).headers["location"].startswith("/login")


def test_signing_in_leads_to_the_worklist(client: TestClient, world: World) -> None:
    response = client.post(
        "/login",
        data={"email": world.clinician_a.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/clinic"
    assert "Worklist" in client.get("/clinic").text
    client.post("/logout")
    assert client.get("/clinic", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_the_site(client: TestClient, world: World) -> None:
    response = client.post(
        "/login",
        data={"email": world.clinician_a.email, "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/clinic"


def test_the_worklist_shows_only_the_clinics_patients_most_urgent_first(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    with database.session() as session:
        urgent, _ = repository.create_patient(session, world.clinic_a, reference="A2")
        urgent_id = urgent.id
    save_assessment(database, world.patient_a.id, LOW_BACK)
    save_assessment(database, urgent_id, {**LOW_BACK, "mimics": {"chest_pain": True}})
    save_assessment(database, world.patient_b.id, {**LOW_BACK, "mimics": {"chest_pain": True}})
    page = sign_in_as(world.clinician_a).get("/clinic")
    assert page.status_code == 200
    assert "B1" not in page.text
    assert world.patient_b.id not in page.text
    assert page.text.index(">A2<") < page.text.index(">A1<")
    assert "Emergency" in page.text


def test_another_clinics_patient_is_not_found(sign_in_as: SignIn, world: World) -> None:
    client = sign_in_as(world.clinician_b)
    response = client.get(f"/clinic/patients/{world.patient_a.id}", headers=HTML)
    assert response.status_code == 404
    assert "A1" not in response.text


def test_the_patient_page_shows_assessments_trace_and_notes(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    save_assessment(database, world.patient_a.id, {**LOW_BACK, "systemic": {"fever": True}})
    client = sign_in_as(world.clinician_a)
    page = client.get(f"/clinic/patients/{world.patient_a.id}")
    assert page.status_code == 200
    for text in ("Assessments over time", "Explanation trace", "Outcome trends", "Decision aid"):
        assert text in page.text, text
    assert "triage.level" in page.text  # a trace entry
    assert "Rules:" in page.text


def test_a_note_is_added_and_a_blank_note_is_refused_next_to_the_field(
    sign_in_as: SignIn, world: World
) -> None:
    client = sign_in_as(world.clinician_a)
    url = f"/clinic/patients/{world.patient_a.id}/notes"
    refused = client.post(url, data={"text": "   "})
    assert refused.status_code == 422
    assert 'id="f-text-error"' in refused.text
    saved = client.post(url, data={"text": "Phoned: no bladder symptoms."}, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(f"/clinic/patients/{world.patient_a.id}")
    assert "Phoned: no bladder symptoms." in page.text
    assert world.clinician_a.email in page.text


def test_another_clinic_cannot_add_a_note(sign_in_as: SignIn, world: World) -> None:
    client = sign_in_as(world.clinician_b)
    response = client.post(f"/clinic/patients/{world.patient_a.id}/notes", data={"text": "x"})
    assert response.status_code == 404


def test_an_invited_patients_answers_reach_the_clinics_worklist(
    sign_in_as: SignIn, world: World, client: TestClient
) -> None:
    clinician = sign_in_as(world.clinician_a)
    shown = clinician.post("/clinic/invite", data={"reference": "JD-7"})
    assert shown.status_code == 200
    link = shown.text.split('class="patient-link">')[1].split("<")[0]
    token = link.rsplit("/p/", 1)[1]
    assert "JD-7" in clinician.get("/clinic").text
    patient = sign_in_as(None)
    answer_all(patient, token, {"emergency": {"systemic.fever": "yes"}})
    submit(patient, token)
    worklist = sign_in_as(world.clinician_a).get("/clinic").text
    assert "Get medical help today" in worklist
    assert token not in worklist  # the link is shown once, never again
    assert "JD-7" not in sign_in_as(world.clinician_b).get("/clinic").text


def test_a_too_long_reference_is_refused(sign_in_as: SignIn, world: World) -> None:
    response = sign_in_as(world.clinician_a).post("/clinic/invite", data={"reference": "x" * 101})
    assert response.status_code == 422
    assert 'id="f-reference-error"' in response.text


def test_the_audit_log_is_for_administrators(sign_in_as: SignIn, world: World) -> None:
    client = sign_in_as(world.clinician_a)
    client.get(f"/clinic/patients/{world.patient_a.id}")
    assert client.get("/admin/audit", headers=HTML).status_code == 403
    page = sign_in_as(world.admin).get("/admin/audit")
    assert page.status_code == 200
    assert "GET /clinic/patients/" in page.text
    assert f"?patient={world.patient_a.id}" in page.text
    filtered = sign_in_as(world.admin).get(f"/admin/audit?patient={world.patient_b.id}")
    assert f"?patient={world.patient_a.id}" not in filtered.text


def test_an_administrator_without_a_clinic_lands_on_the_audit_log(
    client: TestClient, world: World
) -> None:
    response = client.post(
        "/login", data={"email": world.admin.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.headers["location"] == "/admin/audit"


def test_a_patient_stopped_at_the_emergency_screen_leads_the_worklist(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    save_assessment(database, world.patient_a.id, {**LOW_BACK, "systemic": {"fever": True}})
    with database.session() as session:
        _patient, link = repository.create_patient(session, world.clinic_a, reference="A9")
    patient = sign_in_as(None)
    post_step(
        patient, link, "emergency", {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    )
    page = sign_in_as(world.clinician_a).get("/clinic").text
    assert page.index(">A9<") < page.index(">A1<")
    assert "Stopped at the emergency screen" in page
    # The person left before saying when it began: unknown counts as recent.
    assert "Bladder, bowel, genital or saddle changes that began less than 2 weeks ago" in page
