"""Authenticating the CDS client on every call, as CDS Hooks 2.0 requires ("Trusting CDS
Clients"): a JWT in ``Authorization: Bearer``, signed with the EHR's private key.

Accepted only when:
- the header names an asymmetric algorithm (RSA, RSA-PSS, ECDSA or EdDSA: never ``none`` and
  never HMAC, which would need a shared secret), ``typ`` JWT and a ``kid``;
- ``iss`` is an EHR in ``cds_clients``, and the signature verifies with the key of that ``kid``
  in the JWKS published at the issuer's configured URL (never a ``jku`` from the token itself,
  which an attacker could point at their own keys);
- ``aud`` is exactly the URL of the endpoint being called; ``exp``, ``iat`` and ``jti`` are
  present and the token has not expired;
- its ``jti`` has not been used before (kept until the token expires, in the database so that
  every worker sees it).
Anything else is a 401 that says what was wrong, and nothing of the request is processed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spinepath.settings import CdsClient, Settings
from spinepath.store.models import CdsTokenSeen, utcnow

ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
LEEWAY_SECONDS = 30
"""Clock difference tolerated between the EHR and this server."""
JWKS_CACHE_SECONDS = 300


class CdsAuthError(Exception):
    """The call is not from a trusted CDS client; the message says why (safe to return)."""


@dataclass(frozen=True)
class CdsCaller:
    client: CdsClient
    claims: dict[str, Any]


@lru_cache(maxsize=64)
def jwks_client(url: str) -> jwt.PyJWKClient:
    """The one key-set client per JWKS URL, for the CDS callers' JWTs and SMART id_tokens."""
    # Keys are cached per URL and refetched when a new kid appears (key rotation).
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise CdsAuthError("no Authorization header: a signed JWT is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError("the Authorization header is not a Bearer token")
    return token.strip()


def _client(settings: Settings, issuer: object) -> CdsClient:
    for client in settings.cds_clients:
        if client.iss == issuer:
            return client
    raise CdsAuthError("the token's issuer is not a trusted CDS client")


def verify(
    session: Session, settings: Settings, authorization: str | None, endpoint_url: str
) -> CdsCaller:
    token = _bearer(authorization)
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise CdsAuthError(f"the token cannot be read ({error})") from error
    algorithm = header.get("alg")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise CdsAuthError(f"algorithm {algorithm!r} is not allowed: use an asymmetric one")
    if header.get("typ") != "JWT" or not header.get("kid"):
        raise CdsAuthError("the token header needs typ JWT and a kid")
    client = _client(settings, unverified.get("iss"))
    try:
        key = jwks_client(client.jwks_url).get_signing_key(str(header["kid"]))
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[str(algorithm)],
            audience=endpoint_url,
            issuer=client.iss,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.PyJWKClientError as error:
        raise CdsAuthError(f"the signing key cannot be found ({error})") from error
    except jwt.PyJWTError as error:
        raise CdsAuthError(f"the token is not valid ({error})") from error
    _first_use(session, client, claims)
    return CdsCaller(client=client, claims=claims)


def _first_use(session: Session, client: CdsClient, claims: dict[str, Any]) -> None:
    now = utcnow()
    session.execute(delete(CdsTokenSeen).where(CdsTokenSeen.expires_at < now))
    expires = dt.datetime.fromtimestamp(float(claims["exp"]), dt.UTC)
    digest = hashlib.sha256(f"{client.iss}\n{claims['jti']}".encode()).hexdigest()
    try:
        with session.begin_nested():
            session.add(
                CdsTokenSeen(
                    jti_hash=digest,
                    issuer=client.iss[:500],
                    expires_at=expires + dt.timedelta(seconds=LEEWAY_SECONDS),
                )
            )
    except IntegrityError as error:
        raise CdsAuthError("the token has been used before (jti replayed)") from error
