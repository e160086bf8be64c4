"""Synthetic placeholder wording files so that the pages can be tested without licensed text.

The text is obviously not any instrument's wording and must never be shown to anyone as the
questionnaire; it only exercises the forms built from a site wording file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from spinepath.instruments import catalogue
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    NumericResponse,
    OrdinalResponse,
)


def placeholder_wording(code: str) -> dict[str, Any]:
    definition = catalogue.get(code)
    items: dict[str, Any] = {}
    for number, item in enumerate(definition.items, start=1):
        response = item.response
        options: dict[str, str] = {}
        if isinstance(response, OrdinalResponse):
            options = {
                str(v): f"PLACEHOLDER {number}.{v}" for v in range(response.min, response.max + 1)
            }
        elif isinstance(response, ChoiceResponse):
            options = {o.code: f"PLACEHOLDER {number}.{o.code}" for o in response.options}
        elif isinstance(response, BooleanResponse) and response.true_means == "agree":
            options = {"true": "PLACEHOLDER agree", "false": "PLACEHOLDER disagree"}
        elif isinstance(response, NumericResponse):
            options = {
                str(response.min): "PLACEHOLDER lowest",
                str(response.max): "PLACEHOLDER top",
            }
        items[item.code] = {"text": f"PLACEHOLDER item {number} ({code})", "options": options}
    return {
        "instrument": definition.code,
        "version": definition.version,
        "language": "en-GB",
        "source": "Synthetic test placeholder; not licensed text",
        "title": f"PLACEHOLDER {definition.short_name}",
        "items": items,
    }


def write_placeholder_wording(directory: Path, codes: tuple[str, ...]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for code in codes:
        (directory / f"{code}.yaml").write_text(yaml.safe_dump(placeholder_wording(code)))
    return directory
