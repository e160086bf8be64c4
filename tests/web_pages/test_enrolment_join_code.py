"""A clinic's join code: shown with its QR code on /clinic/enrol, opening /join/{code} for new
patients and /p/{link}/join for self-started ones; revocable; wrong codes limited like /start."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from spinepath.settings import Settings
from spinepath.store import enrolment, repository
from spinepath.store.db import Database
from spinepath.store.models import Patient
from support.web import Person, World

from .journey import start

SignIn = Callable[[Person | None], TestClient]
HTML = {"accept": "text/html"}


def make_code(client: TestClient) -> str:
    """Makes a new join code as the signed-in clinician and returns it as displayed."""
    assert client.post("/clinic/enrol/new", follow_redirects=False).status_code == 303
    page = client.get("/clinic/enrol").text
    found = re.search(r'<p class="code-text">([A-Z0-9-]+)</p>', page)
    assert found is not None
    return found.group(1)


def clinic_of(database: Database, patient_id: str) -> int | None:
    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return patient.clinic_id


def patient_id_of(database: Database, link: str) -> str:
    with database.session() as session:
        patient = repository.patient_by_link(session, link)
        assert patient is not None
        return patient.id


def actions(database: Database, **where: object) -> list[tuple[str, str]]:
    with database.session() as session:
        events = repository.list_audit(session, limit=None)
        return [
            (e.action, e.outcome)
            for e in reversed(events)
            if all(getattr(e, k) == v for k, v in where.items())
        ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("abcd-2345", "ABCD2345"), (" AB CD 23 45 ", "ABCD2345"), ("ABCD2345", "ABCD2345")],
)
def test_a_code_is_read_whatever_its_case_spaces_or_dash(typed: str, stored: str) -> None:
    assert enrolment.normalise_code(typed) == stored


@pytest.mark.parametrize("typed", ["ABCD234", "ABCD23456", "ABCD0345", "ABCDI345", "ABCD-O345"])
def test_a_code_with_a_wrong_length_or_an_ambiguous_letter_is_no_code(typed: str) -> None:
    assert enrolment.normalise_code(typed) is None


def test_codes_never_use_letters_that_look_alike() -> None:
    assert not set("01OI") & set(enrolment.JOIN_CODE_ALPHABET)
    assert len(set(enrolment.JOIN_CODE_ALPHABET)) == 32


def test_the_enrol_page_shows_the_code_its_url_and_a_qr_code(
    sign_in_as: SignIn, world: World
) -> None:
    client = sign_in_as(world.clinician_a)
    assert "has no join code" in client.get("/clinic/enrol").text
    code = make_code(client)
    page = client.get("/clinic/enrol").text
    assert f"http://testserver/join/{code.replace('-', '')}" in page
    assert '<svg role="img" viewBox=' in page
    assert "<title>QR code that opens the clinic" in page
    assert "Clinic A" in page


def test_the_enrol_page_needs_a_clinician(sign_in_as: SignIn, world: World) -> None:
    response = sign_in_as(None).get("/clinic/enrol", follow_redirects=False)
    assert response.status_code == 303
    assert sign_in_as(world.admin).get("/clinic/enrol", headers=HTML).status_code == 403


def test_a_new_patient_joins_the_clinic_from_the_landing_page(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    code = make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    landing = patient.get(f"/join/{code.lower()}")
    assert landing.status_code == 200
    assert "Your answers will be seen by the" in landing.text
    assert "care team at Clinic A" in landing.text
    started = patient.post(f"/join/{code.replace('-', '')}", follow_redirects=False)
    assert started.status_code == 303
    link = started.headers["location"].split("/")[2]
    patient_id = patient_id_of(database, link)
    assert clinic_of(database, patient_id) == world.clinic_a
    first_step = patient.get(f"/p/{link}/step/emergency").text
    assert "Your answers will be seen by the care team at Clinic A." in first_step
    assert ("join_clinic", "ok") in actions(database, patient_id=patient_id)
    assert patient_id in sign_in_as(world.clinician_a).get("/clinic").text
    assert patient_id not in sign_in_as(world.clinician_b).get("/clinic").text
    other = sign_in_as(world.clinician_b).get(f"/clinic/patients/{patient_id}", headers=HTML)
    assert other.status_code == 404


def test_a_self_started_patient_enters_the_code_and_confirms(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    code = make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    link = start(patient)
    patient_id = patient_id_of(database, link)
    first_step = patient.get(f"/p/{link}/step/emergency").text
    assert f'href="/p/{link}/join"' in first_step
    asked = patient.post(f"/p/{link}/join", data={"code": code.lower()})
    assert asked.status_code == 200
    assert "Share your answers with Clinic A?" in asked.text
    assert clinic_of(database, patient_id) is None  # nothing shared before the patient confirms
    done = patient.post(
        f"/p/{link}/join", data={"code": code, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert clinic_of(database, patient_id) == world.clinic_a
    assert "shared with the care team at Clinic A" in patient.get(f"/p/{link}/join").text
    assert ("join_clinic", "ok") in actions(
        database, patient_id=patient_id, clinic_id=world.clinic_a
    )


def test_a_wrong_code_gets_a_clear_message_and_changes_nothing(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    link = start(patient)
    wrong = patient.post(f"/p/{link}/join", data={"code": "ZZZZ-ZZZZ", "confirm": "yes"})
    assert wrong.status_code == 422
    assert "We could not find a clinic with that code" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert clinic_of(database, patient_id_of(database, link)) is None
    landing = patient.get("/join/ZZZZZZZZ", headers=HTML)
    assert landing.status_code == 404
    assert "We could not find a clinic with that code" in landing.text
    assert ("join_code", "not_found") in actions(database, patient_id=None)


def test_a_revoked_code_stops_working_and_a_new_one_replaces_it(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    clinician = sign_in_as(world.clinician_a)
    first = make_code(clinician)
    second = make_code(clinician)
    assert first != second
    assert sign_in_as(None).get(f"/join/{first}").status_code == 404
    assert sign_in_as(None).get(f"/join/{second}").status_code == 200
    clinician = sign_in_as(world.clinician_a)
    assert clinician.post("/clinic/enrol/revoke", follow_redirects=False).status_code == 303
    assert "has no join code" in clinician.get("/clinic/enrol").text
    assert sign_in_as(None).post(f"/join/{second}", follow_redirects=False).status_code == 404
    done = actions(database, clinic_id=world.clinic_a, patient_id=None)
    assert done.count(("join_code_new", "ok")) == 2
    assert ("join_code_revoke", "ok") in done


def test_a_code_never_moves_a_patient_who_already_has_a_clinic(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    code_b = make_code(sign_in_as(world.clinician_b))
    patient = sign_in_as(None)
    link = world.patient_a.link_token
    refused = patient.post(f"/p/{link}/join", data={"code": code_b, "confirm": "yes"})
    assert refused.status_code == 409
    assert "Clinic B" not in refused.text
    assert clinic_of(database, world.patient_a.id) == world.clinic_a
    assert "shared with the care team at Clinic A" in patient.get(f"/p/{link}/join").text
    with database.session() as session:
        stored = session.get(Patient, world.patient_a.id)
        assert stored is not None
        with pytest.raises(enrolment.AlreadyInClinicError):
            enrolment.attach_to_clinic(session, stored, world.clinic_b)
    assert clinic_of(database, world.patient_a.id) == world.clinic_a


def test_wrong_codes_are_limited_per_address(
    sign_in_as: SignIn, world: World, settings: Settings
) -> None:
    code = make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    for _ in range(settings.start_rate_limit):
        assert patient.post("/join", data={"code": "ZZZZZZZZ"}).status_code == 422
    refused = patient.post("/join", data={"code": code})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    # The right code is refused too while the limit holds: guessing gains nothing.
    assert patient.get(f"/join/{code}").status_code == 429
