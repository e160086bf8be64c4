"""Administrators' account pages: users, clinics and API tokens.

An administrator who belongs to a clinic manages that clinic's users and tokens only: anything
else answers 404, as if it did not exist. One with no clinic manages every clinic and is the only
one who may add clinics. Every change is written to the audit log, and every change that ends an
account's sessions ends them in the database, so a copy of the cookie stops working at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.store import accounts, repository, sessions
from spinepath.store.models import ROW_ID_MAX, User
from spinepath.web.deps import (
    AppSettings,
    CurrentAdmin,
    DbSession,
    SubmittedForm,
    audit,
    forbidden,
    not_found,
)
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import redirect

router = APIRouter(include_in_schema=False)

ADMIN = "/admin"
USERS = ADMIN + "/users"
CLINICS = ADMIN + "/clinics"
TOKENS = ADMIN + "/tokens"
NAME_MAX_CHARS = 200
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
ROLES = {"clinician": "Clinician", "admin": "Administrator"}


def record_admin_action(
    request: Request, session: Session, admin: User, action: str, clinic_id: int | None
) -> None:
    audit(
        request,
        session,
        actor_kind="admin",
        actor_id=admin.id,
        patient=None,
        action=action,
        clinic_id=clinic_id,
    )


def _field_errors(error: ValueError) -> dict[str, str]:
    """``"email: already exists"`` (the repository's messages) as ``{"email": "..."}``."""
    field, _, message = str(error).partition(": ")
    if not message or " " in field:
        return {"": str(error)}
    return {field: message}


def _form_text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _clinic_options(session: Session, admin: User) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in accounts.clinics_in_scope(session, admin.clinic_id)]


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= ROW_ID_MAX else None


@router.get(ADMIN, response_class=HTMLResponse)
def admin_home(request: Request, admin: CurrentAdmin) -> Response:
    return render(request, "admin/index.html", {"user": admin})


# Users ------------------------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    admin: User,
    settings: AppSettings,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    idle = dt.timedelta(seconds=settings.session_idle_seconds)
    context = {
        "user": admin,
        "rows": accounts.list_users(session, admin.clinic_id, idle=idle),
        "clinic_options": _clinic_options(session, admin),
        "roles": ROLES,
        "errors": errors,
        "values": values,
    }
    return render(request, "admin/users.html", context, status_code)


@router.get(USERS, response_class=HTMLResponse)
def users_page(
    request: Request, admin: CurrentAdmin, session: DbSession, settings: AppSettings
) -> Response:
    return _users_page(request, session, admin, settings, {}, {})


