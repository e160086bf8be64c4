"""Administrators manage where alerts go: e-mail addresses and signed webhooks, each clinic's
administrator for their clinic only; bad addresses are refused naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.care import channels
from spinepath.store.db import Database
from spinepath.store.models import AlertChannel, AuditEvent
from support.web import Person, World, add_user

SignIn = Callable[[Person | None], TestClient]


def _channels(database: Database) -> list[tuple[int, str, str, bool]]:
    with database.session() as session:
        return [
            (c.clinic_id, c.kind, c.target, c.active)
            for c in session.scalars(select(AlertChannel).order_by(AlertChannel.id))
        ]


def test_a_site_admin_adds_an_email_and_a_webhook_whose_secret_is_shown_once(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    admin = sign_in_as(world.admin)
    added = admin.post(
        "/admin/alerts",
        data={"kind": "email", "target": "Team@Clinic-A.example", "clinic": str(world.clinic_a)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    hook = admin.post(
        "/admin/alerts",
        data={
            "kind": "webhook",
            "target": "https://pager.example.org/in",
            "clinic": str(world.clinic_a),
            "include_reference": "yes",
        },
    )
    assert hook.status_code == 200
    with database.session() as session:
        secret = session.scalars(
            select(AlertChannel.secret).where(AlertChannel.kind == "webhook")
        ).one()
    assert secret is not None
    assert secret in hook.text
    assert secret not in admin.get("/admin/alerts").text, "shown once"
    assert _channels(database) == [
        (world.clinic_a, "email", "Team@clinic-a.example", True),
        (world.clinic_a, "webhook", "https://pager.example.org/in", True),
    ]
    with database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "add_alert_channel")
        ).all()
    assert len(actions) == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "email", "target": "not-an-address"}, "target", "email address"),
        ({"kind": "webhook", "target": "http://pager.example.org"}, "target", "https://"),
        ({"kind": "webhook", "target": "ftp://x.example"}, "target", "https://"),
        ({"kind": "sms", "target": "+441234"}, "kind", "Choose e-mail or webhook."),
        ({"kind": "email", "target": ""}, "target", "Enter an address"),
        ({"kind": "email", "target": "a@b.example", "clinic": "999"}, "clinic", "Choose one"),
    ],
)
def test_bad_channels_are_refused_naming_the_field(
    sign_in_as: SignIn,
    world: World,
    database: Database,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    admin = sign_in_as(world.admin)
    response = admin.post("/admin/alerts", data={"clinic": str(world.clinic_a), **data})
    assert response.status_code == 422
    assert message.lower() in response.text.lower()
    # The message sits next to its field, and the summary links to it.
    assert f'id="f-{field}-error"' in response.text
    assert f'href="#f-{field}"' in response.text
    assert _channels(database) == []


def test_a_clinic_admin_sees_and_stops_only_their_clinics_channels(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    with database.session() as session:
        for clinic in (world.clinic_a, world.clinic_b):
            channels.add_channel(session, clinic, "email", f"team{clinic}@example.org")
    clinic_admin = add_user(database, "boss@clinic-a.example", "admin", world.clinic_a)
    client = sign_in_as(clinic_admin)
    page = client.get("/admin/alerts").text
    assert f"team{world.clinic_a}@example.org" in page
    assert f"team{world.clinic_b}@example.org" not in page
    assert client.post("/admin/alerts/2/disable", follow_redirects=False).status_code == 404
    assert client.post("/admin/alerts/1/disable", follow_redirects=False).status_code == 303
    assert [active for *_, active in _channels(database)] == [False, True]
    # Adding always lands in their own clinic, whatever the form says.
    client.post(
        "/admin/alerts",
        data={"kind": "email", "target": "x@a.example", "clinic": str(world.clinic_b)},
    )
    assert _channels(database)[-1][0] == world.clinic_a


def test_clinicians_cannot_manage_alerts(sign_in_as: SignIn, world: World) -> None:
    clinician = sign_in_as(world.clinician_a)
    assert clinician.get("/admin/alerts").status_code == 403
    refused = clinician.post("/admin/alerts", data={"kind": "email", "target": "x@a.example"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("kind", "target", "allow_http", "stored"),
    [
        ("email", " Team@Example.org ", False, "Team@example.org"),
        ("webhook", "https://hooks.example.org/a?b=1", False, "https://hooks.example.org/a?b=1"),
        ("webhook", "http://127.0.0.1:9000/hook", True, "http://127.0.0.1:9000/hook"),
        ("webhook", "http://localhost/hook", True, "http://localhost/hook"),
        ("webhook", "http://10.0.0.5/hook", True, None),
        ("webhook", "http://127.0.0.1/hook", False, None),
        ("webhook", "https:///nohost", False, None),
    ],
)
def test_addresses_are_checked_the_same_way_everywhere(
    kind: channels.Kind, target: str, allow_http: bool, stored: str | None
) -> None:
    if stored is None:
        with pytest.raises(channels.ChannelError):
            channels.checked_target(kind, target, allow_http=allow_http)
    else:
        assert channels.checked_target(kind, target, allow_http=allow_http) == stored
