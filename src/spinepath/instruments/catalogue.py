"""Loads and validates the instrument definitions shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from pydantic import TypeAdapter

from spinepath.instruments.errors import UnknownInstrumentError
from spinepath.instruments.models import InstrumentDefinition, Source
from spinepath.yamlio import safe_load

_DEFINITIONS = "definitions"
_SOURCES_FILE = "sources.yaml"


def _read_yaml(name: str) -> Any:
    text = resources.files(__package__).joinpath(_DEFINITIONS, name).read_text(encoding="utf-8")
    return safe_load(text)


@cache
def sources() -> dict[str, Source]:
    loaded = TypeAdapter(list[Source]).validate_python(_read_yaml(_SOURCES_FILE))
    by_id = {s.id: s for s in loaded}
    if len(by_id) != len(loaded):
        raise ValueError(f"{_SOURCES_FILE}: duplicate source ids")
    return by_id


@cache
def definitions() -> dict[str, InstrumentDefinition]:
    """Every shipped instrument by code, in a stable (alphabetical) order."""
    folder = resources.files(__package__).joinpath(_DEFINITIONS)
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    known = sources()
    found: dict[str, InstrumentDefinition] = {}
    for name in names:
        if name == _SOURCES_FILE:
            continue
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
