"""A small FHIR server on loopback for the CDS services to read a record from: it answers GETs
from a dict of relative URLs and remembers every request's path and Authorization header."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "ehr-issued-access-token"


@dataclass
class FhirServer:
    base: str
    answers: dict[str, Any] = field(default_factory=dict)
    """Relative URL (``Condition?patient=pat-1``) -> JSON body, or an int for an HTTP status."""
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def authorization(self) -> dict[str, Any]:
        return {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "spinepath",
        }


@contextmanager
def fhir_server() -> Iterator[FhirServer]:
    server_state: list[FhirServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state = server_state[0]
            relative = self.path.removeprefix("/fhir/")
            state.requests.append((relative, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"resourceType": "OperationOutcome"})
                return
            found = state.answers.get(relative, 404)
            if isinstance(found, int):
                self._answer(found, {"resourceType": "OperationOutcome"})
            else:
                self._answer(200, found)

        def _answer(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            """Quiet: a client that gives up (a test of a 412) may close mid-answer."""

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.append(FhirServer(f"http://127.0.0.1:{server.server_address[1]}/fhir"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server_state[0]
    finally:
        server.shutdown()
        server.server_close()
