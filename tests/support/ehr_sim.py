"""A simulated EHR, for tests and demos: a FHIR server over fixture bundles, a SMART App Launch
2.0 authorization server that approves every launch at once, and CDS Hooks JWT signing.

- ``GET /`` lists the patients, each with a link that launches spinepath (``/launch/{id}``);
- ``GET /fhir/.well-known/smart-configuration``, ``GET /jwks/{instance}``;
- ``GET /authorize``: checks the client, redirect_uri, ``aud``, ``launch`` and the PKCE
  challenge (S256 only), then redirects with a one-time code bound to all of them;
- ``POST /token``: checks the code, redirect_uri, client and ``code_verifier`` against the
  challenge; answers access_token, patient, scope and a signed id_token with ``fhirUser``;
- ``GET /fhir/Patient/{id}`` and ``GET /fhir/{type}?patient={id}``: only with a live access token
  for that patient whose scope covers the type.

It is written plainly, from the SMART App Launch text, and shares no code with spinepath's client,
so that the tests check one against the other. For a demo (see docs/smart-launch.md)::

    PYTHONPATH=tests .venv/bin/python -m support.ehr_sim --port 9000 --app http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import html
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cds.ehr import SimulatedEhr as CdsSigner
from cds.ehr import _jwk
from spinepath import clock
from support.browser import LiveServer
from support.intakes import low_back_pain
from support.live_server import free_port

FIXTURES = Path(__file__).parent / "data" / "ehr"
CLIENT_ID = "spinepath"
USER = "Practitioner/dr-hale"
"""The clinician signed in at the simulated EHR."""
CODE_SECONDS = 60
TOKEN_SECONDS = 3600


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Client:
    redirect_uri: str
    launch_url: str
    secret: str | None = None


@dataclass(frozen=True)
class Code:
    client_id: str
    redirect_uri: str
    patient: str
    scope: str
    challenge: str
    issued: float


@dataclass(frozen=True)
class Token:
    patient: str
    scope: str
    expires: float


@dataclass
class Behaviour:
    """What a test can make the EHR do differently."""

    deny: bool = False
    """Answer the authorization request with error=access_denied."""
    pkce_methods: tuple[str, ...] = ("S256",)
    id_token: bool = True
    grant_scope: str | None = None
    """Grant this scope instead of what was asked for."""
    stray: dict[str, Any] | None = None
    """A resource returned in every Condition search whatever the patient (a broken EHR)."""
    forged_id_token: bool = False
    """Sign the id_token with a key that is not in the JWKS."""


@dataclass
class SimulatedEhr:
    url: str = ""
    """Where the EHR is served (set once its port is known)."""
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    behaviour: Behaviour = field(default_factory=Behaviour)
    launches: dict[str, str] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    fhir_requests: list[str] = field(default_factory=list)
    """Every FHIR request (path and query), in order."""
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1())
    )
    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    # Key ids fresh per instance: a later EHR on a reused port must not meet keys that spinepath
    # cached, under the same kid, from an earlier one.
    kid_suffix: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def fhir_base(self) -> str:
        return self.url + "/fhir"

    @property
    def jwks_url(self) -> str:
        # Unique per instance: spinepath caches a JWKS client per URL, and a port can be reused.
        return f"{self.url}/jwks/{self.kid_suffix}"

    def register(self, app_url: str, client_id: str = CLIENT_ID, secret: str | None = None) -> None:
        """Registers spinepath at ``app_url``: its launch URL and its one redirect URI."""
        self.clients[client_id] = Client(
            redirect_uri=app_url + "/smart/callback",
            launch_url=app_url + "/smart/launch",
            secret=secret,
        )

    def launch_url(self, patient: str, client_id: str = CLIENT_ID) -> str:
        """Where the EHR sends the browser to launch the app for ``patient``, as a clinician's
        click in the chart would."""
        handle = secrets.token_urlsafe(12)
        self.launches[handle] = patient
        query = urlencode({"iss": self.fhir_base, "launch": handle})
        return f"{self.clients[client_id].launch_url}?{query}"

    @property
    def cds(self) -> CdsSigner:
        """Signs CDS Hooks JWTs with this EHR's keys (published at ``jwks_url``)."""
        return CdsSigner(
            self.jwks_url,
            self.ec_key,
            self.rsa_key,
            f"ec-{self.kid_suffix}",
            f"rsa-{self.kid_suffix}",
        )

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                _jwk(self.ec_key, f"ec-{self.kid_suffix}", "ES384"),
                _jwk(self.rsa_key, f"rsa-{self.kid_suffix}", "RS384"),
            ]
        }

    def id_token(self, client_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": USER.rpartition("/")[2],
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "fhirUser": f"{self.fhir_base}/{USER}",
        }
        key = self.rsa_key
        if self.behaviour.forged_id_token:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, key, algorithm="RS384", headers={"kid": f"rsa-{self.kid_suffix}"})


