"""Clinician sign-in and sign-out (argon2 password hashes via pwdlib, rate-limited).

The session cookie (Starlette's signed cookie) holds only a random session token. The session
lives in the database (``store.sessions``): sign-out revokes it, so a copy of the cookie kept
after sign-out no longer works, and it ends after ``session_idle_seconds`` without a request or
``session_max_age_seconds`` after sign-in.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy.orm import Session

from spinepath.settings import Settings
from spinepath.store import repository, sessions
from spinepath.store.models import User, utcnow
from spinepath.store.passwords import hash_password, token_digest, verify_password
from spinepath.web.deps import SESSION_TOKEN_KEY, keep_despite_rollback, session_token
from spinepath.web.security import login_wait_seconds, rate_limit_keys

__all__ = [
    "InvalidCredentialsError",
    "LoginRateLimitedError",
    "hash_password",
    "sign_in",
    "sign_out",
    "verify_password",
]


class InvalidCredentialsError(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


class LoginRateLimitedError(Exception):
    """Too many failed sign-ins for this e-mail address or client address: wait and retry."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


def sign_in(request: Request, session: Session, email: str, password: str) -> User:
    """Checks the rate limit and the password, then starts a fresh session.

    ``session`` must be the request's ``DbSession``. Raises InvalidCredentialsError or
    LoginRateLimitedError (answer 429).
    """
    settings: Settings = request.app.state.settings
    client = request.client.host if request.client else None
    keys = rate_limit_keys(email, client)
    who = repository.normalise_email(email)
    # Counting and recording happen in the request's own transaction, which the login page
    # commits whatever the outcome: concurrent attempts are counted one after another, never
    # all against the same stale count.
    repository.lock_rate_keys(session, keys)
    wait = login_wait_seconds(session, settings, keys)
    if wait > 0:
        _audit_sign_in(request, who, outcome="rate_limited")
        raise LoginRateLimitedError(wait)
    user = repository.authenticate(session, email, password)
    if user is None:
        _audit_sign_in(request, who, outcome="failed")
        forget_before = utcnow() - dt.timedelta(seconds=settings.login_rate_window_seconds)
        repository.record_failed_login(session, keys, forget_before=forget_before)
        raise InvalidCredentialsError
    repository.clear_failed_logins(session, keys[:1])
    old = session_token(request)
    if old is not None:
        # A token planted before sign-in must not become a signed-in session (fixation).
        sessions.end_session(session, old)
    request.session.clear()
    lifetime = dt.timedelta(seconds=settings.session_max_age_seconds)
    request.session[SESSION_TOKEN_KEY] = sessions.start_session(session, user, lifetime=lifetime)
    repository.record_audit(
        session,
        actor_kind=user.role,
        actor_id=user.id,
        action="sign_in",
        clinic_id=user.clinic_id,
        route="POST /login",
    )
    return user


def _audit_sign_in(request: Request, email: str, *, outcome: str) -> None:
    # A refused sign-in is logged in its own transaction, as the request's is rolled back. The
    # address is kept only as a digest: enough to see repeated attempts on one account.
    keep_despite_rollback(
        request,
        lambda audit_session: repository.record_audit(
            audit_session,
            actor_kind="anonymous",
            actor_id=token_digest(email)[:16],
            action="sign_in",
            route="POST /login",
            outcome=outcome,
        ),
    )


def sign_out(request: Request, session: Session) -> None:
    """Ends the session for every copy of its cookie, not only this browser's."""
    token = session_token(request)
    if token is not None:
        user = sessions.session_user(session, token, idle=dt.timedelta.max)
        sessions.end_session(session, token)
        if user is not None:
            repository.record_audit(
                session,
                actor_kind=user.role,
                actor_id=user.id,
                action="sign_out",
                clinic_id=user.clinic_id,
                route="POST /logout",
            )
    request.session.clear()
