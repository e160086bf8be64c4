"""Administrators' questionnaire wording pages: upload, check, preview, enable, remove.

Installing wording changes what every clinic's patients are asked, so only an administrator of
the whole site (no clinic) may do it. Nothing is written until the administrator has seen the
preview and sent the explicit "Enable" form; that form carries the checked file back and it is
checked again before it is written, all or nothing, into the site wording directory.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from spinepath.instruments import catalogue
from spinepath.instruments.errors import UnknownInstrumentError, WordingFileError
from spinepath.instruments.models import InstrumentDefinition
from spinepath.instruments.site_wording import (
    MAX_WORDING_BYTES,
    WordingTooLargeError,
    check_file,
    install,
    installed_file,
    remove,
    site_directory,
)
from spinepath.instruments.wording import bundled_wording, load_wording
from spinepath.settings import Settings
from spinepath.store.models import User
from spinepath.web.deps import (
    AppSettings,
    CurrentSystemAdmin,
    DbSession,
    SubmittedForm,
    audit,
    not_found,
)
from spinepath.web.pages.admin import record_admin_action
from spinepath.web.pages.instrument_forms import form_with_wording
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import redirect

router = APIRouter(include_in_schema=False)

WORDING = "/admin/wording"
FILE_NAME_MAX_CHARS = 200


@dataclass(frozen=True)
class WordingStatus:
    code: str
    name: str
    licensed: bool
    state: str
    """``site`` (the site's file is used), ``bundled``, ``missing`` or ``broken``."""
    problem: str | None


def _status(definition: InstrumentDefinition, settings: Settings) -> WordingStatus:
    directory = site_directory(settings.instrument_wording_dir, settings.data_dir)
    licensed = not definition.licence.wording_shipped
    path = installed_file(directory, definition.code)
    state, problem = ("bundled" if bundled_wording(definition) else "missing"), None
    if path is not None:
        try:
            load_wording(definition, path)
            state = "site"
        except WordingFileError as error:
            state, problem = "broken", str(error)
    return WordingStatus(definition.code, definition.name, licensed, state, problem)


def _wording_page(
    request: Request,
    admin: User,
    settings: Settings,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = {
        "user": admin,
        "instruments": [_status(d, settings) for d in catalogue.definitions().values()],
        "directory": site_directory(settings.instrument_wording_dir, settings.data_dir),
        "max_kib": MAX_WORDING_BYTES // 1024,
        "errors": errors,
    }
    return render(request, "admin/wording.html", context, status_code)


def _refuse(
    request: Request, session: Session, admin: User, settings: Settings, error: WordingFileError
) -> Response:
    audit(
        request,
        session,
        actor_kind="admin",
        actor_id=admin.id,
        patient=None,
        action="check_wording",
        outcome="invalid",
    )
    status_code = 413 if isinstance(error, WordingTooLargeError) else 422
    return _wording_page(request, admin, settings, {"file": str(error)}, status_code)


@router.get(WORDING, response_class=HTMLResponse)
def wording_page(request: Request, admin: CurrentSystemAdmin, settings: AppSettings) -> Response:
    return _wording_page(request, admin, settings, {})


@router.post(WORDING + "/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    admin: CurrentSystemAdmin,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _wording_page(request, admin, settings, {"file": "Choose a wording file."}, 422)
    name = upload.filename[-FILE_NAME_MAX_CHARS:]
    with upload.file:
        # One byte over the limit is enough to know it is too large; the rest is never read.
        data = upload.file.read(MAX_WORDING_BYTES + 1)
    try:
        checked = check_file(data, name)
    except WordingFileError as error:
        return _refuse(request, session, admin, settings, error)
    definition = checked.definition
    context = {
        "user": admin,
        "definition": definition,
        "form_def": form_with_wording(definition, checked.wording),
        "status": _status(definition, settings),
        "name": name,
        "content": base64.b64encode(data).decode("ascii"),
    }
    return render(request, "admin/wording_preview.html", context)


@router.post(WORDING + "/enable", response_class=HTMLResponse)
def enable(
    request: Request,
    admin: CurrentSystemAdmin,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    name = str(form.get("name") or "")[:FILE_NAME_MAX_CHARS]
    try:
        data = base64.b64decode(str(form.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        if not data:
            raise WordingFileError(name or "upload", "is empty: upload the file again")
        checked = check_file(data, name)
    except WordingFileError as error:
        return _refuse(request, session, admin, settings, error)
    install(site_directory(settings.instrument_wording_dir, settings.data_dir), checked)
    # Site wording is not a clinic's: no clinic on the audit row.
    record_admin_action(request, session, admin, f"install_wording:{checked.definition.code}", None)
    return redirect(f"{WORDING}#wording-{checked.definition.code}")


@router.post(WORDING + "/{code}/remove")
def remove_wording(
    request: Request,
    code: str,
    admin: CurrentSystemAdmin,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    try:
        definition = catalogue.get(code)
    except UnknownInstrumentError as error:
        raise not_found("no such questionnaire") from error
    directory = site_directory(settings.instrument_wording_dir, settings.data_dir)
    # Removing what is not there changes nothing: a repeated click is not an error.
    if remove(directory, definition.code):
        record_admin_action(request, session, admin, f"remove_wording:{definition.code}", None)
    return redirect(f"{WORDING}#wording-{definition.code}")
