"""Runs `spinepath serve` in a subprocess on a free loopback port, for load and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

SPINEPATH = Path(sys.executable).parent / "spinepath"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def live_server(env: dict[str, str], workers: int = 2, timeout: float = 30) -> Iterator[LiveServer]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(SPINEPATH),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_until_up(server, timeout)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_up(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.process.stdout.read().decode() if server.process.stdout else ""
            raise RuntimeError(f"spinepath serve exited early:\n{output}")
        try:
            if httpx2.get(f"{server.url}/docs/docs.css", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("spinepath serve did not answer in time")
