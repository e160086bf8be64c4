"""Invitations name the clinic; a clinician re-issues or revokes a patient's private link from the
patient's page: the old link stops working at once, and both are audited."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from support.web import Person, World

SignIn = Callable[[Person | None], TestClient]
HTML = {"accept": "text/html"}


def shown_link(page: str) -> str:
    found = re.search(r'class="patient-link">[^<]*/p/([^<]+)<', page)
    assert found is not None, page[:2000]
    return found.group(1)


def patient_actions(database: Database, patient_id: str) -> list[tuple[str, str, str]]:
    with database.session() as session:
        events = repository.list_audit(session, patient_id=patient_id, limit=None)
        return [(e.action, e.actor_kind, e.outcome) for e in reversed(events)]


def test_the_invite_page_names_the_clinic_and_who_sees_the_answers(
    sign_in_as: SignIn, world: World
) -> None:
    client = sign_in_as(world.clinician_a)
    page = client.get("/clinic/invite").text
    assert "one patient of Clinic A" in page
    assert "seen by the clinicians of Clinic A" in page
    invited = client.post("/clinic/invite", data={"reference": "Q-1"})
    assert "seen by the care team at Clinic A" in invited.text
    assert '<svg role="img"' in invited.text
    link = shown_link(invited.text)
    first_step = sign_in_as(None).get(f"/p/{link}/step/emergency").text
    assert "Your answers will be seen by the care team at Clinic A." in first_step


def test_a_reissued_link_works_and_the_old_one_stops(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    old = world.patient_a.link_token
    assert sign_in_as(None).get(f"/p/{old}/join").status_code == 200
    clinician = sign_in_as(world.clinician_a)
    page = clinician.post(f"/clinic/patients/{world.patient_a.id}/link")
    assert page.status_code == 200
    assert "Their previous link no longer works" in page.text
    assert '<svg role="img"' in page.text
    new = shown_link(page.text)
    assert new != old
    assert new not in clinician.get(f"/clinic/patients/{world.patient_a.id}").text
    patient = sign_in_as(None)
    assert patient.get(f"/p/{old}/join", headers=HTML).status_code == 404
    assert patient.get(f"/p/{new}/join").status_code == 200
    assert ("reissue_link", "clinician", "ok") in patient_actions(database, world.patient_a.id)


def test_a_revoked_link_stops_working_until_a_new_one_is_issued(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    link = world.patient_a.link_token
    clinician = sign_in_as(world.clinician_a)
    url = f"/clinic/patients/{world.patient_a.id}"
    revoked = clinician.post(f"{url}/link/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"{url}#private-link"
    page = clinician.get(url).text
    assert "Revoked" in page
    assert "Revoke the link" not in page
    assert sign_in_as(None).get(f"/p/{link}/join", headers=HTML).status_code == 404
    assert ("revoke_link", "clinician", "ok") in patient_actions(database, world.patient_a.id)
    new = shown_link(sign_in_as(world.clinician_a).post(f"{url}/link").text)
    assert sign_in_as(None).get(f"/p/{new}/join").status_code == 200


def test_another_clinic_can_neither_reissue_nor_revoke_a_link(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    other = sign_in_as(world.clinician_b)
    url = f"/clinic/patients/{world.patient_a.id}"
    assert other.post(f"{url}/link", headers=HTML).status_code == 404
    assert other.post(f"{url}/link/revoke", headers=HTML).status_code == 404
    assert sign_in_as(None).get(f"/p/{world.patient_a.link_token}/join").status_code == 200
    denied = [a for a in patient_actions(database, world.patient_a.id) if a[2] == "denied"]
    assert len(denied) == 2


def test_signed_out_no_one_can_reissue_a_link(sign_in_as: SignIn, world: World) -> None:
    response = sign_in_as(None).post(
        f"/clinic/patients/{world.patient_a.id}/link", follow_redirects=False
    )
    assert response.status_code == 401
    assert sign_in_as(None).get(f"/p/{world.patient_a.link_token}/join").status_code == 200
