"""A clinic's alert channels: where its alerts go. Used by `spinepath alerts` and the
administration page, so both accept and refuse exactly the same addresses."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath.store.models import AlertChannel

Kind = Literal["email", "webhook"]
WEBHOOK_SECRET_BYTES = 32
TARGET_MAX_CHARS = 2000


class ChannelError(ValueError):
    """``"target: ..."``: the address cannot be used, and why."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_target(kind: Kind, target: str, *, allow_http: bool = False) -> str:
    """The address as stored: an e-mail address normalised, or an https:// URL (http:// only
    to this machine, and only when allowed: alerts must not cross a network in the clear)."""
    text = target.strip()
    if not text:
        raise ChannelError("target: enter an address")
    if len(text) > TARGET_MAX_CHARS:
        raise ChannelError(f"target: use {TARGET_MAX_CHARS} characters or fewer")
    if kind == "email":
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ChannelError(f"target: {error}") from error
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return text
    if parts.scheme == "http" and host and allow_http and _loopback(host):
        return text
    raise ChannelError("target: use an https:// address with a host name")


def add_channel(
    session: Session,
    clinic_id: int,
    kind: Kind,
    target: str,
    *,
    include_reference: bool = False,
    allow_http: bool = False,
) -> tuple[AlertChannel, str | None]:
    """The new channel, and for a webhook its signing secret (to be shown once)."""
    address = checked_target(kind, target, allow_http=allow_http)
    secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES) if kind == "webhook" else None
    channel = AlertChannel(
        clinic_id=clinic_id,
        kind=kind,
        target=address,
        secret=secret,
        include_reference=include_reference,
        active=True,
    )
    session.add(channel)
    session.flush()
    return channel, secret


def channels_in_scope(session: Session, clinic_id: int | None) -> list[AlertChannel]:
    query = select(AlertChannel).order_by(AlertChannel.clinic_id, AlertChannel.id)
    if clinic_id is not None:
        query = query.where(AlertChannel.clinic_id == clinic_id)
    return list(session.scalars(query))


def channel_in_scope(
    session: Session, channel_id: int, clinic_id: int | None
) -> AlertChannel | None:
    channel = session.get(AlertChannel, channel_id)
    if channel is None or (clinic_id is not None and channel.clinic_id != clinic_id):
        return None
    return channel
