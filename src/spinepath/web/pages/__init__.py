"""HTML pages: the patient questionnaire and results, and the clinician workspace."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from spinepath.web.pages.rendering import STATIC_DIR, render
from spinepath.web.paths import is_api_path

ERROR_TITLES = {
    403: "You cannot see this page",
    404: "Page not found",
    405: "This page cannot do that",
    409: "That cannot be done now",
}


def register_pages(app: FastAPI) -> None:
    """Include the page routers, serve /static, and answer page errors in HTML."""
    from spinepath.web.pages import (
        admin,
        admin_alerts,
        admin_wording,
        alert_actions,
        clinician,
        clinician_patient,
        decision_aid,
        enrolment,
        followups,
        join,
        patient,
        reminder_pages,
        results,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(patient.router)
    app.include_router(results.router)
    app.include_router(followups.router)
    app.include_router(decision_aid.router)
    app.include_router(clinician.router)
    app.include_router(admin.router)
    app.include_router(admin_wording.router)
    app.include_router(admin_alerts.router)
    app.include_router(clinician_patient.router)
    app.include_router(enrolment.router)
    app.include_router(join.router)
    app.include_router(alert_actions.router)
    app.include_router(reminder_pages.router)
    _html_errors(app)


def _html_errors(app: FastAPI) -> None:
    """Browsers get an HTML page for 403/404/405/409; everything else keeps the app's handler."""
    fallback = app.exception_handlers.get(StarletteHTTPException)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):
            raise TypeError(f"expected StarletteHTTPException, got {type(exc).__name__}")
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code in ERROR_TITLES and wants_html and not is_api_path(request.url.path):
            context = {"title": ERROR_TITLES[exc.status_code], "detail": str(exc.detail)}
            return render(request, "error.html", context, exc.status_code)
        if fallback is None:
            raise exc
        response = fallback(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, on_http_error)
