"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from spinepath import __version__
from spinepath.settings import Settings
from spinepath.store.db import Database
from spinepath.web.api import api_router
from spinepath.web.api.docs import docs_router
from spinepath.web.cds.cors import CdsCorsOrCsrfMiddleware, origins_of
from spinepath.web.cds.routes import router as cds_router
from spinepath.web.errors import install_error_handlers
from spinepath.web.paths import API_PREFIX
from spinepath.web.paths import OPENAPI_URL as OPENAPI_URL
from spinepath.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from spinepath.web.smart.routes import router as smart_router

SESSION_COOKIE = "spinepath_session"

API_DESCRIPTION = f"""
Decision support for back pain, not a diagnosis. `POST {API_PREFIX}/assessments` is stateless:
send an intake, get an assessment. Patient data needs an API token of a clinic
(`spinepath tokens create --clinic NAME`) sent as `Authorization: Bearer TOKEN`.
Errors are JSON and name the field: `{{"errors": [{{"field": "age", "message": "..."}}]}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings if settings is not None else Settings()
    database = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = FastAPI(
        title="spinepath",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database

    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(docs_router)
    app.include_router(cds_router)
    app.include_router(smart_router)
    _register_pages(app)

    # Added innermost first: the security headers wrap everything, even the 413/403 answers.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # The CSRF guard, except for calls to /cds-services from a configured browser EHR (CORS).
    app.add_middleware(CdsCorsOrCsrfMiddleware, origins=origins_of(settings.cds_clients))
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=not settings.is_development)
    return app


def _register_pages(app: FastAPI) -> None:
    from spinepath.web.pages import register_pages

    register_pages(app)
