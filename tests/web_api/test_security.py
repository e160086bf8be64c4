"""Security: headers, CSRF, session cookies and expiry, sign-in rate limit, secrets, settings."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from pydantic import ValidationError

from spinepath.settings import SECRET_KEY_FILE, SecretKeyMissingError, Settings
from spinepath.web.security import CLIENT_LIMIT_FACTOR, csrf_allows
from support.web import PASSWORD, World, create_test_app, make_settings

LOGIN = "/login"


def login(client: TestClient, email: str, password: str) -> int:
    response = client.post(
        LOGIN, data={"email": email, "password": password}, follow_redirects=False
    )
    return response.status_code


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for response in (client.get("/docs"), client.get("/api/v1/nowhere"), client.get("/")):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_hsts_is_sent_outside_development_only(database_url: str, tmp_path: Path) -> None:
    production = make_settings(database_url, tmp_path, environment="production")
    development = make_settings(database_url, tmp_path, environment="development")
    with TestClient(create_test_app(production)) as client:
        assert "max-age=" in client.get("/docs").headers["strict-transport-security"]
    with TestClient(create_test_app(development)) as client:
        assert "strict-transport-security" not in client.get("/docs").headers


@pytest.mark.parametrize(
    ("method", "sec_fetch_site", "origin", "allowed"),
    [
        ("GET", "cross-site", None, True),
        ("POST", "same-origin", None, True),
        ("POST", "none", None, True),
        ("POST", "cross-site", None, False),
        ("POST", "same-site", None, False),
        ("DELETE", "cross-site", None, False),
        ("POST", None, "http://testserver", True),
        ("POST", None, "https://evil.example", False),
        ("POST", None, "null", False),
        ("POST", None, None, True),
    ],
)
def test_csrf_check(
    method: str, sec_fetch_site: str | None, origin: str | None, allowed: bool
) -> None:
    assert csrf_allows(method, sec_fetch_site, origin, "testserver") is allowed


def test_a_cross_site_post_is_refused_before_it_reaches_a_route(
    client: TestClient, world: World
) -> None:
    response = client.post(
        LOGIN,
        data={"email": world.clinician_a.email, "password": PASSWORD},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/assessments", json={}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_the_session_cookie_is_httponly_lax_and_secure_outside_development(
    database_url: str, tmp_path: Path, world: World
) -> None:
    settings = make_settings(database_url, tmp_path, environment="production", cookie_secure=None)
    with TestClient(create_test_app(settings), base_url="https://testserver") as client:
        response = client.post(
            LOGIN,
            data={"email": world.clinician_a.email, "password": PASSWORD},
            follow_redirects=False,
        )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie


@pytest.fixture
def strict_client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """An app that allows two failed sign-ins per window (argon2 makes each attempt slow)."""
    settings = make_settings(database_url, tmp_path, login_rate_limit=2)
    with TestClient(create_test_app(settings)) as client:
        yield client


def test_sign_in_is_rate_limited_per_account(strict_client: TestClient, world: World) -> None:
    for _ in range(2):
        assert login(strict_client, world.clinician_a.email, "wrong password!") == 401
    assert login(strict_client, world.clinician_a.email, PASSWORD) == 429
    assert login(strict_client, world.clinician_b.email, PASSWORD) == 303


def test_sign_in_is_rate_limited_per_client_address(
    strict_client: TestClient, world: World
) -> None:
    attempts = 2 * CLIENT_LIMIT_FACTOR
    for number in range(attempts):
        assert login(strict_client, f"nobody{number}@example.org", "wrong password!") == 401
    assert login(strict_client, world.clinician_b.email, PASSWORD) == 429


def test_the_rate_limit_window_passes(strict_client: TestClient, world: World) -> None:
    settings: Settings = strict_client.app.state.settings  # type: ignore[attr-defined]
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False) as traveller:
        for _ in range(2):
            login(strict_client, world.clinician_a.email, "wrong password!")
        assert login(strict_client, world.clinician_a.email, PASSWORD) == 429
        traveller.shift(dt.timedelta(seconds=settings.login_rate_window_seconds + 1))
        assert login(strict_client, world.clinician_a.email, PASSWORD) == 303


def test_a_forged_session_cookie_is_ignored(client: TestClient, world: World) -> None:
    client.cookies.set("spinepath_session", "eyJ1c2VyX2lkIjogMX0=.forged.signature")
    assert client.get("/api/v1/patients").status_code == 401


def test_no_password_or_token_reaches_the_logs(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login(client, world.clinician_a.email, PASSWORD)
    login(client, world.clinician_a.email, "a wrong password")
    client.get(f"/p/{world.patient_a.link_token}")
    client.get("/api/v1/patients", headers={"Authorization": f"Bearer {world.token_a}"})
    # The test's own HTTP client logs the URLs it requests; only the server side counts.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    )
    for secret in (PASSWORD, "a wrong password", world.patient_a.link_token, world.token_a):
        assert secret not in logged


def test_the_audit_log_never_holds_a_link_token(client: TestClient, world: World) -> None:
    client.get(f"/p/{world.patient_a.link_token}")
    from spinepath.store import repository

    with client.app.state.database.session() as session:  # type: ignore[attr-defined]
        routes = [e.route for e in repository.list_audit(session)]
    assert routes
    assert all(world.patient_a.link_token not in route for route in routes)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_secret_key_is_required_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SPINEPATH_SECRET_KEY is required"):
        Settings(environment=environment)


def test_a_short_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")


def test_development_makes_and_keeps_a_secret_key(tmp_path: Path) -> None:
    first = Settings(environment="development", data_dir=tmp_path).secret_key_value()
    second = Settings(environment="development", data_dir=tmp_path).secret_key_value()
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / SECRET_KEY_FILE).stat().st_mode & 0o077 == 0


def test_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SPINEPATH_ENVIRONMENT", "production")
    monkeypatch.setenv("SPINEPATH_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("SPINEPATH_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.environment == "production"
    assert settings.secure_cookies
    assert settings.database_url == f"sqlite+pysqlite:///{tmp_path}/spinepath.db"


def test_the_secret_key_error_type_names_the_setting() -> None:
    assert issubclass(SecretKeyMissingError, ValueError)


def test_an_oversized_form_is_refused_before_it_is_read(client: TestClient) -> None:
    limit: int = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    response = client.post(LOGIN, data={"email": "x" * (limit + 1), "password": "p"})
    assert response.status_code == 413
