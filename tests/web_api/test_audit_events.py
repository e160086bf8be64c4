"""What reaches the audit log besides patient data access: sign-in and sign-out, refused
sign-ins (kept although the request is rolled back), guessed patient links and reads of the
log itself; and a clinic's administrator sees that clinic's events only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent
from support.web import PASSWORD, Person, World, add_user

SignIn = Callable[[Person | None], TestClient]


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.session() as session:
        found = [e for e in repository.list_audit(session, limit=1000) if e.action == action]
        session.expunge_all()
        return found


def test_signing_in_and_out_is_logged(client: TestClient, world: World, database: Database) -> None:
    client.post("/login", data={"email": world.clinician_a.email, "password": PASSWORD})
    client.post("/logout")
    [signed_in] = _events(database, "sign_in")
    assert (signed_in.actor_id, signed_in.outcome) == (str(world.clinician_a.id), "ok")
    [signed_out] = _events(database, "sign_out")
    assert signed_out.actor_id == str(world.clinician_a.id)


def test_a_refused_sign_in_is_logged_without_the_address(
    client: TestClient, world: World, database: Database
) -> None:
    response = client.post("/login", data={"email": world.clinician_a.email, "password": "nope"})
    assert response.status_code == 401
    [failed] = _events(database, "sign_in")
    assert failed.outcome == "failed"
    assert failed.actor_id is not None
    assert "@" not in failed.actor_id


def test_a_guessed_patient_link_is_logged(client: TestClient, database: Database) -> None:
    assert client.get("/p/spl_not-a-real-link-at-all").status_code == 404
    [guess] = _events(database, "open_patient_link")
    assert (guess.outcome, guess.actor_kind) == ("not_found", "anonymous")
    assert "not-a-real-link" not in guess.route


def test_reading_the_audit_log_is_itself_logged(
    world: World, database: Database, sign_in_as: SignIn
) -> None:
    assert sign_in_as(world.admin).get("/api/v1/audit").status_code == 200
    [read] = _events(database, "read_audit")
    assert read.actor_id == str(world.admin.id)


def test_a_clinics_administrator_sees_that_clinics_events_only(
    world: World, database: Database, sign_in_as: SignIn
) -> None:
    with database.session() as session:
        for clinic in (world.clinic_a, world.clinic_b):
            repository.record_audit(
                session, actor_kind="clinician", actor_id=1, action="read", clinic_id=clinic
            )
    clinic_admin = add_user(database, "lead@clinic-a.example", "admin", world.clinic_a)
    client = sign_in_as(clinic_admin)
    events = client.get("/api/v1/audit").json()
    assert events
    assert {e["clinic_id"] for e in events} == {world.clinic_a}
    assert client.get(f"/api/v1/audit?clinic_id={world.clinic_b}").status_code == 403
    page = client.get("/admin/audit")
    assert page.status_code == 200
    everyone = sign_in_as(world.admin).get("/api/v1/audit").json()
    assert {world.clinic_a, world.clinic_b} <= {e["clinic_id"] for e in everyone}


def test_paging_beyond_the_id_range_is_refused_not_a_server_error(
    world: World, sign_in_as: SignIn
) -> None:
    client = sign_in_as(world.admin)
    for url in ("/api/v1/audit?before_id=2147483648", "/admin/audit?before=9223372036854775807"):
        assert client.get(url).status_code == 422, url


def test_a_refused_write_to_ones_own_patient_still_leaves_an_audit_row(
    client: TestClient, world: World, database: Database
) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/responses"
    headers = {"authorization": f"Bearer {world.token_a}"}
    refused = client.post(
        url, json={"instrument": "nrs_back", "answers": "not a mapping"}, headers=headers
    )
    assert refused.status_code == 422
    with database.session() as session:
        rows = [
            (e.patient_id, e.outcome)
            for e in repository.list_audit(session, patient_id=world.patient_a.id)
        ]
    assert (world.patient_a.id, "refused") in rows


def test_an_accepted_request_is_logged_once_and_not_as_refused(
    client: TestClient, world: World, database: Database
) -> None:
    headers = {"authorization": f"Bearer {world.token_a}"}
    assert client.get(f"/api/v1/patients/{world.patient_a.id}", headers=headers).status_code == 200
    with database.session() as session:
        outcomes = [
            e.outcome for e in repository.list_audit(session, patient_id=world.patient_a.id)
        ]
    assert outcomes == ["ok"]
