"""A PDF is laid out after its request's transaction has ended: while downloads are being
rendered, a clinician's worklist is not kept waiting for the database."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import pytest
from fastapi import FastAPI

from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.web.pages import decision_aid as decision_aid_page
from support.browser import LiveServer
from support.intakes import sciatica_intake
from support.web import SESSION_COOKIE, World, save_assessment, session_cookie


@pytest.fixture
def server(app: FastAPI) -> Iterator[LiveServer]:
    live = LiveServer(app)
    live.start()
    yield live
    live.stop()


def test_the_worklist_answers_while_a_pdf_is_being_laid_out(
    server: LiveServer,
    world: World,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_assessment(database, world.patient_a.id, sciatica_intake().model_dump(mode="json"))
    rendering = threading.Event()
    release = threading.Event()

    def slow_render(_aid: object) -> bytes:
        rendering.set()
        assert release.wait(timeout=30)
        return b"%PDF-1.7 laid out"

    monkeypatch.setattr(decision_aid_page, "render_summary_pdf", slow_render)
    downloaded: list[httpx2.Response] = []
    download = threading.Thread(
        target=lambda: downloaded.append(
            httpx2.get(f"{server.url}/p/{world.patient_a.link_token}/my-decision.pdf", timeout=60)
        )
    )
    download.start()
    try:
        assert rendering.wait(timeout=30), "the PDF never started"
        cookie = session_cookie(database, settings, world.clinician_a.id)
        worklist = httpx2.get(f"{server.url}/clinic", cookies={SESSION_COOKIE: cookie}, timeout=5)
        assert worklist.status_code == 200
        assert "Worklist" in worklist.text
    finally:
        release.set()
        download.join(timeout=30)
    assert downloaded[0].status_code == 200
    assert downloaded[0].content == b"%PDF-1.7 laid out"
