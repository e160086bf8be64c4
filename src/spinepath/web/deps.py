"""Typed FastAPI dependencies: settings, the transaction, who is asking, and whose data.

``DbSession`` commits before the response is sent (``scope="function"``), so an acknowledged
write is a committed write. Every dependency that hands out a patient records an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from spinepath.settings import Settings
from spinepath.store import repository, sessions
from spinepath.store.db import Database
from spinepath.store.models import Patient, User

LOGIN_PATH = "/login"
PATIENT_LINK_PATH = "/p/{link_token}"
"""Where a patient's private link points; the pages serve it."""
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a cookie key, not a secret
"""The session cookie (signed by Starlette) carries only this random token; the session itself,
its user and whether it is still live are in the database (``store.sessions``)."""
BEARER_PREFIX = "bearer "


class NotAuthenticatedError(HTTPException):
    """401: sign in (pages redirect to the sign-in page, the API answers JSON)."""

    def __init__(self) -> None:
        super().__init__(
            status_code=401, detail="sign in required", headers={"WWW-Authenticate": "Bearer"}
        )


def forbidden(detail: str = "not allowed") -> HTTPException:
    return HTTPException(status_code=403, detail=detail)


def not_found(detail: str = "not found") -> HTTPException:
    return HTTPException(status_code=404, detail=detail)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


WriteAfter = Callable[[Session], object]
_PENDING_KEY = "spinepath.writes_after_transaction"


_AUDIT_IF_ROLLED_BACK_KEY = "spinepath.audit_if_rolled_back"


def keep_despite_rollback(request: Request, write: WriteAfter) -> None:
    """Queues a write (a refusal's audit event, a failed sign-in) for its own transaction.

    It runs once the request's transaction has ended, committed or rolled back: SQLite allows one
    writer at a time, so it cannot run while the request's transaction is still open.
    """
    request.scope.setdefault(_PENDING_KEY, []).append(write)


async def get_db_session(request: Request) -> AsyncIterator[Session]:
    """The request's transaction: committed before the response is sent, rolled back on error.

    Requests wait for a database slot here, in the event loop, not in a worker thread: a thread
    blocked on a busy database could otherwise be the one the lock holder needs to finish.
    """
    database = get_database(request)
    async with database.slots():
        session = database.new_session()
        try:
            yield session
            await run_in_threadpool(session.commit)
            request.scope.pop(_AUDIT_IF_ROLLED_BACK_KEY, None)
        except BaseException:
            await run_in_threadpool(session.rollback)
            for write in request.scope.pop(_AUDIT_IF_ROLLED_BACK_KEY, []):
                keep_despite_rollback(request, write)
            raise
        finally:
            await run_in_threadpool(session.close)
            pending: list[WriteAfter] = request.scope.pop(_PENDING_KEY, [])
            if pending:
                await run_in_threadpool(_write_all, database, pending)


def _write_all(database: Database, writes: list[WriteAfter]) -> None:
    with database.session() as session:
        for write in writes:
            write(session)


def session_token(request: Request) -> str | None:
    """The raw session token from the signed cookie, or None when there is none."""
    if "session" not in request.scope:
        return None
    token = request.session.get(SESSION_TOKEN_KEY)
    return token if isinstance(token, str) else None


AppSettings = Annotated[Settings, Depends(get_settings_dep)]
DbSession = Annotated[Session, Depends(get_db_session, scope="function")]


async def get_form(request: Request) -> FormData:
    """The submitted form, read on the event loop so that the route itself can be a plain
    ``def`` (FastAPI runs those in its thread pool, away from the event loop)."""
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(get_form)]
"""Declare it after the route's other dependencies: they are resolved in order, so a missing
patient or user is still refused before the body is read."""


def get_optional_user(request: Request, session: DbSession) -> User | None:
    token = session_token(request)
    if token is None:
        return None
    settings = get_settings_dep(request)
    user = sessions.session_user(
        session, token, idle=dt.timedelta(seconds=settings.session_idle_seconds)
    )
    if user is None:
        request.session.clear()
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user, scope="function")]


def get_current_clinician(user: OptionalUser) -> User:
    """A signed-in user who belongs to a clinic (clinicians; admins only if given a clinic)."""
    if user is None:
        raise NotAuthenticatedError
    if user.clinic_id is None:
        raise forbidden("this account has no clinic")
    return user


