"""Questionnaire wording: loaded from a file, checked against the definition.

spinepath never ships or paraphrases licensed item text. A site that holds a licence (or the
published form) writes the exact wording into ``<instrument code>.yaml`` (or ``.json``) in a
directory named by ``SPINEPATH_INSTRUMENT_WORDING_DIR`` or ``--wording-dir``. The generic
measures with no licence (0-10 pain ratings, the global rating of change) come with spinepath's
own wording (``bundled_wording/``), used unless the site directory has a file for them. Format::

    instrument: odi          # must match the definition code
    version: "2.1a"          # must match the definition version
    language: en-GB
    source: "Where and under which licence the site obtained this text"
    title: "..."             # optional
    instructions: "..."      # optional
    items:
      pain_intensity:
        text: "..."          # the item or section heading, verbatim
        options:             # ordinal/choice items: one entry per option code, verbatim
          "0": "..."
          ...

Boolean items may give ``options`` for ``"true"``/``"false"``; numeric items may give anchor
labels keyed by the number (e.g. ``"0"`` and ``"10"``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spinepath.instruments import catalogue
from spinepath.instruments.errors import WordingFileError
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    InstrumentDefinition,
    NumericResponse,
    OrdinalResponse,
)
from spinepath.validation import error_lines
from spinepath.yamlio import safe_load

WORDING_DIR_ENV = "SPINEPATH_INSTRUMENT_WORDING_DIR"
SUFFIXES = (".yaml", ".yml", ".json")
BUNDLED_DIR = "bundled_wording"
WordingFormat = Literal["yaml", "json"]


class ItemWording(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    text: str = Field(min_length=1)
    options: dict[str, str] = {}


class Wording(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    instrument: str
    version: str
    language: str
    source: str = Field(min_length=1)
    title: str | None = None
    instructions: str | None = None
    items: dict[str, ItemWording]


def _expected_option_keys(definition: InstrumentDefinition, code: str) -> tuple[set[str], bool]:
    """Option keys an item's wording may use, and whether all of them are required."""
    response = definition.item(code).response
    if isinstance(response, OrdinalResponse):
        return {str(v) for v in range(response.min, response.max + 1)}, True
    if isinstance(response, ChoiceResponse):
        return {o.code for o in response.options}, True
    if isinstance(response, BooleanResponse):
        return {"true", "false"}, False
    if not isinstance(response, NumericResponse):
        raise TypeError(f"expected NumericResponse, got {type(response).__name__}")
    return {str(v) for v in range(response.min, response.max + 1)}, False


def check_wording(definition: InstrumentDefinition, wording: Wording, path: str) -> Wording:
    if wording.instrument != definition.code:
        raise WordingFileError(path, f"is for {wording.instrument!r}, not {definition.code!r}")
    if wording.version != definition.version:
        raise WordingFileError(
            path, f"version {wording.version!r} does not match {definition.version!r}"
        )
    unknown = sorted(wording.items.keys() - set(definition.item_codes))
    if unknown:
        raise WordingFileError(path, f"unknown item(s) {', '.join(unknown)}")
    for code in definition.item_codes:
        if code not in wording.items:
            raise WordingFileError(path, f"item {code!r} has no wording")
        allowed, required = _expected_option_keys(definition, code)
        given = set(wording.items[code].options)
        extra = sorted(given - allowed)
        if extra:
            raise WordingFileError(path, f"item {code!r}: unknown option(s) {', '.join(extra)}")
        if required and given != allowed:
            absent = sorted(allowed - given)
            raise WordingFileError(path, f"item {code!r}: option(s) {', '.join(absent)} missing")
    return wording


def format_of(name: str) -> WordingFormat:
    return "json" if name.lower().endswith(".json") else "yaml"


def parse_wording(text: str, fmt: WordingFormat, name: str) -> Wording:
    """The file's wording, its shape checked but not yet matched to a definition."""
    try:
        data = json.loads(text) if fmt == "json" else safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise WordingFileError(name, f"is not valid {fmt.upper()}") from exc
    try:
        return Wording.model_validate(data)
    except ValidationError as exc:
        first = error_lines(exc, default="file", strip_value_error=False)[0]
        raise WordingFileError(name, first) from exc


def load_wording(definition: InstrumentDefinition, path: Path) -> Wording:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise WordingFileError(str(path), f"cannot be read ({reason})") from exc
    wording = parse_wording(text, format_of(path.name), str(path))
    return check_wording(definition, wording, str(path))


def site_wording_file(definition: InstrumentDefinition, directory: Path | None) -> Path | None:
    """The site's wording file for an instrument in ``directory``, if it has one."""
    if directory is None:
        return None
    if not directory.is_dir():
        raise WordingFileError(str(directory), "is not a directory")
    for suffix in SUFFIXES:
        candidate = directory / f"{definition.code}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@cache
def _bundled(code: str) -> Wording | None:
    definition = catalogue.get(code)
    if not definition.licence.wording_shipped:
        return None
    name = f"{code}.yaml"
    text = resources.files(__package__).joinpath(BUNDLED_DIR, name).read_text(encoding="utf-8")
    return check_wording(definition, parse_wording(text, "yaml", name), f"{BUNDLED_DIR}/{name}")


def bundled_wording(definition: InstrumentDefinition) -> Wording | None:
    """spinepath's own wording of a generic measure; ``None`` for a licensed instrument."""
    return _bundled(definition.code)


def find_wording(definition: InstrumentDefinition, directory: Path | None) -> Wording | None:
    """The site's wording from ``directory``, else the bundled wording, else ``None``."""
    found = site_wording_file(definition, directory)
    if found is not None:
        return load_wording(definition, found)
    return bundled_wording(definition)


def wording_required_message(definition: InstrumentDefinition) -> str:
    return (
        f"The {definition.short_name} wording is not shipped with spinepath "
        f"({definition.licence.wording_note}) To display the questionnaire, put the exact "
        f"licensed text in {definition.code}.yaml in the directory named by {WORDING_DIR_ENV} "
        "or --wording-dir (format: docs/instruments.md)."
    )
