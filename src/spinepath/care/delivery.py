"""Sending one message: e-mail over SMTP (TLS verified) or a signed webhook POST.

Both raise ``DeliveryError`` with a reason that is safe to store (no message body), which the
worker records before trying again later.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from spinepath.care import signing
from spinepath.settings import Settings

USER_AGENT = "spinepath-webhook/1"


class DeliveryError(RuntimeError):
    """The message was not delivered; the worker will try again."""


class NotConfiguredError(DeliveryError):
    """The channel cannot be used on this server yet (no SMTP server set)."""


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


def send_email(settings: Settings, to: str, payload: dict[str, Any], key: str) -> None:
    if not settings.smtp_host or not settings.smtp_from:
        raise NotConfiguredError("no SMTP server is set (SPINEPATH_SMTP_HOST, SMTP_FROM)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = str(payload["subject"])
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The idempotency key in the Message-ID lets a mail system see a repeated delivery.
    domain = settings.smtp_from.rpartition("@")[2] or "spinepath.invalid"
    message["Message-ID"] = make_msgid(idstring=key, domain=domain)
    message["X-Spinepath-Idempotency-Key"] = key
    message.set_content(str(payload["text"]))
    timeout = settings.smtp_timeout_seconds
    try:
        if settings.smtp_security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=_tls_context(settings))
            if settings.smtp_username:
                password = settings.smtp_password
                client.login(
                    settings.smtp_username, password.get_secret_value() if password else ""
                )
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}"[:500]) from exc


def post_webhook(
    settings: Settings, url: str, secret: str, payload: dict[str, Any], key: str
) -> None:
    body = json.dumps({"id": key, **payload}, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked when the channel is added
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.SIGNATURE_HEADER: signing.signature_header(secret, body, int(time.time())),
            signing.IDEMPOTENCY_HEADER: key,
            signing.EVENT_HEADER: str(payload.get("event", "")),
        },
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - as above
            request, timeout=settings.webhook_timeout_seconds
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}"[:500]) from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered HTTP {status}")
