"""Where a SMART launch keeps its state: in the browser's signed session cookie, nowhere else.

Two entries, both under their own keys beside (never replacing) a clinician's sign-in:

- ``smart_pending``: launches waiting for the EHR's answer, by ``state`` (at most
  ``MAX_PENDING``, each for ``PENDING_SECONDS``), with the PKCE verifier, the iss and the launch
  handle. Keeping them in this browser's cookie ties ``state`` to the browser that started the
  launch, as SMART requires; the verifier never leaves spinepath except to the token endpoint.
- ``smart``: the one open launch: its id (in the workspace URL), the EHR, the FHIR patient id,
  the clinician's ``fhirUser``, the granted scope, the expiry, and the access token **sealed**
  (AES-GCM under a key derived from the site's secret key, bound to the launch id): the cookie
  is signed but readable, and SMART forbids bearer tokens in clear in cookies.

A new launch replaces the open one; a workspace URL of the replaced launch then answers that the
launch has ended, so a tab left open can never show the newer launch's patient.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from spinepath.care.sealing import UnsealError, seal, unseal

PENDING_KEY = "smart_pending"
LAUNCH_KEY = "smart"
MAX_PENDING = 3
PENDING_SECONDS = 600
"""Time from the EHR's launch to its answer: enough to sign in at the EHR, no more."""
LAUNCH_ID_BYTES = 16
COOKIE_BUDGET_BYTES = 3600
"""Browsers drop cookies over 4096 bytes; the signed session must stay under that."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PendingLaunch(_Strict):
    state: str = Field(min_length=1, max_length=200)
    verifier: str = Field(min_length=43, max_length=128)
    iss: str = Field(min_length=1, max_length=2000)
    started: int


class OpenLaunch(_Strict):
    id: str = Field(min_length=1, max_length=64)
    iss: str = Field(min_length=1, max_length=2000)
    patient: str = Field(min_length=1, max_length=200)
    fhir_user: str | None = None
    scope: str = Field(max_length=4000)
    expires_at: int
    sealed_token: str

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def access_token(self, secret_key: str) -> str | None:
        try:
            return unseal(secret_key, self.sealed_token, _associated(self.id))
        except UnsealError:
            return None


def _associated(launch_id: str) -> str:
    # Distinct from the reminder links sealed with the same key: neither opens as the other.
    return f"smart-launch:{launch_id}"


def add_pending(request: Request, pending: PendingLaunch) -> None:
    now = int(time.time())
    kept = [p for p in _pending(request) if now - p.started < PENDING_SECONDS]
    kept = [*kept, pending][-MAX_PENDING:]
    request.session[PENDING_KEY] = [p.model_dump() for p in kept]


def take_pending(request: Request, state: str) -> PendingLaunch | None:
    """The launch this ``state`` belongs to, removed (a state is good for one answer), or None
    when there is none or it is older than ``PENDING_SECONDS``."""
    entries = _pending(request)
    given = state.encode("utf-8")
    found = next((p for p in entries if secrets.compare_digest(p.state.encode(), given)), None)
    if found is None:
        return None
    request.session[PENDING_KEY] = [p.model_dump() for p in entries if p is not found]
    if time.time() - found.started >= PENDING_SECONDS:
        return None
    return found


def _pending(request: Request) -> list[PendingLaunch]:
    raw = request.session.get(PENDING_KEY)
    if not isinstance(raw, list):
        return []
    found: list[PendingLaunch] = []
    for item in raw:
        try:
            found.append(PendingLaunch.model_validate(item))
        except ValidationError:
            continue
    return found


def open_launch(
    request: Request,
    secret_key: str,
    *,
    iss: str,
    patient: str,
    fhir_user: str | None,
    scope: str,
    expires_at: int,
    access_token: str,
) -> OpenLaunch:
    launch_id = secrets.token_urlsafe(LAUNCH_ID_BYTES)
    launch = OpenLaunch(
        id=launch_id,
        iss=iss,
        patient=patient,
        fhir_user=fhir_user,
        scope=scope,
        expires_at=expires_at,
        sealed_token=seal(secret_key, access_token, _associated(launch_id)),
    )
    request.session[LAUNCH_KEY] = launch.model_dump()
    return launch


def current_launch(request: Request) -> OpenLaunch | None:
    raw: Any = request.session.get(LAUNCH_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return OpenLaunch.model_validate(raw)
    except ValidationError:
        return None


def end_launch(request: Request) -> None:
    request.session.pop(LAUNCH_KEY, None)


def session_size(request: Request) -> int:
    """Roughly the bytes the session cookie will take (JSON, base64, signature)."""
    return len(json.dumps(dict(request.session))) * 4 // 3 + 64
