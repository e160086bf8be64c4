"""FHIR JSON in and out of the endpoints that assess an intake.

In: a route whose documented request body offers ``application/fhir+json`` (``FHIR_INTAKE``
in its ``openapi_extra``) reads a body of that type as a QuestionnaireResponse to the intake
Questionnaire, and the endpoint receives the intake it records exactly as if the intake had been
sent as ``application/json``: the same validation, the same guards, the same stored record. A
response that cannot be read is answered 422 with one error per problem, each naming its linkId,
before the endpoint runs, so nothing is stored.

With the record: a route of ``FhirIntakeRecordRoute`` (documented with ``FHIR_INTAKE_OR_RECORD``)
also reads a Bundle (type collection) of one QuestionnaireResponse and the patient's record
(``interop.record_prefill``): the record's facts fill the questions the response leaves
unanswered, never an answer given, and ``record_prefill(request)`` gives the endpoint what was
filled and where the record differs. A Bundle that cannot be used is answered 422 naming each
problem, before the endpoint runs.

Out: ``wants_fhir`` reads the Accept header; an endpoint that can answer with a FHIR Bundle does
so when FHIR JSON is preferred to plain JSON, and answers plain JSON otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import Message

from spinepath import clock
from spinepath.interop.intake_questionnaire import CANONICAL, CANONICAL_URL
from spinepath.interop.intake_response import ACCEPTED_STATUSES, ResponseError, parse
from spinepath.interop.record_prefill import Prefilled, RecordError, read_request
from spinepath.web.errors import ErrorItem, error_response

FHIR_JSON = "application/fhir+json"
JSON = "application/json"

FHIR_INTAKE: dict[str, Any] = {
    "requestBody": {
        "content": {
            FHIR_JSON: {
                "schema": {
                    "title": "QuestionnaireResponse",
                    "description": "A FHIR R4 QuestionnaireResponse to the intake Questionnaire "
                    "(`spinepath questionnaire --fhir`). Each item's linkId is the intake field "
                    "it answers; a yes/no item left out is not answered. Errors name the linkId.",
                    "type": "object",
                    "required": ["resourceType", "questionnaire", "status"],
                    "properties": {
                        "resourceType": {"const": "QuestionnaireResponse"},
                        "questionnaire": {"enum": [CANONICAL_URL, CANONICAL]},
                        "status": {"enum": list(ACCEPTED_STATUSES)},
                        "item": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        }
    }
}
"""``openapi_extra`` of a route that takes an intake: documents, and switches on, FHIR input."""

_RESPONSE_SCHEMA = FHIR_INTAKE["requestBody"]["content"][FHIR_JSON]["schema"]
FHIR_INTAKE_OR_RECORD: dict[str, Any] = {
    "requestBody": {
        "content": {
            FHIR_JSON: {
                "schema": {
                    "oneOf": [
                        _RESPONSE_SCHEMA,
                        {
                            "title": "Bundle",
                            "description": "A FHIR R4 Bundle of type collection: exactly one "
                            "QuestionnaireResponse (as above) and the patient's record (Patient, "
                            "Condition, Observation, MedicationStatement, MedicationRequest, "
                            "Procedure, DiagnosticReport, ImagingStudy, ServiceRequest; each "
                            "with an id). The record fills only the questions left unanswered, "
                            "to confirm with the patient; the JSON answer then lists them in "
                            "`from_record` and the record's disagreements in `record_differs`.",
                            "type": "object",
                            "required": ["resourceType", "type", "entry"],
                            "properties": {
                                "resourceType": {"const": "Bundle"},
                                "type": {"const": "collection"},
                                "entry": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                }
            }
        }
    }
}
"""``openapi_extra`` of a route of ``FhirIntakeRecordRoute``: FHIR input, with or without the
patient's record."""

RECORD_SCOPE_KEY = "spinepath.record_prefill"

FHIR_BUNDLE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            FHIR_JSON: {
                "schema": {
                    "title": "Bundle",
                    "description": "With `Accept: application/fhir+json`: the assessment as a "
                    "FHIR R4 collection Bundle (RiskAssessment, Observations, CarePlan, "
                    "ServiceRequests, Provenance and the QuestionnaireResponse).",
                    "type": "object",
                }
            }
        }
    }
}
"""``responses`` of a route that can answer with an assessment Bundle."""


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def wants_fhir(request: Request) -> bool:
    """FHIR JSON is preferred to plain JSON in the Accept header (by q-value, then order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *params = part.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        if media in (FHIR_JSON, JSON) and quality > 0:
            ranked.append((-quality, position, media))
    return bool(ranked) and min(ranked)[2] == FHIR_JSON


def _offers_fhir(route: APIRoute) -> bool:
    extra = route.openapi_extra or {}
    return FHIR_JSON in extra.get("requestBody", {}).get("content", {})


def record_prefill(request: Request) -> Prefilled | None:
    """What the patient's record sent with the intake filled in; None when none was sent."""
    found = request.scope.get(RECORD_SCOPE_KEY)
    return found if isinstance(found, Prefilled) else None


def _as_json(request: Request, body: bytes, prefilled: Prefilled | None = None) -> Request:
    """The request again, carrying ``body`` as application/json (and what the record filled)."""
    kept = [
        (name, value)
        for name, value in request.scope["headers"]
        if name not in (b"content-type", b"content-length")
    ]
    headers = [*kept, (b"content-type", JSON.encode()), (b"content-length", b"%d" % len(body))]
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            # Only a disconnect is left to hear about, from the client itself.
            return await request.receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({**request.scope, "headers": headers, RECORD_SCOPE_KEY: prefilled}, receive)


class FhirIntakeRoute(APIRoute):
    """Reads ``application/fhir+json`` bodies as intakes on routes that document them."""

    reads_record = False
    """Whether a Bundle with the patient's record is read too (``FhirIntakeRecordRoute``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _offers_fhir(self):
            return handler

        async def route(request: Request) -> Response:
            if media_type(request.headers.get("content-type")) != FHIR_JSON:
                return await handler(request)
            body = await request.body()
            try:
                if self.reads_record:
                    # Reading a record matches every resource against the value sets: off the
                    # event loop, as the endpoints themselves run.
                    intake, prefilled = await run_in_threadpool(read_request, body, clock.today())
                else:
                    intake, prefilled = parse(body), None
            except (ResponseError, RecordError) as exc:
                items = [ErrorItem(field=p.link_id, message=p.message) for p in exc.problems]
                return error_response(422, items)
            encoded = intake.model_dump_json().encode()
            return await handler(_as_json(request, encoded, prefilled))

        return route


class FhirIntakeRecordRoute(FhirIntakeRoute):
    """:class:`FhirIntakeRoute` that also reads a Bundle of a QuestionnaireResponse and the
    patient's record; the endpoint finds what the record filled with ``record_prefill``."""

    reads_record = True