@router.post(USERS, response_class=HTMLResponse)
def add_user(
    request: Request,
    admin: CurrentAdmin,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    values = {k: _form_text(form, k, 320) for k in ("email", "name", "role", "clinic")}
    password = form.get("password")
    errors: dict[str, str] = {}
    if values["role"] not in ROLES:
        errors["role"] = "Choose a role."
    clinic_id: int | None = admin.clinic_id
    if admin.clinic_id is None and values["clinic"]:
        wanted = _int_or_none(values["clinic"])
        clinic = accounts.clinic_in_scope(session, wanted, None) if wanted else None
        if clinic is None:
            errors["clinic"] = "Choose one of the clinics."
        clinic_id = clinic.id if clinic else None
    if len(values["name"]) > NAME_MAX_CHARS:
        errors["name"] = f"Use {NAME_MAX_CHARS} characters or fewer."
    if not isinstance(password, str) or not password:
        errors["password"] = "Choose a password for the account."  # noqa: S105 - a message
    if not errors and isinstance(password, str):
        try:
            created = repository.create_user(
                session,
                email=values["email"],
                password=password,
                role=values["role"],
                clinic_id=clinic_id,
                name=values["name"],
            )
        except ValueError as error:
            errors = _field_errors(error)
        else:
            record_admin_action(request, session, admin, "add_user", created.clinic_id)
            return redirect(f"{USERS}/{created.id}")
    return _users_page(request, session, admin, settings, errors, values, 422)


def _managed(session: Session, admin: User, user_id: int) -> User:
    user = accounts.user_in_scope(session, user_id, admin.clinic_id)
    if user is None:
        raise not_found("no such account among those you manage")
    return user


def _user_page(
    request: Request,
    session: Session,
    admin: User,
    settings: AppSettings,
    target: User,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    idle = dt.timedelta(seconds=settings.session_idle_seconds)
    (row,) = accounts.list_users(session, target.clinic_id, idle=idle, user_id=target.id)
    context = {"user": admin, "row": row, "roles": ROLES, "errors": errors}
    return render(request, "admin/user.html", context, status_code)


@router.get(USERS + "/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request,
    user_id: RowId,
    admin: CurrentAdmin,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    target = _managed(session, admin, user_id)
    return _user_page(request, session, admin, settings, target, {})


@router.post(USERS + "/{user_id}/disable", response_class=HTMLResponse)
def disable_user(
    request: Request,
    user_id: RowId,
    admin: CurrentAdmin,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    target = _managed(session, admin, user_id)
    if target.id == admin.id:
        # Locking oneself out leaves a site with no one able to undo it.
        errors = {"": "You cannot disable your own account; ask another administrator."}
        return _user_page(request, session, admin, settings, target, errors, 409)
    repository.set_user_active(session, target, False)
    record_admin_action(request, session, admin, "disable_user", target.clinic_id)
    return redirect(f"{USERS}/{target.id}")


@router.post(USERS + "/{user_id}/enable")
def enable_user(
    request: Request, user_id: RowId, admin: CurrentAdmin, session: DbSession
) -> Response:
    target = _managed(session, admin, user_id)
    repository.set_user_active(session, target, True)
    record_admin_action(request, session, admin, "enable_user", target.clinic_id)
    return redirect(f"{USERS}/{target.id}")


@router.post(USERS + "/{user_id}/end-sessions")
def end_sessions(
    request: Request, user_id: RowId, admin: CurrentAdmin, session: DbSession
) -> Response:
    target = _managed(session, admin, user_id)
    sessions.end_user_sessions(session, target.id)
    record_admin_action(request, session, admin, "end_sessions", target.clinic_id)
    return redirect(f"{USERS}/{target.id}")


@router.post(USERS + "/{user_id}/password", response_class=HTMLResponse)
def set_password(
    request: Request,
    user_id: RowId,
    admin: CurrentAdmin,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    target = _managed(session, admin, user_id)
    password = form.get("password")
    errors: dict[str, str] = {}
    if not isinstance(password, str) or not password:
        errors["password"] = "Enter the new password."  # noqa: S105 - a message
    elif form.get("confirm") != password:
        errors["confirm"] = "The two passwords are not the same."
    else:
        try:
            # Ends every session signed in with the old password.
            repository.set_password(session, target, password)
        except ValueError as error:
            errors = _field_errors(error)
    if errors:
        return _user_page(request, session, admin, settings, target, errors, 422)
    record_admin_action(request, session, admin, "set_password", target.clinic_id)
    return redirect(f"{USERS}/{target.id}")


# Clinics ----------------------------------------------------------------------------------------


def _clinics_page(
    request: Request,
    session: Session,
    admin: User,
    errors: dict[str, str],
    name: str,
    status_code: int = 200,
) -> Response:
    context = {
        "user": admin,
        "clinics": accounts.clinics_in_scope(session, admin.clinic_id),
        "errors": errors,
        "name": name,
    }
    return render(request, "admin/clinics.html", context, status_code)


@router.get(CLINICS, response_class=HTMLResponse)
def clinics_page(request: Request, admin: CurrentAdmin, session: DbSession) -> Response:
    return _clinics_page(request, session, admin, {}, "")


@router.post(CLINICS, response_class=HTMLResponse)
def add_clinic(
    request: Request, admin: CurrentAdmin, session: DbSession, form: SubmittedForm
) -> Response:
    if admin.clinic_id is not None:
        raise forbidden("only an administrator of the whole site adds clinics")
    name = _form_text(form, "name", NAME_MAX_CHARS + 1)
    errors: dict[str, str] = {}
    if len(name) > NAME_MAX_CHARS:
        errors["name"] = f"Use {NAME_MAX_CHARS} characters or fewer."
    else:
        try:
            clinic = repository.create_clinic(session, name)
        except ValueError as error:
            errors = _field_errors(error)
        else:
            record_admin_action(request, session, admin, "add_clinic", clinic.id)
            return redirect(CLINICS)
    return _clinics_page(request, session, admin, errors, name, 422)


# API tokens -------------------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    session: Session,
    admin: User,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    options = _clinic_options(session, admin)
    context = {
        "user": admin,
        "tokens": accounts.tokens_in_scope(session, admin.clinic_id),
        "clinic_options": options,
        "clinic_names": dict(options),
        "errors": errors,
        "values": values,
    }
    return render(request, "admin/tokens.html", context, status_code)


@router.get(TOKENS, response_class=HTMLResponse)
def tokens_page(request: Request, admin: CurrentAdmin, session: DbSession) -> Response:
    return _tokens_page(request, session, admin, {}, {})


@router.post(TOKENS, response_class=HTMLResponse)
def create_token(
    request: Request, admin: CurrentAdmin, session: DbSession, form: SubmittedForm
) -> Response:
    values = {"name": _form_text(form, "name", NAME_MAX_CHARS + 1), "clinic": ""}
    values["clinic"] = _form_text(form, "clinic", 20)
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Say what the token is for."
    elif len(values["name"]) > NAME_MAX_CHARS:
        errors["name"] = f"Use {NAME_MAX_CHARS} characters or fewer."
    wanted = admin.clinic_id if admin.clinic_id is not None else _int_or_none(values["clinic"])
    clinic = accounts.clinic_in_scope(session, wanted, admin.clinic_id) if wanted else None
    if clinic is None:
        errors["clinic"] = "Choose one of the clinics."
    if errors or clinic is None:
        return _tokens_page(request, session, admin, errors, values, 422)
    token, raw = repository.create_api_token(session, clinic_id=clinic.id, name=values["name"])
    record_admin_action(request, session, admin, "create_token", clinic.id)
    context = {"user": admin, "token": token, "clinic": clinic, "secret": raw}
    return render(request, "admin/token_created.html", context)


@router.post(TOKENS + "/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: RowId, admin: CurrentAdmin, session: DbSession
) -> Response:
    token = accounts.token_in_scope(session, token_id, admin.clinic_id)
    if token is None:
        raise not_found("no such API token among those you manage")
    repository.revoke_api_token(session, token.id)
    record_admin_action(request, session, admin, "revoke_token", token.clinic_id)
    return redirect(TOKENS)
