"""Jinja2 templates for the pages, with the few helpers the templates share."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from spinepath.pathway.assessment import Level

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

LEVEL_LABELS: dict[str, str] = {
    Level.EMERGENCY.value: "Emergency",
    Level.URGENT.value: "Urgent",
    Level.SOON.value: "Soon",
    Level.ROUTINE.value: "Routine",
    Level.SELF_CARE.value: "Self-care",
}


def field_id(path: str) -> str:
    """An HTML id for a field path (``regions.low_back.intensity`` -> ``f-regions-low_back-…``)."""
    return "f-" + path.replace(".", "-")


def level_label(level: str | Level | None) -> str:
    if level is None:
        return "Not assessed yet"
    return LEVEL_LABELS.get(str(level), str(level))


def when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%d %b %Y, %H:%M UTC")
    return value.strftime("%d %b %Y")


@cache
def templates() -> Jinja2Templates:
    env_templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = env_templates.env
    env.globals["field_id"] = field_id
    env.globals["level_label"] = level_label
    env.filters["when"] = when
    env.trim_blocks = True
    env.lstrip_blocks = True
    return env_templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    response = templates().TemplateResponse(request, name, context or {}, status_code=status_code)
    # Pages carry personal health information: never let a shared cache keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
