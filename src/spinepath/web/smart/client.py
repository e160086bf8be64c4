"""spinepath as a SMART App Launch 2.0 client of an EHR: discovery, the authorization request with
PKCE S256, the code exchange, the id_token, and reading the launched patient's record.

The OAuth 2.0 client is Authlib's (over httpx2); nothing here builds a PKCE challenge or a token
request by hand. Every address that a token or patient data is sent to must be https (or
loopback, for tests and demos). Errors are ``LaunchError``: their message is safe to show.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from pydantic import BaseModel, ConfigDict, ValidationError

from spinepath.settings import SmartEhr, is_loopback_url
from spinepath.web.cds.security import ASYMMETRIC_ALGORITHMS, jwks_client

HTTP_TIMEOUT_SECONDS = 10.0
STATE_CHARS = 40
"""About 238 bits: SMART asks for at least 122."""
VERIFIER_CHARS = 64
"""RFC 7636 allows 43 to 128 characters."""
RECORD_TYPES = (
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Procedure",
    "Observation",
    "ImagingStudy",
    "DiagnosticReport",
)
"""Searched by patient, in this order, after reading the Patient resource itself."""
SEARCH_PAGE_SIZE = 100
MAX_SEARCH_PAGES = 5
"""A record longer than this per resource type is shown in part, and the page says so."""
DEFAULT_TOKEN_SECONDS = 3600
"""When the EHR does not say, access tokens are taken to last an hour (SMART's upper bound)."""
FHIR_JSON = "application/fhir+json"
ID_TOKEN_LEEWAY_SECONDS = 30


class LaunchError(Exception):
    """The launch cannot go on. ``str()`` is shown to the clinician; ``status`` is the answer's."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SmartConfiguration(BaseModel):
    """The parts of ``.well-known/smart-configuration`` that an EHR launch needs."""

    model_config = ConfigDict(extra="ignore")

    authorization_endpoint: str
    token_endpoint: str
    capabilities: list[str] = []
    code_challenge_methods_supported: list[str] = []
    issuer: str | None = None
    jwks_uri: str | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    verifier: str


@dataclass(frozen=True)
class Grant:
    """What the token endpoint granted, read and checked."""

    access_token: str
    patient: str
    scope: str
    expires_at: int
    fhir_user: str | None


@dataclass
class Record:
    """The launched patient's resources, as this launch's grant allowed them to be read."""

    patient: dict[str, Any] | None
    resources: list[dict[str, Any]] = field(default_factory=list)
    not_shared: list[str] = field(default_factory=list)
    """Resource types the grant does not cover: not asked for."""
    failed: list[str] = field(default_factory=list)
    """Resource types the EHR did not return, with the reason."""
    truncated: list[str] = field(default_factory=list)
    dropped: int = 0
    """Resources returned for a search by this patient that name another patient."""

    def bundle(self, base: str) -> dict[str, Any]:
        """The record as one FHIR collection Bundle (what ``interop.record`` reads)."""
        everything = ([self.patient] if self.patient else []) + self.resources
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"{base}/{r['resourceType']}/{r.get('id', '')}", "resource": r}
                for r in everything
            ],
        }


def _secure(url: str) -> bool:
    return url.startswith("https://") or (url.startswith("http://") and is_loopback_url(url))


def _http() -> httpx2.Client:
    # Redirects are not followed: a token must never be carried to an address not checked here.
    return httpx2.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)


def base_url(ehr: SmartEhr) -> str:
    return ehr.iss.rstrip("/")


def find_ehr(ehrs: list[SmartEhr], iss: str) -> SmartEhr | None:
    """The configured EHR whose FHIR base is ``iss`` (a trailing slash makes no difference)."""
    wanted = iss.rstrip("/")
    return next((ehr for ehr in ehrs if base_url(ehr) == wanted), None)


def discover(ehr: SmartEhr) -> SmartConfiguration:
    """Reads the EHR's SMART configuration; relative endpoints are resolved against its base."""
    address = base_url(ehr) + "/.well-known/smart-configuration"
    try:
        with _http() as http:
            response = http.get(address, headers={"Accept": "application/json"})
    except httpx2.HTTPError as error:
        raise LaunchError(
            f"The EHR's SMART configuration could not be read at {address} ({error}).", status=502
        ) from error
    if response.status_code != 200:
        raise LaunchError(
            f"The EHR's SMART configuration at {address} answered HTTP {response.status_code}.",
            status=502,
        )
    try:
        config = SmartConfiguration.model_validate_json(response.content)
    except ValidationError as error:
        raise LaunchError(
            f"The EHR's SMART configuration at {address} is not usable: it needs an "
            "authorization_endpoint and a token_endpoint.",
            status=502,
        ) from error
    base = base_url(ehr) + "/"
    config = config.model_copy(
        update={
            "authorization_endpoint": urljoin(base, config.authorization_endpoint),
            "token_endpoint": urljoin(base, config.token_endpoint),
            "jwks_uri": urljoin(base, config.jwks_uri) if config.jwks_uri else None,
        }
    )
    for name in ("authorization_endpoint", "token_endpoint"):
        if not _secure(getattr(config, name)):
            raise LaunchError(f"The EHR's {name} is not an https address.", status=502)
    if "S256" not in config.code_challenge_methods_supported:
        # SMART 2.0 makes S256 mandatory; a server without it cannot protect the code.
        raise LaunchError(
            "The EHR's SMART configuration does not offer PKCE with S256, which SMART App "
            "Launch 2.0 requires.",
            status=502,
        )
    return config


def requested_scope(ehr: SmartEhr) -> str:
    scopes = ehr.scope.split()
    return " ".join(scopes if "launch" in scopes else ["launch", *scopes])


@contextmanager
def _oauth(
    ehr: SmartEhr, redirect_uri: str | None = None, token: dict[str, Any] | None = None
) -> Iterator[OAuth2Client]:
    secret = ehr.client_secret.get_secret_value() if ehr.client_secret else None
    client = OAuth2Client(
        client_id=ehr.client_id,
        client_secret=secret,
        # A public client sends its client_id in the body; a confidential one authenticates.
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        scope=requested_scope(ehr),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token=token,
        timeout=HTTP_TIMEOUT_SECONDS,
        follow_redirects=False,
    )
    try:
        yield client
    finally:
        client.close()


def authorization_request(
    ehr: SmartEhr, config: SmartConfiguration, launch: str, redirect_uri: str
) -> AuthorizationRequest:
    verifier = generate_token(VERIFIER_CHARS)
    with _oauth(ehr, redirect_uri) as client:
        url, state = client.create_authorization_url(
            config.authorization_endpoint,
            state=generate_token(STATE_CHARS),
            code_verifier=verifier,
            launch=launch,
            aud=base_url(ehr),
        )
    return AuthorizationRequest(url=str(url), state=str(state), verifier=verifier)


def exchange_code(
    ehr: SmartEhr,
    config: SmartConfiguration,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
) -> Grant:
    with _oauth(ehr, redirect_uri) as client:
        try:
            token = client.fetch_token(
                config.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
        except OAuthError as error:
            detail = f"{error.error}: {error.description}" if error.description else error.error
            raise LaunchError(f"The EHR refused to issue an access token ({detail}).") from error
        except (httpx2.HTTPError, ValueError) as error:
            raise LaunchError(
                f"The EHR's token endpoint did not answer usably ({error}).", status=502
            ) from error
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise LaunchError("The EHR's token response has no access_token.", status=502)
    if str(token.get("token_type", "")).lower() != "bearer":
        raise LaunchError("The EHR's token is not a Bearer token.", status=502)
    patient = token.get("patient")
    if not isinstance(patient, str) or not patient:
        raise LaunchError(
            "The EHR did not say which patient this launch is for: launch spinepath from a "
            "patient's record."
        )
    lifetime = token.get("expires_in")
    seconds = int(lifetime) if isinstance(lifetime, int | float) else DEFAULT_TOKEN_SECONDS
    id_token = token.get("id_token")
    return Grant(
        access_token=access_token,
        patient=patient,
        scope=str(token.get("scope") or ""),
        expires_at=int(time.time()) + max(0, seconds),
        fhir_user=(
            verified_fhir_user(ehr, config, id_token) if isinstance(id_token, str) else None
        ),
    )


def verified_fhir_user(ehr: SmartEhr, config: SmartConfiguration, id_token: str) -> str | None:
    """``fhirUser`` from an id_token whose signature, issuer, audience and expiry all check.

    Without an issuer and a JWKS in the EHR's configuration the id_token cannot be checked, and
    the clinician stays unidentified rather than believed.
    """
    if not config.issuer or not config.jwks_uri or not _secure(config.jwks_uri):
        return None
    try:
        header = jwt.get_unverified_header(id_token)
        algorithm = str(header.get("alg"))
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise LaunchError(
                f"The EHR's id_token uses {algorithm!r}: an asymmetric key is needed."
            )
        key = jwks_client(config.jwks_uri).get_signing_key_from_jwt(id_token)
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=[algorithm],
            audience=ehr.client_id,
            issuer=config.issuer,
            leeway=ID_TOKEN_LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise LaunchError(f"The EHR's id_token is not valid ({error}).", status=502) from error
    fhir_user = claims.get("fhirUser")
    if not isinstance(fhir_user, str) or not fhir_user:
        return None
    # Shown and audited relative to the EHR ("Practitioner/123") when it is on the same server.
    prefix = base_url(ehr) + "/"
    return fhir_user[len(prefix) :] if fhir_user.startswith(prefix) else fhir_user


def granted(scope: str) -> dict[str, set[str]]:
    """What a granted scope string lets the app do, by resource type (``*`` for all): a set of
    ``r`` (read) and ``s`` (search). Understands SMART v2 (``patient/Condition.rs``, with or
    without a ``?`` filter, which the server applies) and v1 (``patient/*.read``)."""
    allowed: dict[str, set[str]] = {}
    for item in scope.split():
        context, _, rest = item.partition("/")
        if context not in ("patient", "user") or "." not in rest:
            continue
        resource, _, permissions = rest.partition(".")
        permissions = permissions.split("?", 1)[0]
        if permissions in ("read", "*"):
            letters = {"r", "s"}
        elif permissions.isalpha() and set(permissions) <= set("cruds"):
            letters = set(permissions) & {"r", "s"}
        else:
            continue
        allowed.setdefault(resource, set()).update(letters)
    return allowed


def _allows(allowed: dict[str, set[str]], resource: str, letter: str) -> bool:
    return letter in allowed.get(resource, set()) | allowed.get("*", set())


def _about_patient(resource: dict[str, Any], base: str, patient: str) -> bool:
    """Whether a resource names the launched patient as its subject (or names no one)."""
    references = [
        value.get("reference")
        for key in ("subject", "patient")
        if isinstance(value := resource.get(key), dict)
    ]
    references = [r for r in references if isinstance(r, str)]
    wanted = {f"Patient/{patient}", f"{base}/Patient/{patient}"}
    return not references or any(r in wanted for r in references)


def fetch_record(ehr: SmartEhr, access_token: str, patient: str, scope: str) -> Record:
    """Reads the patient and searches each of ``RECORD_TYPES`` by patient, with the bearer token.

    Only what the grant covers is asked for. A resource returned for this patient's search that
    names another patient is dropped and counted: the page must never mix two patients.
    """
    base = base_url(ehr)
    allowed = granted(scope)
    token = {"access_token": access_token, "token_type": "Bearer"}
    record = Record(patient=None)
    with _oauth(ehr, token=token) as client:
        if _allows(allowed, "Patient", "r"):
            record.patient = _read_patient(client, base, patient)
        else:
            record.not_shared.append("Patient")
        for resource_type in RECORD_TYPES:
            if not _allows(allowed, resource_type, "s"):
                record.not_shared.append(resource_type)
                continue
            _search(client, record, base, resource_type, patient)
    return record


def _get(client: OAuth2Client, url: str, params: dict[str, str] | None = None) -> httpx2.Response:
    try:
        response: httpx2.Response = client.get(url, params=params, headers={"Accept": FHIR_JSON})
    except httpx2.HTTPError as error:
        raise LaunchError(f"The EHR's FHIR server could not be reached ({error}).", 502) from error
    if response.status_code == 401:
        raise LaunchError(
            "The EHR no longer accepts this launch's access token. Open spinepath again from the "
            "patient's record.",
            status=401,
        )
    return response


def _read_patient(client: OAuth2Client, base: str, patient: str) -> dict[str, Any]:
    response = _get(client, f"{base}/Patient/{patient}")
    if response.status_code != 200:
        raise LaunchError(
            f"The EHR did not return the launched patient (HTTP {response.status_code}).", 502
        )
    resource = _json(response)
    if resource.get("resourceType") != "Patient" or resource.get("id") != patient:
        raise LaunchError("The EHR returned a different resource for the launched patient.", 502)
    return resource


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise LaunchError("The EHR's FHIR server answered with something not JSON.", 502) from error
    if not isinstance(body, dict):
        raise LaunchError("The EHR's FHIR server answered with something not a resource.", 502)
    return body


def _search(
    client: OAuth2Client, record: Record, base: str, resource_type: str, patient: str
) -> None:
    url: str | None = f"{base}/{resource_type}"
    params: dict[str, str] | None = {"patient": patient, "_count": str(SEARCH_PAGE_SIZE)}
    for _page in range(MAX_SEARCH_PAGES):
        if url is None:
            return
        response = _get(client, url, params)
        if response.status_code != 200:
            record.failed.append(f"{resource_type} (HTTP {response.status_code})")
            return
        bundle = _json(response)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
                continue  # OperationOutcome entries, _include'd resources
            if _about_patient(resource, base, patient):
                record.resources.append(resource)
            else:
                record.dropped += 1
        url, params = _next_page(bundle, base), None
    if url is not None:
        record.truncated.append(resource_type)


def _next_page(bundle: dict[str, Any], base: str) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = str(link.get("url") or "")
            # The bearer token goes only to the launched EHR's own FHIR server.
            same_server = urlsplit(target).netloc == urlsplit(base).netloc
            return target if same_server and target.startswith(base + "/") else None
    return None
