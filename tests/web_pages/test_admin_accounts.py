"""Administration of users, clinics and API tokens: who may do what (clinicians never; a clinic's
administrator only in their clinic; a site administrator everywhere), that every change is
audited, and that disabling an account or ending its sessions ends a signed-in session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from spinepath.settings import Settings
from spinepath.store import repository, sessions
from spinepath.store.db import Database
from spinepath.store.models import ApiToken, User
from support.web import (
    PASSWORD,
    SESSION_COOKIE,
    Person,
    World,
    add_user,
    session_cookie,
)

SignIn = Callable[[Person | None], TestClient]
HTML = {"accept": "text/html"}
NEW_PASSWORD = "plum tractor ocean lantern 47"
CROSS_SITE = {"sec-fetch-site": "cross-site"}


@dataclass(frozen=True)
class Admins:
    clinic_a: Person
    site: Person


@pytest.fixture
def admins(world: World, database: Database) -> Admins:
    return Admins(
        clinic_a=add_user(database, "admin@clinic-a.example", "admin", world.clinic_a),
        site=world.admin,
    )


@pytest.fixture
def clinician_browser(
    app: FastAPI, world: World, database: Database, settings: Settings
) -> Iterator[TestClient]:
    """Clinician A, signed in in a browser of their own."""
    with TestClient(app) as browser:
        cookie = session_cookie(database, settings, world.clinician_a.id)
        browser.cookies.set(SESSION_COOKIE, cookie)
        assert browser.get("/clinic", follow_redirects=False).status_code == 200
        yield browser


def _token_id(database: Database, clinic_id: int) -> int:
    with database.session() as session:
        (token,) = repository.list_api_tokens(session, clinic_id)
        return token.id


def _user(database: Database, user_id: int) -> User:
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        session.expunge(user)
        return user


def _actions(database: Database, actor: Person) -> list[str]:
    with database.session() as session:
        events = repository.list_audit(session, limit=None)
        return [e.action for e in events if e.actor_kind == "admin" and e.actor_id == str(actor.id)]


# Who may do what --------------------------------------------------------------------------------


def test_the_admin_pages_send_a_signed_out_visitor_to_sign_in(client: TestClient) -> None:
    for path in ("/admin", "/admin/users", "/admin/clinics", "/admin/tokens", "/admin/wording"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path


def test_a_clinician_is_refused_every_admin_page_and_action(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    client = sign_in_as(world.clinician_a)
    for path in ("/admin", "/admin/users", "/admin/clinics", "/admin/tokens", "/admin/wording"):
        assert client.get(path, headers=HTML).status_code == 403, path
    target = world.clinician_b.id
    for path in (
        f"/admin/users/{target}/disable",
        f"/admin/users/{target}/end-sessions",
        "/admin/clinics",
        "/admin/tokens",
        f"/admin/tokens/{_token_id(database, world.clinic_a)}/revoke",
    ):
        assert client.post(path, data={"name": "x"}).status_code == 403, path
    assert _user(database, target).active


def test_a_clinic_admin_sees_only_their_clinics_users_and_tokens(
    sign_in_as: SignIn, world: World, admins: Admins
) -> None:
    client = sign_in_as(admins.clinic_a)
    users = client.get("/admin/users").text
    assert world.clinician_a.email in users
    assert admins.clinic_a.email in users
    assert world.clinician_b.email not in users
    assert world.admin.email not in users
    tokens = client.get("/admin/tokens").text
    assert "<td>Clinic A</td>" in tokens
    assert "Clinic B" not in tokens


def test_a_clinic_admin_cannot_reach_another_clinics_accounts_or_tokens(
    sign_in_as: SignIn, world: World, admins: Admins, database: Database
) -> None:
    client = sign_in_as(admins.clinic_a)
    other = world.clinician_b.id
    assert client.get(f"/admin/users/{other}", headers=HTML).status_code == 404
    assert client.get(f"/admin/users/{world.admin.id}", headers=HTML).status_code == 404
    assert client.post(f"/admin/users/{other}/disable").status_code == 404
    assert client.post(f"/admin/users/{other}/end-sessions").status_code == 404
    password = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post(f"/admin/users/{other}/password", data=password).status_code == 404
    token_b = _token_id(database, world.clinic_b)
    assert client.post(f"/admin/tokens/{token_b}/revoke").status_code == 404
    assert _user(database, other).active
    with database.session() as session:
        assert repository.api_token_by_secret(session, world.token_b) is not None


def test_only_a_site_admin_adds_clinics_and_manages_wording(
    sign_in_as: SignIn, admins: Admins
) -> None:
    clinic_admin = sign_in_as(admins.clinic_a)
    assert clinic_admin.post("/admin/clinics", data={"name": "Clinic C"}).status_code == 403
    assert clinic_admin.get("/admin/wording", headers=HTML).status_code == 403
    site_admin = sign_in_as(admins.site)
    added = site_admin.post("/admin/clinics", data={"name": "Clinic C"}, follow_redirects=False)
    assert added.status_code == 303
    assert "Clinic C" in site_admin.get("/admin/clinics").text
    assert site_admin.get("/admin/wording").status_code == 200


def test_a_site_admin_sees_every_clinics_users(
    sign_in_as: SignIn, world: World, admins: Admins
) -> None:
    users = sign_in_as(admins.site).get("/admin/users").text
    for person in (world.clinician_a, world.clinician_b, admins.clinic_a, world.admin):
        assert person.email in users


def test_the_navigation_offers_administration_to_admins_only(
    sign_in_as: SignIn, world: World, admins: Admins
) -> None:
    assert 'href="/admin"' in sign_in_as(admins.clinic_a).get("/admin/audit").text
    assert 'href="/admin"' not in sign_in_as(world.clinician_a).get("/clinic").text


# Accounts -------------------------------------------------------------------------------------


def test_a_clinic_admins_new_user_always_belongs_to_their_clinic(
    sign_in_as: SignIn, world: World, admins: Admins, database: Database
) -> None:
    client = sign_in_as(admins.clinic_a)
    response = client.post(
        "/admin/users",
        data={
            "email": "New.Clinician@clinic-a.example",
            "name": "New Clinician",
            "role": "clinician",
            "clinic": str(world.clinic_b),
            "password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with database.session() as session:
        user = repository.user_by_email(session, "new.clinician@clinic-a.example")
        assert user.clinic_id == world.clinic_a
        assert repository.authenticate(session, user.email, NEW_PASSWORD) is not None
    assert "add_user" in _actions(database, admins.clinic_a)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "not an address"}, "email", "must have an @-sign"),
        ({"email": "a@clinic-a.example"}, "email", "already exists"),
        ({"password": "password1234"}, "password", "too easy to guess"),
        ({"password": "short"}, "password", "at least 12 characters"),
        ({"role": "superuser"}, "role", "Choose a role"),
        ({"clinic": ""}, "clinic", "a clinician belongs to a clinic"),
    ],
)
def test_a_bad_new_user_is_refused_naming_the_field(
    sign_in_as: SignIn,
    world: World,
    admins: Admins,
    database: Database,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    data = {
        "email": "someone@clinic-b.example",
        "role": "clinician",
        "clinic": str(world.clinic_b),
        "password": NEW_PASSWORD,
        **change,
    }
    response = sign_in_as(admins.site).post("/admin/users", data=data)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.text
    assert message in response.text
    with database.session() as session, pytest.raises(LookupError):
        repository.user_by_email(session, "someone@clinic-b.example")


def test_disabling_an_account_ends_its_signed_in_session_at_once(
    sign_in_as: SignIn,
    world: World,
    admins: Admins,
    database: Database,
    clinician_browser: TestClient,
) -> None:
    admin = sign_in_as(admins.clinic_a)
    page = admin.get(f"/admin/users/{world.clinician_a.id}").text
    assert 'id="open-sessions">1<' in page
    response = admin.post(f"/admin/users/{world.clinician_a.id}/disable", follow_redirects=False)
    assert response.status_code == 303
    assert clinician_browser.get("/clinic", follow_redirects=False).status_code == 303
    with database.session() as session:
        assert sessions.live_sessions(session, world.clinician_a.id) == 0
        assert repository.authenticate(session, world.clinician_a.email, PASSWORD) is None
    assert not _user(database, world.clinician_a.id).active
    enabled = admin.post(f"/admin/users/{world.clinician_a.id}/enable", follow_redirects=False)
    assert enabled.status_code == 303
    # Enabling lets the account sign in again; the ended session stays ended.
    assert clinician_browser.get("/clinic", follow_redirects=False).status_code == 303
    assert _actions(database, admins.clinic_a)[:2] == ["enable_user", "disable_user"]


def test_ending_the_sessions_signs_the_user_out_everywhere(
    sign_in_as: SignIn,
    world: World,
    admins: Admins,
    database: Database,
    clinician_browser: TestClient,
) -> None:
    admin = sign_in_as(admins.site)
    response = admin.post(f"/admin/users/{world.clinician_a.id}/end-sessions")
    assert response.status_code == 200
    assert 'id="open-sessions">0<' in response.text
    assert clinician_browser.get("/clinic", follow_redirects=False).status_code == 303
    assert _user(database, world.clinician_a.id).active
    assert "end_sessions" in _actions(database, admins.site)


def test_a_new_password_is_checked_and_ends_the_old_sessions(
    sign_in_as: SignIn,
    world: World,
    admins: Admins,
    database: Database,
    clinician_browser: TestClient,
) -> None:
    admin = sign_in_as(admins.clinic_a)
    url = f"/admin/users/{world.clinician_a.id}/password"
    weak = admin.post(url, data={"password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 422
    assert 'id="f-password-error"' in weak.text
    differ = admin.post(url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422
    assert 'id="f-confirm-error"' in differ.text
    assert clinician_browser.get("/clinic", follow_redirects=False).status_code == 200
    done = admin.post(url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 200
    assert clinician_browser.get("/clinic", follow_redirects=False).status_code == 303
    with database.session() as session:
        assert repository.authenticate(session, world.clinician_a.email, NEW_PASSWORD) is not None
        assert repository.authenticate(session, world.clinician_a.email, PASSWORD) is None
    assert _actions(database, admins.clinic_a) == ["set_password"]


def test_an_admin_cannot_disable_their_own_account(
    sign_in_as: SignIn, admins: Admins, database: Database
) -> None:
    response = sign_in_as(admins.site).post(f"/admin/users/{admins.site.id}/disable")
    assert response.status_code == 409
    assert "cannot disable your own account" in response.text
    assert _user(database, admins.site.id).active


def test_a_cross_site_post_changes_nothing(
    sign_in_as: SignIn, world: World, admins: Admins, database: Database
) -> None:
    admin = sign_in_as(admins.site)
    for path, data in (
        (f"/admin/users/{world.clinician_a.id}/disable", {}),
        ("/admin/clinics", {"name": "Forged Clinic"}),
        ("/admin/tokens", {"name": "forged", "clinic": str(world.clinic_a)}),
    ):
        assert admin.post(path, data=data, headers=CROSS_SITE).status_code == 403, path
    assert _user(database, world.clinician_a.id).active
    with database.session() as session:
        assert "Forged Clinic" not in [c.name for c in repository.list_clinics(session)]
        assert len(repository.list_api_tokens(session, world.clinic_a)) == 1
    assert _actions(database, admins.site) == []


# API tokens -----------------------------------------------------------------------------------


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
    sign_in_as: SignIn, world: World, admins: Admins, database: Database
) -> None:
    admin = sign_in_as(admins.clinic_a)
    created = admin.post("/admin/tokens", data={"name": "ehr", "clinic": str(world.clinic_b)})
    assert created.status_code == 200
    secret = created.text.split('<code id="token" class="link-text">')[1].split("<")[0]
    assert secret.startswith("spt_")
    with database.session() as session:
        token = repository.api_token_by_secret(session, secret)
        assert token is not None
        assert token.clinic_id == world.clinic_a  # never the clinic named in the form
        token_id = token.id
    assert secret not in admin.get("/admin/tokens").text
    api = admin.get("/api/v1/patients", headers={"authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    revoked = admin.post(f"/admin/tokens/{token_id}/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    with database.session() as session:
        assert repository.api_token_by_secret(session, secret) is None
        stored = session.get(ApiToken, token_id)
        assert stored is not None
        assert stored.revoked
    assert _actions(database, admins.clinic_a) == ["revoke_token", "create_token"]


def test_a_token_needs_a_name_and_a_clinic_in_scope(
    sign_in_as: SignIn, admins: Admins, world: World
) -> None:
    admin = sign_in_as(admins.site)
    nameless = admin.post("/admin/tokens", data={"name": "", "clinic": str(world.clinic_a)})
    assert nameless.status_code == 422
    assert 'id="f-name-error"' in nameless.text
    nowhere = admin.post("/admin/tokens", data={"name": "x", "clinic": "999999"})
    assert nowhere.status_code == 422
    assert 'id="f-clinic-error"' in nowhere.text
