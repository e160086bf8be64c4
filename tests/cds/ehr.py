"""A simulated EHR's side of CDS Hooks: its signing keys, the JWKS it publishes on loopback, and
the JWTs it signs for each call."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://ehr.example.org"
SERVICE_BASE = "https://cds.spinepath.test"


@dataclass
class SimulatedEhr:
    jwks_url: str
    ec_key: ec.EllipticCurvePrivateKey
    rsa_key: rsa.RSAPrivateKey
    # Fresh ids per instance: a later EHR on a reused port must not meet the keys spinepath
    # cached, under the same kid, from an earlier one.
    ec_kid: str = "ec-1"
    rsa_kid: str = "rsa-1"

    def token(
        self,
        endpoint: str,
        *,
        algorithm: str = "ES384",
        issuer: str = ISSUER,
        lifetime: int = 300,
        jti: str | None = None,
        kid: str | None = None,
        key: Any = None,
        drop: tuple[str, ...] = (),
        typ: str = "JWT",
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": SERVICE_BASE + endpoint,
            "exp": now + lifetime,
            "iat": now,
            "jti": jti or str(uuid.uuid4()),
            "tenant": "riverside",
        }
        for name in drop:
            claims.pop(name, None)
        signing = (
            key
            if key is not None
            else (self.rsa_key if algorithm.startswith(("RS", "PS")) else self.ec_key)
        )
        headers = {
            "typ": typ,
            "kid": kid or (self.rsa_kid if algorithm.startswith(("RS", "PS")) else self.ec_kid),
        }
        return jwt.encode(claims, signing, algorithm=algorithm, headers=headers)


def _jwk(key: Any, kid: str, algorithm: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": algorithm}


@contextmanager
def simulated_ehr() -> Iterator[SimulatedEhr]:
    ec_key = ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    suffix = uuid.uuid4().hex[:8]
    ec_kid, rsa_kid = f"ec-{suffix}", f"rsa-{suffix}"
    jwks = json.dumps(
        {"keys": [_jwk(ec_key, ec_kid, "ES384"), _jwk(rsa_key, rsa_kid, "RS384")]}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield SimulatedEhr(
            # A path unique to this EHR: spinepath caches a JWKS client per URL (refetching an
            # unknown kid only after a cool-down), and a later EHR may get the same port.
            f"http://127.0.0.1:{server.server_address[1]}/jwks/{suffix}",
            ec_key,
            rsa_key,
            ec_kid,
            rsa_kid,
        )
    finally:
        server.shutdown()
        server.server_close()
