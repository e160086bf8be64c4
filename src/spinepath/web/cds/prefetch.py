"""The patient record a CDS call needs: from the prefetch the EHR sent, or from its FHIR server.

CDS Hooks 2.0 ("Providing FHIR Resources to a CDS Service"): a prefetch key that is present holds
the result of its template; ``null`` means the EHR has no data for it; a missing key means the EHR
did not or could not satisfy it, and the service fetches it itself from ``fhirServer`` with the
``fhirAuthorization`` bearer token. An OperationOutcome in place of a result is an error for that
key, and a paginated result (a ``next`` link) is read to its end. When required data can be had
neither way the service "SHALL respond with an HTTP 412 Precondition Failed"
(:class:`RecordUnavailableError`).

Reads are GETs to the EHR's own server only, over HTTPS (plain HTTP to loopback only, for local
testing), with a short timeout and no redirects, so the token is never carried elsewhere and an
order is never held up for long.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from spinepath.web.cds.models import HookRequest

TIMEOUT_SECONDS = 2.0
"""Per request: order-select runs while the clinician types, so waiting longer helps nobody."""
MAX_PAGES = 5
"""Pages read per search; a record needing more is refused (412) rather than read in part."""

TEMPLATES: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "procedures": "Procedure?patient={{context.patientId}}",
    "serviceRequests": "ServiceRequest?patient={{context.patientId}}&status=active",
}
"""The prefetch templates the order services declare in discovery: the patient, their conditions,
active medicines, procedures and open referrals (a surgical work-up)."""

_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")


class RecordUnavailableError(Exception):
    """Required record data could not be had from the prefetch or the FHIR server (HTTP 412)."""


@dataclass
class Record:
    """The resources gathered for one call, and which keys had to be fetched."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)

    def bundle(self) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in self.resources],
        }


def render(template: str, context: Mapping[str, Any]) -> str:
    """The template with its ``{{context.x}}`` tokens replaced (an error if one is missing)."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        if not isinstance(found, str | int) or isinstance(found, bool) or str(found) == "":
            raise RecordUnavailableError(
                f"context.{match.group(1)} is needed for the record and is missing"
            )
        return str(found)

    return _TOKEN.sub(value, template)


@dataclass(frozen=True)
class _Result:
    resources: list[dict[str, Any]]
    error: bool = False
    """An OperationOutcome or something that is not FHIR: read the key again from the server."""
    next_url: str | None = None
    """A paginated result: the rest is at this address."""


def _result(result: object) -> _Result:
    """The resources in a prefetch value or search answer, with whether it is an error or a page."""
    if result is None:
        return _Result([])
    if not isinstance(result, dict) or not isinstance(result.get("resourceType"), str):
        return _Result([], error=True)
    if result["resourceType"] == "OperationOutcome":
        return _Result([], error=True)
    if result["resourceType"] != "Bundle":
        return _Result([result])
    found: list[dict[str, Any]] = []
    for entry in result.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        if resource["resourceType"] == "OperationOutcome":
            # Search results may carry warnings as entries with search.mode "outcome".
            if (entry.get("search") or {}).get("mode") == "outcome":
                continue
            return _Result([], error=True)
        found.append(resource)
    return _Result(found, next_url=_next_link(result))


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")


def _server(hook: HookRequest) -> tuple[str, dict[str, str]]:
    if hook.fhirServer is None:
        raise RecordUnavailableError(
            "the record is incomplete and the call names no fhirServer to read it"
        )
    base = str(hook.fhirServer).rstrip("/")
    if not (base.startswith("https://") or (base.startswith("http://") and _loopback(base))):
        raise RecordUnavailableError("fhirServer must be an https URL")
    headers = {"Accept": "application/fhir+json"}
    if hook.fhirAuthorization is not None:
        headers["Authorization"] = f"Bearer {hook.fhirAuthorization.access_token}"
    return base, headers


def _same_server(base: str, url: str) -> bool:
    wanted, found = urlsplit(base), urlsplit(url)
    return (found.scheme, found.netloc) == (wanted.scheme, wanted.netloc) and found.path.startswith(
        wanted.path
    )


async def _read(
    http: httpx2.AsyncClient, base: str, headers: dict[str, str], url: str
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if not _same_server(base, url):
            raise RecordUnavailableError("the FHIR server pointed outside itself")
        try:
            response = await http.get(url, headers=headers)
        except httpx2.HTTPError as error:
            raise RecordUnavailableError(
                f"the FHIR server could not be read ({type(error).__name__})"
            ) from error
        if response.status_code == 404 and "?" not in url:
            return found  # A read of a resource that does not exist: no data.
        if response.status_code != 200:
            raise RecordUnavailableError(f"the FHIR server answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise RecordUnavailableError("the FHIR server's answer is not JSON") from error
        page = _result(body)
        if page.error:
            raise RecordUnavailableError("the FHIR server answered with an error")
        found.extend(page.resources)
        if page.next_url is None:
            return found
        url = page.next_url
    raise RecordUnavailableError(f"the record has more than {MAX_PAGES} pages of one kind")


async def gather(hook: HookRequest, templates: Mapping[str, str]) -> Record:
    """Every resource the templates ask for: prefetched where given, fetched where not."""
    prefetch = hook.prefetch or {}
    record = Record()
    missing: dict[str, str] = {}
    for key, template in templates.items():
        if key in prefetch:
            given = _result(prefetch[key])
            if not given.error:
                record.resources.extend(given.resources)
                if given.next_url is not None:
                    missing[key] = given.next_url
                continue
        missing[key] = render(template, hook.context)
    if not missing:
        return record
    base, headers = _server(hook)
    async with httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
        urls = {
            key: url if url.startswith(("http://", "https://")) else f"{base}/{url}"
            for key, url in missing.items()
        }
        pages = await asyncio.gather(*(_read(http, base, headers, u) for u in urls.values()))
    for key, resources in zip(urls, pages, strict=True):
        record.resources.extend(resources)
        record.fetched.append(key)
    return record
