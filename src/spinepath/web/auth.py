"""Clinician sign-in and sign-out (argon2 password hashes via pwdlib, rate-limited).

The session cookie (Starlette's signed cookie) holds only the user id and the sign-in time;
a session older than ``session_max_age_seconds`` is refused even if the cookie is still sent.
"""

from __future__ import annotations

import datetime as dt
import time

from fastapi import Request
from sqlalchemy.orm import Session

from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import User, utcnow
from spinepath.store.passwords import hash_password, verify_password
from spinepath.web.deps import (
    SESSION_SIGNED_IN_AT_KEY,
    SESSION_USER_KEY,
    keep_despite_rollback,
    session_user_id,
)
from spinepath.web.security import login_allowed, rate_limit_keys

__all__ = [
    "InvalidCredentialsError",
    "LoginRateLimitedError",
    "hash_password",
    "session_user_id",
    "sign_in",
    "sign_out",
    "verify_password",
]


class InvalidCredentialsError(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


class LoginRateLimitedError(Exception):
    """Too many failed sign-ins for this e-mail address or client address."""


def sign_in(request: Request, session: Session, email: str, password: str) -> User:
    """Checks the rate limit and the password, then starts a fresh session.

    ``session`` must be the request's ``DbSession``. Raises InvalidCredentialsError or
    LoginRateLimitedError (answer 429).
    """
    settings: Settings = request.app.state.settings
    client = request.client.host if request.client else None
    keys = rate_limit_keys(email, client)
    if not login_allowed(session, settings, keys):
        raise LoginRateLimitedError
    user = repository.authenticate(session, email, password)
    if user is None:
        # Kept even when the caller answers with an error (and so rolls back).
        forget_before = utcnow() - dt.timedelta(seconds=settings.login_rate_window_seconds)
        keep_despite_rollback(
            request,
            lambda failed: repository.record_failed_login(
                failed, keys, forget_before=forget_before
            ),
        )
        raise InvalidCredentialsError
    repository.clear_failed_logins(session, keys[:1])
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    request.session[SESSION_SIGNED_IN_AT_KEY] = int(time.time())
    return user


def sign_out(request: Request) -> None:
    request.session.clear()
