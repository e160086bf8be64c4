"""JSON errors that name the field: ``{"errors": [{"field": "regions.0.intensity", ...}]}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from spinepath.extras import MissingExtraError
from spinepath.validation import error_message, field_path
from spinepath.web.deps import LOGIN_PATH, NotAuthenticatedError
from spinepath.web.paths import is_api_path

DATABASE_UNAVAILABLE = "the database is not available"

_log = logging.getLogger(__name__)


class ErrorItem(BaseModel):
    field: str | None
    message: str


class ErrorResponse(BaseModel):
    errors: list[ErrorItem]


def api_field(loc: Sequence[int | str]) -> str | None:
    """``("body", "regions", 0, "intensity")`` -> ``"regions.0.intensity"``; None for the body."""
    return field_path(loc, default="", root="body", skip_branches=True) or None


def validation_errors(errors: Sequence[Any]) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    for error in errors:
        message = error_message(error)
        if error.get("type") == "json_invalid":
            items.append(
                ErrorItem(
                    field=None,
                    message=f"malformed JSON: {error.get('ctx', {}).get('error', message)}",
                )
            )
            continue
        items.append(ErrorItem(field=api_field(error.get("loc", ())), message=message))
    return items


def error_response(
    status: int, items: list[ErrorItem], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorResponse(errors=items).model_dump(mode="json"), status_code=status, headers=headers
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError | ValidationError):
        raise TypeError(
            f"expected RequestValidationError | ValidationError, got {type(exc).__name__}"
        )
    return error_response(422, validation_errors(exc.errors()))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):
        raise TypeError(f"expected StarletteHTTPException, got {type(exc).__name__}")
    is_api = is_api_path(request.url.path)
    if isinstance(exc, NotAuthenticatedError) and not is_api and request.method == "GET":
        return RedirectResponse(f"{LOGIN_PATH}?next={quote(request.url.path)}", status_code=303)
    if not is_api:
        return await http_exception_handler(request, exc)
    detail = exc.detail
    if isinstance(detail, dict) and "message" in detail:
        item = ErrorItem(field=detail.get("field"), message=str(detail["message"]))
    else:
        item = ErrorItem(field=None, message=str(detail))
    return error_response(exc.status_code, [item], exc.headers)


async def _on_missing_extra(request: Request, exc: Exception) -> Response:
    """A feature whose extra is not installed (PDF, plots): 501, naming the extra."""
    if not isinstance(exc, MissingExtraError):
        raise TypeError(f"expected MissingExtraError, got {type(exc).__name__}")
    return await _on_http_error(request, StarletteHTTPException(501, detail=str(exc)))


async def _on_database_unavailable(request: Request, exc: Exception) -> Response:
    """A database that cannot be reached or written (read-only, disk full, server down): 503.

    The transaction was rolled back, so nothing half-done is kept; the cause goes to the log,
    not to the client.
    """
    if not isinstance(exc, OperationalError):
        raise TypeError(f"expected OperationalError, got {type(exc).__name__}")
    _log.error("the database is not available: %s", exc.orig or exc)
    unavailable = StarletteHTTPException(503, detail=DATABASE_UNAVAILABLE)
    return await _on_http_error(request, unavailable)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(MissingExtraError, _on_missing_extra)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
