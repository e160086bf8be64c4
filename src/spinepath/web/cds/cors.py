"""Browser EHRs calling the CDS services: CORS on /cds-services, the CSRF guard everywhere else.

An EHR whose clinician front end runs in a browser calls the CDS services cross-origin, so the
browser first sends a preflight (OPTIONS) and then a cross-site POST. The site's CSRF guard
refuses cross-site POSTs, rightly for the pages and the API, which a session cookie
authenticates. The CDS services never read a cookie: every call carries the EHR's signed JWT
(``security``), so a forged cross-site call has nothing to borrow. For /cds-services only, and only
from an origin configured for a CDS client (``CdsClient.origins``), the call therefore goes to
Starlette's CORS middleware instead of the CSRF guard. Credentials are not allowed, so no browser
sends cookies along. Every other path, and /cds-services from any other origin, still passes the
CSRF guard unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from spinepath.settings import CdsClient
from spinepath.web.security import CsrfMiddleware

PREFIX = "/cds-services"


def origins_of(clients: Iterable[CdsClient]) -> list[str]:
    return sorted({origin.rstrip("/") for client in clients for origin in client.origins})


def _origin(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"origin":
            return str(value.decode("latin-1"))
    return None


class CdsCorsOrCsrfMiddleware:
    """CORS for the configured EHR origins on /cds-services; the CSRF guard for the rest."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.origins = frozenset(origins)
        self.csrf = CsrfMiddleware(app)
        self.cors = CORSMiddleware(
            app,
            allow_origins=sorted(self.origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/"))
            and _origin(scope) in self.origins
        ):
            await self.cors(scope, receive, send)
            return
        await self.csrf(scope, receive, send)
