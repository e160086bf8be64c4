"""The care loop follows the patient's link and clinic: joining a clinic with a stopped
questionnaire or an urgent result alerts it; a re-issued link is the one reminders carry; a
revoked link ends reminders."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.care import reminders, sealing
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import Alert, Patient, ReminderContact
from support.web import Person, World

from .journey import EMERGENCY_ALL_NO, answer_all, post_step, start, submit
from .test_enrolment_join_code import make_code

SignIn = Callable[[Person | None], TestClient]


def _alerts(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(a.kind, a.clinic_id) for a in session.scalars(select(Alert).order_by(Alert.id))]


def _join(client: TestClient, link: str, code: str) -> None:
    done = client.post(
        f"/p/{link}/join", data={"code": code, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303


def test_joining_with_a_stopped_questionnaire_alerts_the_clinic(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    code = make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    link = start(patient)
    post_step(patient, link, "emergency", {**EMERGENCY_ALL_NO, "mimics.chest_pain": "yes"})
    assert _alerts(database) == [], "no clinic yet: nobody to tell"
    _join(patient, link, code)
    assert _alerts(database) == [("emergency_stop", world.clinic_a)]


def test_joining_with_an_urgent_result_alerts_and_a_routine_one_does_not(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    code = make_code(sign_in_as(world.clinician_a))
    patient = sign_in_as(None)
    routine = start(patient)
    answer_all(patient, routine)
    submit(patient, routine)
    _join(patient, routine, code)
    assert _alerts(database) == []
    urgent = start(patient)
    answer_all(patient, urgent, {"emergency": {"systemic.fever": "yes"}})
    submit(patient, urgent)
    _join(patient, urgent, code)
    assert [kind for kind, _ in _alerts(database)] in (["urgent_result"], ["emergency_result"])


def _contact(database: Database) -> ReminderContact:
    with database.session() as session:
        return session.scalars(select(ReminderContact)).one()


def test_a_reissued_link_is_the_one_reminders_carry_and_revoking_ends_them(
    sign_in_as: SignIn, world: World, database: Database, settings: Settings
) -> None:
    patient = sign_in_as(None)
    old = world.patient_a.link_token
    patient.post(f"/p/{old}/reminders", data={"email": "pat@example.org", "consent": "yes"})
    clinician = sign_in_as(world.clinician_a)
    page = clinician.post(f"/clinic/patients/{world.patient_a.id}/link").text
    new = re.search(r"/p/(spl_[A-Za-z0-9_-]+)", page)
    assert new is not None
    contact = _contact(database)
    opened = sealing.unseal(settings.secret_key_value(), contact.sealed_link, contact.patient_id)
    assert opened.endswith(f"/p/{new.group(1)}")
    assert old not in opened

    clinician.post(f"/clinic/patients/{world.patient_a.id}/link/revoke", follow_redirects=False)
    assert _contact(database).stopped_at is not None
    with database.session() as session:
        found = session.get(Patient, world.patient_a.id)
        assert found is not None
        assert reminders.contact_for(session, found.id) is not None
        assert repository.patient_by_link(session, new.group(1)) is None
