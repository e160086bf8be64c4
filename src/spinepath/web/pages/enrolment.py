"""The clinic's enrolment page: its join code, the QR code that opens it, and turning it off or
making a new one. Any clinician of the clinic (or an administrator with a clinic) may do both;
each change is audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath.settings import Settings
from spinepath.store import enrolment, repository
from spinepath.store.models import Clinic, User
from spinepath.web.deps import AppSettings, CurrentClinician, DbSession
from spinepath.web.pages.qr import qr_svg
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import redirect, site_base

router = APIRouter(include_in_schema=False)

ENROL = "/clinic/enrol"


def join_url(request: Request, settings: Settings, code: str) -> str:
    """Where the poster's QR code points: the public URL when set, else this request's."""
    return f"{site_base(request, settings)}/join/{code}"


def _clinic_id(user: User) -> int:
    if user.clinic_id is None:
        raise ValueError("user.clinic_id is missing")
    return user.clinic_id


@router.get(ENROL, response_class=HTMLResponse)
def enrol_page(
    request: Request, user: CurrentClinician, session: DbSession, settings: AppSettings
) -> Response:
    clinic_id = _clinic_id(user)
    code = enrolment.live_join_code(session, clinic_id)
    context: dict[str, object] = {"user": user, "clinic": session.get(Clinic, clinic_id)}
    if code is not None:
        url = join_url(request, settings, code.code)
        context |= {
            "code": enrolment.display_code(code.code),
            "created_at": code.created_at,
            "url": url,
            "qr": qr_svg(url, "QR code that opens the clinic's join page"),
        }
    return render(request, "clinic/enrol.html", context)


def _audit_change(session: DbSession, user: User, action: str, route: str) -> None:
    repository.record_audit(
        session,
        actor_kind=user.role,
        actor_id=user.id,
        action=action,
        clinic_id=user.clinic_id,
        route=f"POST {route}",
    )


@router.post(ENROL + "/new")
def new_code(user: CurrentClinician, session: DbSession) -> Response:
    enrolment.new_join_code(session, _clinic_id(user), user.id)
    _audit_change(session, user, "join_code_new", ENROL + "/new")
    return redirect(ENROL)


@router.post(ENROL + "/revoke")
def revoke_code(user: CurrentClinician, session: DbSession) -> Response:
    if enrolment.revoke_join_code(session, _clinic_id(user)):
        _audit_change(session, user, "join_code_revoke", ENROL + "/revoke")
    return redirect(ENROL)
