"""Account administration: users with their session counts, clinics, API tokens, by scope.

``clinic_id`` narrows every listing and lookup to one clinic (a clinic's administrator);
``None`` means every clinic (a system administrator). A record outside the scope is not found,
so an administrator cannot act on another clinic's accounts by guessing ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from spinepath.store.models import ApiToken, Clinic, User, UserSession, utcnow


@dataclass(frozen=True)
class UserRow:
    user: User
    last_sign_in: dt.datetime | None
    open_sessions: int


def _live(now: dt.datetime, idle: dt.timedelta) -> list[ColumnElement[bool]]:
    # The same tests as sessions.session_user: not revoked, not expired, not idle too long.
    return [
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        UserSession.last_seen_at > now - idle,
    ]


def list_users(
    session: Session, clinic_id: int | None, *, idle: dt.timedelta, user_id: int | None = None
) -> list[UserRow]:
    """Accounts in scope (or the one ``user_id``), by e-mail address, with their latest sign-in
    and live sessions."""
    now = utcnow()
    # Every session starts with a sign-in, so the newest session is the latest sign-in.
    last = (
        select(UserSession.user_id, func.max(UserSession.created_at).label("at"))
        .group_by(UserSession.user_id)
        .subquery()
    )
    live = (
        select(UserSession.user_id, func.count().label("n"))
        .where(*_live(now, idle))
        .group_by(UserSession.user_id)
        .subquery()
    )
    query = (
        select(User, last.c.at, live.c.n)
        .outerjoin(last, last.c.user_id == User.id)
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.email)
    )
    if clinic_id is not None:
        query = query.where(User.clinic_id == clinic_id)
    if user_id is not None:
        query = query.where(User.id == user_id)
    return [
        UserRow(user=user, last_sign_in=at, open_sessions=int(count or 0))
        for user, at, count in session.execute(query)
    ]


def user_in_scope(session: Session, user_id: int, clinic_id: int | None) -> User | None:
    """Any account (active or not) the administrator may manage, or None."""
    user = session.get(User, user_id)
    if user is None or (clinic_id is not None and user.clinic_id != clinic_id):
        return None
    return user


def clinics_in_scope(session: Session, clinic_id: int | None) -> list[Clinic]:
    query = select(Clinic).order_by(Clinic.name)
    if clinic_id is not None:
        query = query.where(Clinic.id == clinic_id)
    return list(session.scalars(query))


def clinic_in_scope(session: Session, wanted: int, clinic_id: int | None) -> Clinic | None:
    if clinic_id is not None and wanted != clinic_id:
        return None
    return session.get(Clinic, wanted)


def tokens_in_scope(session: Session, clinic_id: int | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.clinic_id, ApiToken.id)
    if clinic_id is not None:
        query = query.where(ApiToken.clinic_id == clinic_id)
    return list(session.scalars(query))


def token_in_scope(session: Session, token_id: int, clinic_id: int | None) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None or (clinic_id is not None and token.clinic_id != clinic_id):
        return None
    return token
