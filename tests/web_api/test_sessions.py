"""Clinician sessions live in the database: signing out, disabling the account or changing the
password ends them for every copy of the cookie, and they end when idle or too old."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import User, UserSession
from support.web import PASSWORD, SESSION_COOKIE, Person, World, signed_session_cookie

START = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def _sign_in(client: TestClient, person: Person, *, keep_cookies: bool = False) -> str:
    if not keep_cookies:
        client.cookies.clear()
    response = client.post(
        "/login", data={"email": person.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    # The cookie the server just set (a test may also have set one by hand).
    cookie = response.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    return cookie


def _with_cookie(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    return client.get("/api/v1/patients").status_code


def _settings(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


def test_signing_out_ends_the_session_for_a_copy_of_the_cookie(
    client: TestClient, world: World
) -> None:
    cookie = _sign_in(client, world.clinician_a)
    assert _with_cookie(client, cookie) == 200
    client.post("/logout")
    # The copy kept from before sign-out is still validly signed, but the session has ended.
    assert _with_cookie(client, cookie) == 401


def test_the_cookie_carries_only_a_random_token_and_the_database_only_its_hash(
    client: TestClient, world: World, database: Database
) -> None:
    cookie = _sign_in(client, world.clinician_a)
    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert set(payload) == {"sid"}  # no user id, no role, no sign-in time
    assert payload["sid"].startswith("sps_")
    with database.session() as session:
        stored = [row.token_hash for row in session.scalars(select(UserSession))]
    assert payload["sid"] not in stored
    assert len(stored) == 1


def test_a_session_ends_after_the_idle_timeout(client: TestClient, world: World) -> None:
    idle = _settings(client).session_idle_seconds
    with time_machine.travel(START, tick=False) as traveller:
        cookie = _sign_in(client, world.clinician_a)
        traveller.shift(dt.timedelta(seconds=idle - 90))
        assert _with_cookie(client, cookie) == 200
        traveller.shift(dt.timedelta(seconds=idle - 90))
        assert _with_cookie(client, cookie) == 200  # activity keeps it alive
        traveller.shift(dt.timedelta(seconds=idle + 1))
        assert _with_cookie(client, cookie) == 401
        traveller.shift(dt.timedelta(seconds=1))
        assert _with_cookie(client, cookie) == 401  # and it stays ended


def test_an_active_session_still_ends_at_its_absolute_lifetime(
    client: TestClient, world: World
) -> None:
    settings = _settings(client)
    step = dt.timedelta(seconds=settings.session_idle_seconds // 2)
    with time_machine.travel(START, tick=False) as traveller:
        cookie = _sign_in(client, world.clinician_a)
        used = dt.timedelta(0)
        while used + step < dt.timedelta(seconds=settings.session_max_age_seconds):
            traveller.shift(step)
            used += step
            assert _with_cookie(client, cookie) == 200, used
        traveller.shift(dt.timedelta(seconds=settings.session_max_age_seconds) - used)
        assert _with_cookie(client, cookie) == 401


def test_disabling_an_account_ends_its_sessions_and_enabling_it_does_not_revive_them(
    client: TestClient, world: World, database: Database
) -> None:
    cookie = _sign_in(client, world.clinician_a)
    with database.session() as session:
        user = session.get(User, world.clinician_a.id)
        assert user is not None
        repository.set_user_active(session, user, False)
    assert _with_cookie(client, cookie) == 401
    with database.session() as session:
        user = session.get(User, world.clinician_a.id)
        assert user is not None
        repository.set_user_active(session, user, True)
    assert _with_cookie(client, cookie) == 401
    assert _with_cookie(client, _sign_in(client, world.clinician_a)) == 200


def test_a_new_password_ends_the_sessions_of_the_old_one(
    client: TestClient, world: World, database: Database
) -> None:
    other_device = _sign_in(client, world.clinician_a)
    with database.session() as session:
        user = session.get(User, world.clinician_a.id)
        assert user is not None
        repository.set_password(session, user, "a completely new passphrase 42")
    assert _with_cookie(client, other_device) == 401


def test_a_token_planted_before_sign_in_never_becomes_the_session(
    client: TestClient, world: World, database: Database, sign_in_as: Callable[[Person], object]
) -> None:
    # An attacker's own session token, set in the victim's browser before they sign in.
    sign_in_as(world.clinician_b)
    planted = client.cookies.get(SESSION_COOKIE)
    assert planted is not None
    after = _sign_in(client, world.clinician_a, keep_cookies=True)
    assert after != planted
    assert _with_cookie(client, planted) == 401


def test_a_made_up_token_is_refused(client: TestClient, world: World) -> None:
    forged = signed_session_cookie(_settings(client).secret_key_value(), "sps_made-up")
    assert _with_cookie(client, forged) == 401