def get_current_admin(user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticatedError
    if user.role != "admin":
        raise forbidden("administrators only")
    return user


def get_system_admin(user: OptionalUser) -> User:
    """An administrator of the whole site (no clinic): only they change what every clinic uses."""
    admin = get_current_admin(user)
    if admin.clinic_id is not None:
        raise forbidden("administrators of the whole site only")
    return admin


CurrentClinician = Annotated[User, Depends(get_current_clinician, scope="function")]
CurrentAdmin = Annotated[User, Depends(get_current_admin, scope="function")]
CurrentSystemAdmin = Annotated[User, Depends(get_system_admin, scope="function")]


@dataclass(frozen=True)
class Principal:
    """Who is asking for clinic data: a signed-in clinician or an integration's API token."""

    kind: Literal["clinician", "admin", "api_token"]
    id: str
    clinic_id: int
    user: User | None = None


def get_clinic_principal(request: Request, session: DbSession, user: OptionalUser) -> Principal:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        if not authorization.lower().startswith(BEARER_PREFIX):
            raise NotAuthenticatedError
        token = repository.api_token_by_secret(session, authorization[len(BEARER_PREFIX) :].strip())
        if token is None:
            raise NotAuthenticatedError
        return Principal(kind="api_token", id=str(token.id), clinic_id=token.clinic_id)
    if user is None:
        raise NotAuthenticatedError
    if user.clinic_id is None:
        raise forbidden("this account has no clinic")
    kind: Literal["clinician", "admin"] = "admin" if user.role == "admin" else "clinician"
    return Principal(kind=kind, id=str(user.id), clinic_id=user.clinic_id, user=user)


ClinicPrincipal = Annotated[Principal, Depends(get_clinic_principal, scope="function")]


def _route_path(request: Request) -> str:
    """The request path with a patient's link token masked: audit rows must not hold it."""
    path = request.url.path
    link_token = request.path_params.get("link_token")
    if isinstance(link_token, str) and link_token:
        path = path.replace(link_token, "{link_token}")
    return path


def _action(request: Request) -> str:
    return "read" if request.method in ("GET", "HEAD") else "write"


def audit(
    request: Request,
    session: Session,
    *,
    actor_kind: str,
    actor_id: str | int | None,
    patient: Patient | None,
    action: str | None = None,
    outcome: str = "ok",
    clinic_id: int | None = None,
) -> None:
    """Records who touched which patient's data. Route templates only: never the link token.

    The row is part of the request's transaction. Should that transaction be rolled back (the
    request was refused after this point: a bad body, a conflict), the same event is written
    again in its own transaction with the outcome ``refused``, so an attempt leaves a trace.
    """
    event = partial(
        repository.record_audit,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action or _action(request),
        patient_id=patient.id if patient else None,
        clinic_id=clinic_id if clinic_id is not None else (patient.clinic_id if patient else None),
        route=f"{request.method} {_route_path(request)}",
    )
    event(session, outcome=outcome)
    request.scope.setdefault(_AUDIT_IF_ROLLED_BACK_KEY, []).append(
        partial(event, outcome="refused")
    )


def get_patient_from_link(
    request: Request,
    session: DbSession,
    link_token: Annotated[str, Path(min_length=8, max_length=200)],
) -> Patient:
    """The patient whose private link is in the path (``{link_token}``); 404 otherwise."""
    patient = repository.patient_by_link(session, link_token)
    if patient is None:
        # Guessed or stale links are worth seeing in the log; the guess itself is not kept.
        keep_despite_rollback(
            request,
            partial(
                repository.record_audit,
                actor_kind="anonymous",
                actor_id=None,
                action="open_patient_link",
                route=f"{request.method} {_route_path(request)}",
                outcome="not_found",
            ),
        )
        raise not_found("this link is not valid; it may have been deleted")
    audit(request, session, actor_kind="patient", actor_id=patient.id, patient=patient)
    return patient


PatientFromLink = Annotated[Patient, Depends(get_patient_from_link, scope="function")]


def get_clinic_patient(
    request: Request,
    session: DbSession,
    principal: ClinicPrincipal,
    patient_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> Patient:
    """A patient of the asker's clinic (``{patient_id}`` in the path); 404 for anyone else's."""
    patient = repository.patient_by_id(session, patient_id)
    if patient is None or patient.clinic_id != principal.clinic_id:
        keep_despite_rollback(
            request,
            partial(
                repository.record_audit,
                actor_kind=principal.kind,
                actor_id=principal.id,
                action=_action(request),
                patient_id=patient.id if patient is not None else None,
                clinic_id=principal.clinic_id,
                route=f"{request.method} {_route_path(request)}",
                outcome="denied",
            ),
        )
        raise not_found("no such patient in your clinic")
    audit(request, session, actor_kind=principal.kind, actor_id=principal.id, patient=patient)
    return patient


ClinicPatient = Annotated[Patient, Depends(get_clinic_patient, scope="function")]
