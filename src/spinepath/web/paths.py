"""URL prefixes of the JSON API, defined once for the routers, the middleware and the pages."""

from __future__ import annotations

API_ROOT = "/api/"
"""Every JSON API path starts with this: such requests get JSON errors, never HTML pages."""
API_PREFIX = "/api/v1"
"""The current API version's routes."""
OPENAPI_URL = f"{API_PREFIX}/openapi.json"


def is_api_path(path: str) -> bool:
    return path.startswith(API_ROOT)
