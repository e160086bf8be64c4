"""Loads and validates the instrument definitions shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from spinepath.evidence.models import Source
from spinepath.evidence.registry import default_registry
from spinepath.instruments.errors import UnknownInstrumentError
from spinepath.instruments.models import InstrumentDefinition
from spinepath.yamlio import safe_load

_DEFINITIONS = "definitions"


def _read_yaml(name: str) -> Any:
    text = resources.files(__package__).joinpath(_DEFINITIONS, name).read_text(encoding="utf-8")
    return safe_load(text)


def sources() -> dict[str, Source]:
    """The evidence registry's sources, which the definitions cite by id."""
    return default_registry().sources


@cache
def definitions() -> dict[str, InstrumentDefinition]:
    """Every shipped instrument by code, in a stable (alphabetical) order."""
    folder = resources.files(__package__).joinpath(_DEFINITIONS)
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    known = sources()
    found: dict[str, InstrumentDefinition] = {}
    for name in names:
        definition = InstrumentDefinition.model_validate(_read_yaml(name))
        if f"{definition.code}.yaml" != name:
            raise ValueError(f"{name}: code {definition.code!r} must match the file name")
        missing = definition.all_source_ids() - known.keys()
        if missing:
            raise ValueError(f"{name}: cites unknown source ids {sorted(missing)}")
        found[definition.code] = definition
    return found


def get(code: str) -> InstrumentDefinition:
    found = definitions()
    key = code.strip().lower().replace("-", "_")
    if key not in found:
        raise UnknownInstrumentError(code, tuple(found))
    return found[key]
