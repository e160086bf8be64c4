"""Site-supplied questionnaire wording: loaded from a file, checked against the definition.

spinepath never ships or paraphrases licensed item text. A site that holds a licence (or the
published form) writes the exact wording into ``<instrument code>.yaml`` (or ``.json``) in a
directory named by ``SPINEPATH_INSTRUMENT_WORDING_DIR`` or ``--wording-dir``. Format::

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
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
_SUFFIXES = (".yaml", ".yml", ".json")


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


def load_wording(definition: InstrumentDefinition, path: Path) -> Wording:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WordingFileError(str(path), f"cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise WordingFileError(str(path), f"is not valid {path.suffix[1:].upper()}") from exc
    try:
        wording = Wording.model_validate(data)
    except ValidationError as exc:
        first = error_lines(exc, default="file", strip_value_error=False)[0]
        raise WordingFileError(str(path), first) from exc
    return check_wording(definition, wording, str(path))


def find_wording(definition: InstrumentDefinition, directory: Path | None) -> Wording | None:
    """The site wording for an instrument from ``directory``, or ``None`` if it has none."""
    if directory is None:
        return None
    if not directory.is_dir():
        raise WordingFileError(str(directory), "is not a directory")
    for suffix in _SUFFIXES:
        candidate = directory / f"{definition.code}{suffix}"
        if candidate.is_file():
            return load_wording(definition, candidate)
    return None


def wording_required_message(definition: InstrumentDefinition) -> str:
    return (
        f"The {definition.short_name} wording is not shipped with spinepath "
        f"({definition.licence.wording_note}) To display the questionnaire, put the exact "
        f"licensed text in {definition.code}.yaml in the directory named by {WORDING_DIR_ENV} "
        "or --wording-dir (format: docs/instruments.md)."
    )
