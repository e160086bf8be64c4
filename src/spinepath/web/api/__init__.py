"""REST API under /api/v1 (documented at /docs, schema at /api/v1/openapi.json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from spinepath.web.api import admin, alerts, assessments, decision_aids, patients, scores
from spinepath.web.api.text_guard import reject_unstorable_text
from spinepath.web.errors import ErrorResponse
from spinepath.web.paths import API_PREFIX

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Sign in or send an API token."},
    403: {"model": ErrorResponse, "description": "Not allowed."},
    413: {"model": ErrorResponse, "description": "Body too large."},
    415: {"model": ErrorResponse, "description": "Body is not application/json."},
    422: {"model": ErrorResponse, "description": "Invalid input; each error names its field."},
}

api_router = APIRouter(
    prefix=API_PREFIX, responses=_ERRORS, dependencies=[Depends(reject_unstorable_text)]
)
api_router.include_router(assessments.router)
api_router.include_router(scores.router)
api_router.include_router(decision_aids.router)
api_router.include_router(patients.router)
api_router.include_router(alerts.router)
api_router.include_router(admin.router)
