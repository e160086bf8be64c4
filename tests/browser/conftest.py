"""Browser tests: Debian Chromium driven by Playwright against a live server on loopback.

Without ``/usr/bin/chromium`` every browser test is skipped with the reason (CI installs the
package). The setup is in tests/support/browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import expect

from support.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, LiveServer

# Playwright's assertions give up after 5 s. With the whole suite sharing two cores (load 5-6),
# one page took longer than that to come up and a correct journey failed; a page that never
# shows what is expected still fails, after 15 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-base-url's fixture (a method fixture that pytest 9 deprecates)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # The app's CSP forbids injected scripts; axe-core is injected by the test only.
    return {**browser_context_args, "bypass_csp": True, "viewport": PHONE}


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
