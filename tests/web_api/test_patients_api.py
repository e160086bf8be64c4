"""The clinic's patients through the API: worklist, invitations, records, export, deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from support.intakes import cauda_equina_symptoms, low_back_pain
from support.web import Person, World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_api_token_invites_a_patient_whose_link_works(
    client: TestClient, world: World, database: Database
) -> None:
    response = client.post(
        "/api/v1/patients", json={"reference": "JS"}, headers=bearer(world.token_a)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["link_path"] == f"/p/{body['link_token']}"
    with database.session() as session:
        patient = repository.patient_by_link(session, body["link_token"])
        assert patient is not None
        assert patient.clinic_id == world.clinic_a
        assert body["link_token"] not in patient.link_token_hash


def test_the_worklist_puts_the_emergency_first(client: TestClient, world: World) -> None:
    headers = bearer(world.token_a)
    calm = client.post("/api/v1/patients", json={"reference": "calm"}, headers=headers).json()
    ill = client.post("/api/v1/patients", json={"reference": "ill"}, headers=headers).json()
    client.post(
        f"/api/v1/patients/{ill['patient']['id']}/assessments",
        json=cauda_equina_symptoms(),
        headers=headers,
    )
    client.post(
        f"/api/v1/patients/{calm['patient']['id']}/assessments",
        json=low_back_pain(),
        headers=headers,
    )
    worklist = client.get("/api/v1/patients", headers=headers).json()
    assert [row["reference"] for row in worklist][:2] == ["ill", "calm"]
    assert worklist[0]["level"] == "emergency"
    assert {row["reference"] for row in worklist} == {"calm", "ill", "A1"}


def test_a_clinic_never_sees_another_clinics_patients(client: TestClient, world: World) -> None:
    worklist = client.get("/api/v1/patients", headers=bearer(world.token_b)).json()
    assert [row["id"] for row in worklist] == [world.patient_b.id]
    response = client.get(f"/api/v1/patients/{world.patient_a.id}", headers=bearer(world.token_b))
    assert response.status_code == 404


def test_a_refused_access_is_in_the_audit_log(
    client: TestClient, world: World, database: Database
) -> None:
    client.get(f"/api/v1/patients/{world.patient_a.id}/export", headers=bearer(world.token_b))
    with database.session() as session:
        events = repository.list_audit(session, patient_id=world.patient_a.id)
    assert [(e.actor_kind, e.outcome) for e in events] == [("api_token", "denied")]


def test_a_stored_assessment_is_listed_and_audited(
    client: TestClient, world: World, database: Database
) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/assessments"
    created = client.post(url, json=low_back_pain(), headers=bearer(world.token_a))
    assert created.status_code == 201
    listed = client.get(url, headers=bearer(world.token_a)).json()
    assert [a["id"] for a in listed] == [created.json()["id"]]
    assert listed[0]["assessment"]["triage"]["level"] == listed[0]["level"]
    with database.session() as session:
        actions = [e.action for e in repository.list_audit(session, patient_id=world.patient_a.id)]
    assert actions == ["read", "write"]


def test_a_questionnaire_response_is_scored_and_kept(client: TestClient, world: World) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/responses"
    answers = {"pain_intensity": 2, "personal_care": 1, "lifting": 3, "walking": 0}
    response = client.post(
        url,
        json={"instrument": "odi", "answers": answers, "taken_on": "2026-01-05"},
        headers=bearer(world.token_a),
    )
    assert response.status_code == 201, response.text
    assert response.json()["score"]["instrument"] == "odi"
    listed = client.get(url, headers=bearer(world.token_a)).json()
    assert [(r["taken_on"], r["answers"]) for r in listed] == [("2026-01-05", answers)]


def test_a_bad_answer_is_named(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/patients/{world.patient_a.id}/responses",
        json={"instrument": "odi", "answers": {"lifting": 9}},
        headers=bearer(world.token_a),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "answers.lifting"


def test_an_unknown_instrument_is_named(client: TestClient) -> None:
    response = client.post("/api/v1/scores", json={"instrument": "nope", "answers": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "instrument"


def test_a_clinician_adds_a_note_under_their_name(
    client: TestClient, world: World, sign_in_as: Callable[[Person | None], TestClient]
) -> None:
    signed_in = sign_in_as(world.clinician_a)
    url = f"/api/v1/patients/{world.patient_a.id}/notes"
    assert signed_in.post(url, json={"text": "Phoned; improving."}).status_code == 201
    notes = signed_in.get(url).json()
    assert [(n["author"], n["text"]) for n in notes] == [
        (world.clinician_a.email, "Phoned; improving.")
    ]


def test_a_blank_note_is_refused(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/patients/{world.patient_a.id}/notes",
        json={"text": "   "},
        headers=bearer(world.token_a),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"


def _fill(client: TestClient, world: World) -> None:
    base = f"/api/v1/patients/{world.patient_a.id}"
    headers = bearer(world.token_a)
    client.post(f"{base}/assessments", json=low_back_pain(), headers=headers)
    client.post(f"{base}/notes", json={"text": "note"}, headers=headers)
    client.post(
        f"{base}/responses", json={"instrument": "odi", "answers": {"walking": 1}}, headers=headers
    )


def test_the_export_holds_everything_about_the_patient(client: TestClient, world: World) -> None:
    _fill(client, world)
    export: dict[str, Any] = client.get(
        f"/api/v1/patients/{world.patient_a.id}/export", headers=bearer(world.token_a)
    ).json()
    assert export["patient"]["id"] == world.patient_a.id
    assert len(export["assessments"]) == 1
    assert export["assessments"][0]["intake"]["age"] == 40
    assert [n["text"] for n in export["notes"]] == ["note"]
    assert [r["instrument"] for r in export["responses"]] == ["odi"]
    assert export["access_log"]


def test_deleting_a_patient_removes_their_data_but_keeps_the_audit_event(
    client: TestClient, world: World, database: Database
) -> None:
    _fill(client, world)
    url = f"/api/v1/patients/{world.patient_a.id}"
    assert client.delete(url, headers=bearer(world.token_a)).status_code == 204
    assert client.get(url, headers=bearer(world.token_a)).status_code == 404
    with database.session() as session:
        assert repository.patient_by_link(session, world.patient_a.link_token) is None
        events = repository.list_audit(session, patient_id=world.patient_a.id)
        assert events[0].route == f"DELETE /api/v1/patients/{world.patient_a.id}"
        from spinepath.store.models import AssessmentRecord, Note, ResponseRecord

        for table in (AssessmentRecord, Note, ResponseRecord):
            assert session.query(table).count() == 0


def test_a_revoked_or_unknown_token_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/patients", headers=bearer("spt_not-a-real-token"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    response = client.get("/api/v1/patients", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_the_audit_log_is_for_administrators_only(
    client: TestClient, world: World, sign_in_as: Callable[[Person | None], TestClient]
) -> None:
    _fill(client, world)
    assert client.get("/api/v1/audit", headers=bearer(world.token_a)).status_code == 401
    assert sign_in_as(world.clinician_a).get("/api/v1/audit").status_code == 403
    events = sign_in_as(world.admin).get("/api/v1/audit").json()
    assert len(events) == 3
    assert all(e["patient_id"] == world.patient_a.id for e in events)


def test_the_stateless_decision_aid_is_built_from_an_intake(client: TestClient) -> None:
    response = client.post("/api/v1/decision-aids", json=low_back_pain())
    assert response.status_code == 200
    assert response.json()["decision_aid_version"] == "1"
    assert response.json()["values"] is None


def test_a_patients_values_and_leaning_are_recorded_on_their_aid(
    client: TestClient, world: World, database: Database
) -> None:
    base = f"/api/v1/patients/{world.patient_a.id}"
    headers = bearer(world.token_a)
    assert client.get(f"{base}/decision-aid", headers=headers).status_code == 404
    client.post(f"{base}/assessments", json=low_back_pain(), headers=headers)
    aid = client.get(f"{base}/decision-aid", headers=headers).json()
    item = aid["values_items"][0]["id"]
    values = {"importance": {item: 4}, "leaning": "unsure"}
    recorded = client.post(f"{base}/decision-aid/values", json=values, headers=headers)
    assert recorded.status_code == 201, recorded.text
    again = client.get(f"{base}/decision-aid", headers=headers).json()
    assert again["values"]["leaning"] == "unsure"
    assert again["values"]["answers"] == [{"item_id": item, "importance": 4}]
    with database.session() as session:
        patient = repository.patient_by_id(session, world.patient_a.id)
        assert patient is not None
        stored = repository.latest_decision_aid_values(session, patient)
        assert stored is not None
        assert stored.leaning == "unsure"


def test_an_unknown_values_item_is_named(client: TestClient, world: World) -> None:
    base = f"/api/v1/patients/{world.patient_a.id}"
    headers = bearer(world.token_a)
    client.post(f"{base}/assessments", json=low_back_pain(), headers=headers)
    response = client.post(
        f"{base}/decision-aid/values",
        json={"importance": {"no_such_item": 2}, "leaning": "unsure"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "importance"


def test_a_nul_character_is_refused_with_its_field_named(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/patients", json={"reference": "J\x00S"}, headers=bearer(world.token_a)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reference"
    response = client.post("/api/v1/assessments", json=low_back_pain(what_matters_note="a\x00b"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "what_matters_note"


def test_a_nul_character_in_the_address_or_a_form_is_refused(
    client: TestClient, world: World
) -> None:
    response = client.get("/api/v1/patients/%00", headers=bearer(world.token_a))
    assert response.status_code == 400
    response = client.get("/api/v1/patients?x=%00", headers=bearer(world.token_a))
    assert response.status_code == 400
    response = client.post(
        "/login",
        content=b"email=a%00b&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
