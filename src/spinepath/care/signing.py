"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"`` with the channel's secret.

The header is ``Spinepath-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver recomputes
the digest over the raw body it received, compares in constant time, and refuses a timestamp
outside its replay window (``REPLAY_WINDOW_SECONDS`` by default); the ``Idempotency-Key``
header then lets it drop a message it has already handled. The scheme follows the common
timestamped-HMAC webhook pattern so that an SMS or paging gateway can verify it in a few lines.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Spinepath-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "Spinepath-Event"
REPLAY_WINDOW_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, wrong or outside the replay window."""


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={digest(secret, at, body)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    window_seconds: int = REPLAY_WINDOW_SECONDS,
) -> int:
    """The signed timestamp, when ``header`` is a valid signature of ``body`` made within the
    window; otherwise ``SignatureError`` saying why."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header")
        fields.setdefault(key, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise SignatureError("the signature has no single timestamp")
    timestamp = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - timestamp) > window_seconds:
        raise SignatureError("the signature is outside the replay window")
    expected = digest(secret, timestamp, body)
    # Several v1 values are allowed so that a sender can sign with an old and a new secret.
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureError("the signature does not match")
    return timestamp
