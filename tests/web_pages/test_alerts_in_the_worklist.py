"""Alerts in the clinician's workspace and the API: raised by the patient's own answers, first
in the worklist (page and API alike) until actioned, acknowledged by name, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.care.worker import Worker
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import Alert, AlertChannel, AuditEvent, OutboxMessage
from spinepath.web.pages.clinical import stop_reasons
from support.web import Person, World

from .journey import EMERGENCY_ALL_NO, answer_all, post_step, submit

SignIn = Callable[[Person | None], TestClient]
STOP = {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}


def stop_at_emergency(client: TestClient, link: str) -> None:
    """Answers yes to saddle numbness, then that it began 2 days ago: the questionnaire stops."""
    post_step(client, link, "emergency", STOP)
    response = post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "2"})
    assert response.headers["location"].endswith("/emergency"), response.headers["location"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _invite(database: Database, clinic: int, reference: str) -> str:
    with database.session() as session:
        _patient, link = repository.create_patient(session, clinic, reference=reference)
    return link


def _alerts(database: Database) -> list[Alert]:
    with database.session() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_an_emergency_stop_alerts_the_clinic_once_with_its_messages(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient
) -> None:
    with database.session() as session:
        session.add(AlertChannel(clinic_id=world.clinic_a, kind="email", target="t@a.example"))
    link = _invite(database, world.clinic_a, "A7")
    stop_at_emergency(client, link)
    stop_at_emergency(client, link)  # sent again
    [alert] = _alerts(database)
    assert (alert.kind, alert.clinic_id) == ("emergency_stop", world.clinic_a)
    assert alert.findings["findings"]
    with database.session() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
        assert (message.alert_id, message.recipient) == (alert.id, "t@a.example")


def test_a_self_started_patient_raises_no_alert(client: TestClient, database: Database) -> None:
    link = client.post("/start", follow_redirects=False).headers["location"].split("/")[2]
    stop_at_emergency(client, link)
    assert _alerts(database) == []


def test_an_urgent_result_alerts_and_a_routine_one_does_not(
    world: World, database: Database, client: TestClient
) -> None:
    urgent = _invite(database, world.clinic_a, "U1")
    answer_all(client, urgent, {"emergency": {"systemic.fever": "yes"}})
    assert submit(client, urgent).status_code == 303
    routine = _invite(database, world.clinic_a, "R1")
    answer_all(client, routine)
    assert submit(client, routine).status_code == 303
    kinds = [(a.patient_id, a.kind, a.level) for a in _alerts(database)]
    assert len(kinds) == 1
    assert kinds[0][1:] in {("urgent_result", "urgent"), ("emergency_result", "emergency")}


def _page_order(page: str, references: list[str]) -> list[str]:
    return sorted(references, key=lambda r: page.index(f">{r}<"))


def test_unseen_alerts_lead_then_seen_then_the_rest_on_page_and_api_alike(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient
) -> None:
    first, second = _invite(database, world.clinic_a, "S1"), _invite(database, world.clinic_a, "S2")
    for link in (first, second):
        stop_at_emergency(client, link)
    clinician = sign_in_as(world.clinician_a)
    alert_one, alert_two = _alerts(database)
    expected_before = ["S1", "S2", "A1"]
    assert _page_order(clinician.get("/clinic").text, ["A1", "S1", "S2"]) == expected_before

    assert (
        clinician.post(f"/clinic/alerts/{alert_one.id}/seen", follow_redirects=False).status_code
        == 303
    )
    page = clinician.get("/clinic").text
    assert _page_order(page, ["A1", "S1", "S2"]) == ["S2", "S1", "A1"]
    assert "New alert" in page
    assert "Seen, not actioned" in page

    api = clinician.get("/api/v1/patients").json()
    assert [p["reference"] for p in api][:3] == ["S2", "S1", "A1"]
    assert api[0]["stopped_at_emergency"] is True
    assert api[0]["emergency_findings"]
    assert (api[0]["open_alerts"], api[0]["unseen_alerts"]) == (1, 1)
    assert (api[1]["open_alerts"], api[1]["unseen_alerts"]) == (1, 0)
    assert api[2]["stopped_at_emergency"] is False

    clinician.post(f"/clinic/alerts/{alert_two.id}/actioned", follow_redirects=False)
    clinician.post(f"/clinic/alerts/{alert_one.id}/actioned", follow_redirects=False)
    with database.session() as session:
        done = session.scalars(select(Alert).order_by(Alert.id)).all()
        assert all(a.actioned_by == world.clinician_a.id for a in done)
        assert done[1].seen_by == world.clinician_a.id, "actioning also records seen"
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("alert_%"))
        ).all()
    assert sorted(actions) == ["alert_actioned", "alert_actioned", "alert_seen"]
    # Actioned, but the questionnaires are still stopped: emergency stops lead the rest.
    assert _page_order(clinician.get("/clinic").text, ["A1", "S1", "S2"])[-1] == "A1"


def test_alerts_of_another_clinic_cannot_be_touched(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient
) -> None:
    stop_at_emergency(client, _invite(database, world.clinic_a, "X1"))
    [alert] = _alerts(database)
    other = sign_in_as(world.clinician_b)
    assert other.post(f"/clinic/alerts/{alert.id}/seen", follow_redirects=False).status_code == 404
    assert other.post(f"/api/v1/alerts/{alert.id}/actioned").status_code == 404
    assert other.get("/api/v1/alerts").json() == []
    assert _alerts(database)[0].seen_at is None


def test_the_api_lists_alerts_for_tokens_but_only_clinicians_acknowledge(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient
) -> None:
    stop_at_emergency(client, _invite(database, world.clinic_a, "T1"))
    [alert] = _alerts(database)
    listed = client.get("/api/v1/alerts", headers=_bearer(world.token_a)).json()
    assert [a["id"] for a in listed] == [alert.id]
    refused = client.post(f"/api/v1/alerts/{alert.id}/seen", headers=_bearer(world.token_a))
    assert refused.status_code == 403
    clinician = sign_in_as(world.clinician_a)
    done = clinician.post(f"/api/v1/alerts/{alert.id}/actioned").json()
    assert done["actioned_by"] == world.clinician_a.id
    assert client.get("/api/v1/alerts", headers=_bearer(world.token_a)).json() == []
    assert len(client.get("/api/v1/alerts?state=all", headers=_bearer(world.token_a)).json()) == 1


def test_the_patient_page_shows_the_alert_and_who_acknowledged_it(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient
) -> None:
    link = _invite(database, world.clinic_a, "P1")
    stop_at_emergency(client, link)
    [alert] = _alerts(database)
    clinician = sign_in_as(world.clinician_a)
    page = clinician.get(f"/clinic/patients/{alert.patient_id}").text
    assert "Not seen yet" in page
    assert f'action="/clinic/alerts/{alert.id}/actioned"' in page
    clinician.post(f"/clinic/alerts/{alert.id}/actioned", follow_redirects=False)
    page = clinician.get(f"/clinic/patients/{alert.patient_id}").text
    assert "Actioned" in page
    assert world.clinician_a.email in page


def test_a_questionnaire_left_at_a_red_flag_alerts_once_it_has_been_idle(
    sign_in_as: SignIn, world: World, database: Database, client: TestClient, settings: Settings
) -> None:
    """Yes to saddle numbness, then gone before saying when it began: the worklist counts
    unknown as recent, so the clinic is alerted after the idle time, and only once."""
    worker = Worker(database, settings, stop_reasons=stop_reasons)
    with time_machine.travel(dt.datetime(2027, 5, 3, 9, 0, tzinfo=dt.UTC), tick=False) as t:
        link = _invite(database, world.clinic_a, "L1")
        assert post_step(client, link, "emergency", STOP).status_code == 303
        assert _alerts(database) == [], "not while the person may still be answering"
        t.shift(dt.timedelta(minutes=9))
        assert worker.run_once().abandoned_stop_alerts == 0
        t.shift(dt.timedelta(minutes=2))
        assert worker.run_once().abandoned_stop_alerts == 1
        assert worker.run_once().abandoned_stop_alerts == 0
        [alert] = _alerts(database)
        assert alert.kind == "emergency_stop"
        clinician = sign_in_as(world.clinician_a)
        clinician.post(f"/clinic/alerts/{alert.id}/actioned", follow_redirects=False)
        t.shift(dt.timedelta(minutes=5))
        assert worker.run_once().abandoned_stop_alerts == 0, "actioned stays actioned"
        # They come back and carry on: answering "months ago" is no emergency stop.
        post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "200"})
        t.shift(dt.timedelta(minutes=30))
        assert worker.run_once().abandoned_stop_alerts == 0
    assert len(_alerts(database)) == 1


def test_a_finished_safe_questionnaire_never_raises_an_idle_alert(
    world: World, database: Database, client: TestClient, settings: Settings
) -> None:
    worker = Worker(database, settings, stop_reasons=stop_reasons)
    with time_machine.travel(dt.datetime(2027, 5, 3, 9, 0, tzinfo=dt.UTC), tick=False) as t:
        link = _invite(database, world.clinic_a, "N1")
        post_step(client, link, "emergency", EMERGENCY_ALL_NO)
        t.shift(dt.timedelta(hours=1))
        assert worker.run_once().abandoned_stop_alerts == 0
    assert _alerts(database) == []
