"""`spinepath serve --workers 2` never outlives itself: killed outright (SIGKILL), its workers
end too and the port is free for the next `serve`; stopped (SIGTERM, SIGINT), it shuts down
cleanly with status 0."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from support.live_server import SPINEPATH, free_port

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 30
GONE_SECONDS = 5


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _answers(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/docs/docs.css", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _alive_in_session(session: int) -> list[int]:
    """The processes of a session that are still running (not zombies waiting to be reaped)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The command name is in parentheses and may hold spaces: the fields follow it.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


@contextlib.contextmanager
def serving(port: int, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`spinepath serve --workers 2` in its own session; whatever is left of it is killed."""
    process = subprocess.Popen(
        [str(SPINEPATH), "serve", "--port", str(port), "--workers", "2"],
        env={
            **os.environ,
            "SPINEPATH_ENVIRONMENT": "development",
            "SPINEPATH_DATA_DIR": str(tmp_path / "var"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _within(STARTUP_SECONDS, lambda: _answers(port)), "serve did not start"
        yield process
    finally:
        for pid in _alive_in_session(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_workers_end_with_a_killed_server_and_the_port_can_be_served_again(
    tmp_path: Path,
) -> None:
    port = free_port()
    with serving(port, tmp_path) as server:
        assert len(_alive_in_session(server.pid)) >= 3  # the server and its two workers
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        assert _within(GONE_SECONDS, lambda: not _listening(port)), "workers still serve the port"
        assert _within(GONE_SECONDS, lambda: not _alive_in_session(server.pid)), (
            f"processes left behind: {_alive_in_session(server.pid)}"
        )
    with serving(port, tmp_path) as again:
        assert _answers(port)
        assert again.poll() is None


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_shuts_down_cleanly_and_frees_the_port(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    with serving(port, tmp_path) as server:
        os.kill(server.pid, stop)
        assert server.wait(timeout=20) == 0
        assert not _listening(port)
        assert _within(GONE_SECONDS, lambda: not _alive_in_session(server.pid))
