"""A SMART EHR launch walked step by step, as the browser does it: spinepath's launch URL, the
EHR's authorization endpoint, spinepath's callback, the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx2
from fastapi.testclient import TestClient

from support.ehr_sim import SimulatedEhr

APP_URL = "http://testserver"


@dataclass(frozen=True)
class Authorize:
    """spinepath's redirect to the EHR, and the EHR's redirect back."""

    request: dict[str, str]
    """The authorization request's parameters."""
    callback: str
    """Where the EHR sent the browser back (spinepath's callback with code or error)."""


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize(client: TestClient, ehr: SimulatedEhr, patient: str) -> Authorize:
    launched = client.get(ehr.launch_url(patient), follow_redirects=False)
    assert launched.status_code == 303, launched.text
    to_ehr = launched.headers["location"]
    assert to_ehr.startswith(ehr.url + "/authorize?")
    answer = httpx2.get(to_ehr, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return Authorize(request=query(to_ehr), callback=answer.headers["location"])


def callback_path(url: str) -> str:
    assert url.startswith(APP_URL + "/smart/callback?"), url
    return url[len(APP_URL) :]


def launch(client: TestClient, ehr: SimulatedEhr, patient: str) -> str:
    """Launches spinepath for ``patient``; returns the workspace path."""
    step = authorize(client, ehr, patient)
    back = client.get(callback_path(step.callback), follow_redirects=False)
    assert back.status_code == 303, back.text
    workspace: str = back.headers["location"]
    assert workspace.startswith("/smart/workspace/")
    return workspace
