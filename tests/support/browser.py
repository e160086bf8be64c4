"""Browser tests: Debian Chromium driven by Playwright against an in-process server on loopback.

Playwright cannot download its own browsers here, so it launches ``/usr/bin/chromium``
(fixtures in tests/browser/conftest.py).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import ViewportSize

from support.live_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(tempfile.gettempdir()) / "spinepath-shots"
AXE = Path(__file__).parents[1] / "browser" / "vendor" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


class LiveServer:
    """The app served by uvicorn in a thread of the test process."""

    def __init__(
        self, app: FastAPI, port: int | None = None, lifespan: Literal["on", "off"] = "on"
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=lifespan,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
