"""Refuses text no database can store, anywhere in a JSON body, naming the field that holds it.

JSON can carry two such things in an escape: the NUL character (``\\u0000``), which PostgreSQL
cannot keep in text or JSONB, and a lone surrogate (``\\ud800`` without its pair), which is not
a character at all and cannot be encoded as UTF-8 by either database. No answer needs either.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import HTTPException, Request

from spinepath.validation import field_path

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
"""The only ways JSON text can spell an unstorable character."""


def _shown(text: str) -> str:
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unstorable_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The dotted path of the first key or value holding a NUL or a lone surrogate, if any."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                return (*path, _shown(key))
            found = unstorable_path(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, (*path, str(index)))
            if found is not None:
                return found
    return None


async def reject_unstorable_text(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    if not _ESCAPE.search(body):
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # malformed JSON is reported by the body parser
    found = unstorable_path(parsed)
    if found is not None:
        raise HTTPException(
            status_code=422,
            detail={
                "field": field_path(found, default="") or None,
                "message": "NUL characters and unpaired surrogates (\\ud800-\\udfff) are not "
                "accepted",
            },
        )
