"""Security middleware: headers with a strict CSP, CSRF check, body limits; login rate limit.

All middleware here is plain ASGI (no per-request task overhead), ordered in ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import utcnow
from spinepath.web.paths import is_api_path

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def error_body(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}


class SecurityHeadersMiddleware:
    """Adds the security headers to every response unless a route set its own CSP."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                extra = [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if self.hsts:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                headers.extend(item for item in extra if item[0] not in present)
                if is_api_path(scope["path"]) and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_allows(
    method: str, sec_fetch_site: str | None, origin: str | None, host: str | None
) -> bool:
    """Cross-site request forgery check for cookie-carrying browsers.

    Browsers send ``Sec-Fetch-Site``; older ones send ``Origin`` on unsafe requests. A request with
    neither comes from a non-browser client, which cannot carry a victim's cookies.
    """
    if method not in UNSAFE_METHODS:
        return True
    if sec_fetch_site is not None:
        return sec_fetch_site in ("same-origin", "none")
    if origin is not None:
        if origin == "null" or host is None:
            return False
        return urlsplit(origin).netloc.lower() == host.lower()
    return True


class CsrfMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not csrf_allows(
            scope["method"],
            _header(scope, b"sec-fetch-site"),
            _header(scope, b"origin"),
            _header(scope, b"host"),
        ):
            await send_json(send, 403, error_body("cross-site request refused"))
            return
        await self.app(scope, receive, send)


class BodyTooLargeError(HTTPException):
    """Raised while reading a streamed body; an HTTPException so body parsers let it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


class NulCharacterError(HTTPException):
    """NUL characters cannot be stored (PostgreSQL text refuses them) and are never meaningful."""

    def __init__(self, where: str) -> None:
        super().__init__(status_code=400, detail=f"NUL characters are not accepted in the {where}")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NUL_PATTERNS = (b"\x00", b"%00")


class BodyLimitMiddleware:
    """Guards requests before any route reads them.

    413 for bodies over the limit (declared or streamed); 415 for non-JSON API bodies; 400 for
    NUL characters in the URL or a form (JSON bodies are checked field by field by the API).
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, message = refusal
            await send_json(send, status, error_body(message))
            return
        content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
        scan_for_nul = content_type in _FORM_TYPES

        received = 0
        started = False
        tail = b""

        async def limited_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
                if scan_for_nul:
                    window = tail + chunk  # a pattern may straddle two chunks
                    if any(p in window for p in _NUL_PATTERNS):
                        raise NulCharacterError("form")
                    tail = window[-2:]
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLargeError, NulCharacterError) as error:
            if started:
                raise
            await send_json(send, error.status_code, error_body(str(error.detail)))

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) for a request refused from its headers and address alone."""
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return 400, "invalid Content-Length"
            if int(declared) > self.max_body_bytes:
                return 413, self._too_large()
        if (
            is_api_path(scope["path"])
            and scope["method"] in UNSAFE_METHODS
            and _has_body(declared, _header(scope, b"transfer-encoding"))
            and not _is_json(_header(scope, b"content-type"))
        ):
            return 415, "send the body as application/json"

        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or any(p in query for p in _NUL_PATTERNS):
            return 400, NulCharacterError("address").detail
        return None

    def _too_large(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"


def _has_body(content_length: str | None, transfer_encoding: str | None) -> bool:
    if content_length is not None:
        return int(content_length) > 0
    return transfer_encoding is not None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# Login rate limit -------------------------------------------------------------------------------


CLIENT_LIMIT_FACTOR = 5
"""A clinic's staff often share one public address, so an address may fail a few times more
often than one account before it is held back."""

EMAIL_KEY = "email:"
CLIENT_KEY = "client:"


def rate_limit_keys(email: str, client_address: str | None) -> list[str]:
    keys = [f"{EMAIL_KEY}{repository.normalise_email(email)}"]
    if client_address:
        keys.append(f"{CLIENT_KEY}{client_address}")
    return keys


LOGIN_DELAY_BASE_SECONDS = 1
"""After the allowed failures, the wait before the next try starts here and doubles each time."""


def login_wait_seconds(session: Session, settings: Settings, keys: list[str]) -> int:
    """How long this sign-in must wait, 0 if it may be tried now.

    A progressive delay, not a lockout: under ``login_rate_limit`` failures (per account; five
    times that per address) there is no wait; each failure beyond it doubles the wait after the
    latest failure, up to the window. Someone hammering an account slows it down, but cannot
    shut its owner out for a fixed quarter of an hour with a handful of guesses.
    """
    now = utcnow()
    window = dt.timedelta(seconds=settings.login_rate_window_seconds)
    since = now - window
    wait = dt.timedelta(0)
    for key in keys:
        limit = settings.login_rate_limit
        if key.startswith(CLIENT_KEY):
            limit *= CLIENT_LIMIT_FACTOR
        failures = repository.failed_logins_since(session, key, since)
        if failures < limit:
            continue
        last = repository.last_failed_login(session, key, since)
        if last is None:
            continue
        delay = min(
            dt.timedelta(seconds=LOGIN_DELAY_BASE_SECONDS * 2 ** min(failures - limit, 30)),
            window,
        )
        wait = max(wait, last + delay - now)
    return max(0, int(wait.total_seconds() + 0.999))


# Anonymous-write rate limit ---------------------------------------------------------------------

START_CLIENT_KEY = "start-client:"
START_TOTAL_KEY = "start-total"


def start_allowed(session: Session, settings: Settings, client_address: str | None) -> bool:
    """Whether another patient may be started now: per address, and in total.

    Starting is the one write anyone can make without a link or an account, so both limits
    apply: one address cannot fill the database, and many addresses together cannot either.
    Counted in the database, so every worker shares the count.
    """
    return _under_limits(session, settings, client_address, START_CLIENT_KEY, START_TOTAL_KEY)


def count_start(session: Session, settings: Settings, client_address: str | None) -> None:
    _count(session, settings, client_address, START_CLIENT_KEY, START_TOTAL_KEY)


def _under_limits(
    session: Session, settings: Settings, client_address: str | None, client_key: str, total: str
) -> bool:
    since = utcnow() - dt.timedelta(seconds=settings.start_rate_window_seconds)
    if repository.failed_logins_since(session, total, since) >= settings.start_rate_limit_total:
        return False
    if client_address is None:
        return True
    key = f"{client_key}{client_address}"
    return repository.failed_logins_since(session, key, since) < settings.start_rate_limit


def _count(
    session: Session, settings: Settings, client_address: str | None, client_key: str, total: str
) -> None:
    keys = [total]
    if client_address:
        keys.append(f"{client_key}{client_address}")
    forget = utcnow() - dt.timedelta(
        seconds=max(settings.start_rate_window_seconds, settings.login_rate_window_seconds)
    )
    repository.record_failed_login(session, keys, forget_before=forget)


# Wrong clinic join codes ------------------------------------------------------------------------

JOIN_CLIENT_KEY = "join-client:"
JOIN_TOTAL_KEY = "join-total"


def join_code_allowed(session: Session, settings: Settings, client_address: str | None) -> bool:
    """Whether a clinic join code may be tried now: wrong codes are limited like starting.

    A join code is the one secret anyone may type without an account, so guessing it is held to
    the start limits, per address and in total, over the start window.
    """
    return _under_limits(session, settings, client_address, JOIN_CLIENT_KEY, JOIN_TOTAL_KEY)


def count_wrong_join_code(session: Session, settings: Settings, client_address: str | None) -> None:
    _count(session, settings, client_address, JOIN_CLIENT_KEY, JOIN_TOTAL_KEY)