def matching_answers() -> dict[str, Any]:
    """Questionnaire answers that agree with the record of ``ehr-123`` (a woman born on
    2 March 1971) and a fever: an urgent result."""
    today = clock.today()
    age = today.year - 1971 - ((today.month, today.day) < (3, 2))
    return low_back_pain(age=age, sex="female", systemic={"fever": True})


def load_records(directory: Path = FIXTURES) -> dict[str, list[dict[str, Any]]]:
    """Each fixture bundle's resources, by the id of the Patient in it."""
    records: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        found = [entry["resource"] for entry in bundle["entry"]]
        patient = next(r["id"] for r in found if r["resourceType"] == "Patient")
        records[patient] = found
    return records


def _scope_allows(scope: str, resource_type: str, letter: str) -> bool:
    for item in scope.split():
        if not item.startswith("patient/"):
            continue
        name, _, permissions = item[len("patient/") :].partition(".")
        if name not in (resource_type, "*"):
            continue
        if permissions in ("read", "*") or letter in permissions.split("?")[0]:
            return True
    return False


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def create_app(ehr: SimulatedEhr) -> FastAPI:  # noqa: C901 - one small server, read top down
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        items = "".join(
            f'<li><a href="/launch/{html.escape(pid)}">Launch spinepath for '
            f"{html.escape(_name(resources))}</a> ({html.escape(pid)})</li>"
            for pid, resources in ehr.records.items()
        )
        return f"<!doctype html><title>Simulated EHR</title><h1>Simulated EHR</h1><ul>{items}</ul>"

    @app.get("/launch/{patient}")
    def launch(patient: str) -> Response:
        if patient not in ehr.records or CLIENT_ID not in ehr.clients:
            return Response("no such patient or app", status_code=404)
        return RedirectResponse(ehr.launch_url(patient), status_code=302)

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> dict[str, Any]:
        return {
            "issuer": ehr.url,
            "jwks_uri": ehr.jwks_url,
            "authorization_endpoint": ehr.url + "/authorize",
            "token_endpoint": ehr.url + "/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["openid", "fhirUser", "launch", "patient/*.rs"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": list(ehr.behaviour.pkce_methods),
            "capabilities": [
                "launch-ehr",
                "client-public",
                "client-confidential-symmetric",
                "context-ehr-patient",
                "permission-patient",
                "permission-v2",
                "sso-openid-connect",
            ],
        }

    @app.get("/jwks/{suffix}")
    def jwks(suffix: str) -> dict[str, Any]:
        return ehr.jwks()

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        query = request.query_params
        client = ehr.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri != client.redirect_uri:
            # Never redirect to an address not registered for the client.
            return Response("unknown client or redirect_uri", status_code=400)

        def back(**params: str) -> RedirectResponse:
            state = query.get("state")
            extra = {"state": state} if state is not None else {}
            return RedirectResponse(
                f"{redirect_uri}?{urlencode({**params, **extra})}", status_code=302
            )

        scope = query.get("scope", "")
        patient = ehr.launches.pop(query.get("launch", ""), None)
        problems = [
            ("response_type must be code", query.get("response_type") != "code"),
            ("aud must be the FHIR base", query.get("aud") != ehr.fhir_base),
            ("the launch scope is missing", "launch" not in scope.split()),
            ("unknown or used launch", patient is None),
            ("state is missing", not query.get("state")),
            ("PKCE S256 is required", query.get("code_challenge_method") != "S256"),
            ("code_challenge is missing", not query.get("code_challenge")),
        ]
        for description, failed in problems:
            if failed:
                return back(error="invalid_request", error_description=description)
        if ehr.behaviour.deny:
            return back(error="access_denied", error_description="the user declined")
        if patient is None:
            raise ValueError("checked above")
        code = secrets.token_urlsafe(24)
        ehr.codes[code] = Code(
            client_id=query["client_id"],
            redirect_uri=redirect_uri,
            patient=patient,
            scope=ehr.behaviour.grant_scope or scope,
            challenge=query["code_challenge"],
            issued=time.time(),
        )
        return back(code=code)

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        client_id = _authenticated_client(ehr, request, values)
        if client_id is None:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        if values.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "authorization_code only")
        code = ehr.codes.pop(values.get("code", ""), None)  # one use, right or wrong
        if code is None or time.time() - code.issued > CODE_SECONDS:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if code.client_id != client_id or code.redirect_uri != values.get("redirect_uri"):
            return _oauth_error("invalid_grant", "the code was issued to another client")
        if s256(values.get("code_verifier", "")) != code.challenge:
            return _oauth_error("invalid_grant", "code_verifier does not match the challenge")
        access = secrets.token_urlsafe(32)
        ehr.tokens[access] = Token(code.patient, code.scope, time.time() + TOKEN_SECONDS)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": code.scope,
            "patient": code.patient,
            "need_patient_banner": True,
        }
        if ehr.behaviour.id_token and "openid" in code.scope.split():
            body["id_token"] = ehr.id_token(client_id)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _grant(request: Request) -> Token | Response:
        ehr.fhir_requests.append(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
        header = request.headers.get("authorization", "")
        found = ehr.tokens.get(header.removeprefix("Bearer ").strip())
        if not header.startswith("Bearer ") or found is None or found.expires < time.time():
            return JSONResponse(
                _outcome("login", "a valid access token is required"), status_code=401
            )
        return found

    @app.get("/fhir/Patient/{patient}")
    def read_patient(patient: str, request: Request) -> Response:
        grant = _grant(request)
        if isinstance(grant, Response):
            return grant
        if patient != grant.patient or not _scope_allows(grant.scope, "Patient", "r"):
            return JSONResponse(_outcome("forbidden", "not this token's patient"), 403)
        found = next(r for r in ehr.records[patient] if r["resourceType"] == "Patient")
        return _fhir(found)

    @app.get("/fhir/{resource_type}")
    def search(resource_type: str, request: Request) -> Response:
        grant = _grant(request)
        if isinstance(grant, Response):
            return grant
        patient = request.query_params.get("patient")
        if patient != grant.patient or not _scope_allows(grant.scope, resource_type, "s"):
            return JSONResponse(_outcome("forbidden", "outside this token's grant"), 403)
        found = [r for r in ehr.records[patient] if r["resourceType"] == resource_type]
        if resource_type == "Condition" and ehr.behaviour.stray is not None:
            found.append(ehr.behaviour.stray)
        return _fhir(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(found),
                "link": [{"relation": "self", "url": str(request.url)}],
                "entry": [
                    {
                        "fullUrl": f"{ehr.fhir_base}/{r['resourceType']}/{r['id']}",
                        "resource": copy.deepcopy(r),
                        "search": {"mode": "match"},
                    }
                    for r in found
                ],
            }
        )

    return app


def _authenticated_client(ehr: SimulatedEhr, request: Request, form: dict[str, str]) -> str | None:
    """The client of a token request: HTTP Basic for a confidential client, ``client_id`` in the
    body for a public one."""
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[len("Basic ") :]).decode()
        except ValueError:
            return None
        client_id, _, secret = decoded.partition(":")
        client = ehr.clients.get(client_id)
        if client is None or client.secret is None:
            return None
        return client_id if secrets.compare_digest(secret, client.secret) else None
    client_id = form.get("client_id", "")
    client = ehr.clients.get(client_id)
    # A confidential client must authenticate; a public one only names itself.
    return client_id if client is not None and client.secret is None else None


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def _fhir(resource: dict[str, Any]) -> Response:
    return JSONResponse(resource, media_type="application/fhir+json")


def _name(resources: list[dict[str, Any]]) -> str:
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    name = patient["name"][0]
    return " ".join([*name.get("given", []), name.get("family", "")])


@contextmanager
def running_ehr(app_url: str | None = None, *, port: int | None = None) -> Iterator[SimulatedEhr]:
    """The simulated EHR served on loopback in a thread, with the fixture records, and spinepath
    registered at ``app_url`` when given."""
    chosen = port or free_port()
    ehr = SimulatedEhr(url=f"http://127.0.0.1:{chosen}", records=load_records())
    if app_url is not None:
        ehr.register(app_url)
    server = LiveServer(create_app(ehr), chosen, lifespan="off")
    server.start()
    try:
        yield ehr
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--app", default="http://127.0.0.1:8000", help="spinepath's address, as the browser sees it"
    )
    args = parser.parse_args()
    ehr = SimulatedEhr(url=f"http://127.0.0.1:{args.port}", records=load_records())
    ehr.register(args.app.rstrip("/"))
    settings = [{"iss": ehr.fhir_base, "client_id": CLIENT_ID, "clinic": "Demo Clinic"}]
    print("Configure spinepath with:")
    print(f"  export SPINEPATH_SMART_EHRS='{json.dumps(settings)}'")
    print(f"  export SPINEPATH_PUBLIC_URL={args.app.rstrip('/')}")
    print(f"Then open {ehr.url}/ and launch spinepath for a patient.")
    uvicorn.run(create_app(ehr), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
