"""Clinicians' signed-in sessions, kept in the database so that they can be ended.

Signing in creates a row and gives the browser a random token (in the signed session cookie);
each request looks the token up. A session ends when it is revoked (sign-out, the account is
disabled, the password is changed), when it has been idle too long, or when it reaches its
absolute lifetime, whichever comes first. Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spinepath.store.models import User, UserSession, utcnow
from spinepath.store.passwords import new_secret_token, token_digest

SESSION_TOKEN_PREFIX = "sps_"  # noqa: S105 - a prefix, not a secret
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)
"""``last_seen_at`` is rewritten at most once a minute: a page load need not be a write."""


def start_session(session: Session, user: User, *, lifetime: dt.timedelta) -> str:
    """A new session for ``user``; returns the raw token, which is never stored."""
    raw = new_secret_token(SESSION_TOKEN_PREFIX)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=token_digest(raw),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return raw


def session_user(session: Session, raw_token: str, *, idle: dt.timedelta) -> User | None:
    """The active user of a live session, or None; a live session's last-seen time moves on."""
    row = session.scalar(
        select(UserSession).where(UserSession.token_hash == token_digest(raw_token))
    )
    now = utcnow()
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    if now - row.last_seen_at > idle:
        row.revoked_at = now
        return None
    if not row.user.active:
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
    return row.user


def end_session(session: Session, raw_token: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_digest(raw_token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_user_sessions(session: Session, user_id: int) -> int:
    """Revokes every live session of a user; returns how many there were."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, user_id: int) -> int:
    now = utcnow()
    rows = session.scalars(
        select(UserSession).where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
    )
    return len(list(rows))
