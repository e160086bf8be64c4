"""Refuses NUL characters anywhere in a JSON body, naming the field that holds one.

PostgreSQL cannot store them in text or JSONB, and no answer ever needs one.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request

from spinepath.validation import field_path

NUL = "\x00"


def nul_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The dotted path of the first string (key or value) holding a NUL character, if any."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return (*path, key.replace(NUL, "\\u0000"))
            found = nul_path(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, (*path, str(index)))
            if found is not None:
                return found
    return None


async def reject_nul_characters(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    if b"\\u0000" not in body:  # the only way JSON text can carry a NUL character
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # malformed JSON is reported by the body parser
    found = nul_path(parsed)
    if found is not None:
        raise HTTPException(
            status_code=422,
            detail={
                "field": field_path(found, default="") or None,
                "message": "NUL characters are not accepted",
            },
        )
