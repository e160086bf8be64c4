"""Administrators set where their clinic's alerts go (e-mail, signed webhooks) and see what the
outbox could not deliver. A clinic's administrator manages that clinic's channels only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spinepath.care import channels
from spinepath.store import accounts
from spinepath.store.models import ROW_ID_MAX, AlertChannel, OutboxMessage, User
from spinepath.web.deps import CurrentAdmin, DbSession, SubmittedForm, not_found
from spinepath.web.pages.admin import RowId, record_admin_action
from spinepath.web.pages.rendering import render
from spinepath.web.pages.shared import redirect

router = APIRouter(include_in_schema=False)

ALERTS = "/admin/alerts"
KINDS = {"email": "E-mail", "webhook": "Webhook (signed POST)"}
RECENT_FAILURES = 20


def _outbox(session: Session, clinic_id: int | None) -> dict[str, Any]:
    """Alert messages by status, and the latest ones that failed, for the channels in scope."""
    scoped = select(AlertChannel.id)
    if clinic_id is not None:
        scoped = scoped.where(AlertChannel.clinic_id == clinic_id)
    in_scope = OutboxMessage.channel_id.in_(scoped)
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(in_scope)
            .group_by(OutboxMessage.status)
        ).all()
    )
    failed = session.scalars(
        select(OutboxMessage)
        .where(in_scope, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(RECENT_FAILURES)
    ).all()
    return {"counts": counts, "failed": failed}


def _page(
    request: Request,
    session: Session,
    admin: User,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    options = [(c.id, c.name) for c in accounts.clinics_in_scope(session, admin.clinic_id)]
    context = {
        "user": admin,
        "channels": channels.channels_in_scope(session, admin.clinic_id),
        "clinic_options": options,
        "clinic_names": dict(options),
        "kinds": KINDS,
        "outbox": _outbox(session, admin.clinic_id),
        "errors": errors,
        "values": values,
    }
    return render(request, "admin/alerts.html", context, status_code)


@router.get(ALERTS, response_class=HTMLResponse)
def alerts_page(request: Request, admin: CurrentAdmin, session: DbSession) -> Response:
    return _page(request, session, admin, {}, {})


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[: channels.TARGET_MAX_CHARS + 1] if isinstance(value, str) else ""


@router.post(ALERTS, response_class=HTMLResponse)
def add_channel(
    request: Request, admin: CurrentAdmin, session: DbSession, form: SubmittedForm
) -> Response:
    values = {k: _text(form, k) for k in ("kind", "target", "clinic", "include_reference")}
    errors: dict[str, str] = {}
    kind = values["kind"]
    if kind not in KINDS:
        errors["kind"] = "Choose e-mail or webhook."
    wanted = admin.clinic_id
    if wanted is None:
        wanted = int(values["clinic"]) if values["clinic"].isdigit() else None
    clinic = (
        accounts.clinic_in_scope(session, wanted, admin.clinic_id)
        if wanted is not None and wanted <= ROW_ID_MAX
        else None
    )
    if clinic is None:
        errors["clinic"] = "Choose one of the clinics."
    if errors or clinic is None or kind not in ("email", "webhook"):
        return _page(request, session, admin, errors, values, 422)
    try:
        channel, secret = channels.add_channel(
            session,
            clinic.id,
            "email" if kind == "email" else "webhook",
            values["target"],
            include_reference=values["include_reference"] == "yes",
        )
    except channels.ChannelError as error:
        errors["target"] = str(error).removeprefix("target: ").capitalize() + "."
        return _page(request, session, admin, errors, values, 422)
    record_admin_action(request, session, admin, "add_alert_channel", clinic.id)
    if secret is None:
        return redirect(ALERTS + "#channels")
    context = {"user": admin, "channel": channel, "clinic": clinic, "secret": secret}
    return render(request, "admin/alert_channel_created.html", context)


@router.post(ALERTS + "/{channel_id}/disable")
def disable_channel(
    request: Request, channel_id: RowId, admin: CurrentAdmin, session: DbSession
) -> Response:
    channel = channels.channel_in_scope(session, channel_id, admin.clinic_id)
    if channel is None:
        raise not_found("no such alert channel among those you manage")
    channel.active = False
    record_admin_action(request, session, admin, "disable_alert_channel", channel.clinic_id)
    return redirect(ALERTS + "#channels")
