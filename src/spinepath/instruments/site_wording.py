"""The site's wording directory: where it is, and installing or removing a file in it.

A file is checked against its instrument's definition before anything is written, and written
all or nothing (a sibling temporary file renamed onto the target), so the forms read the old
wording or the new one, never half of one. The directory is the configured
``SPINEPATH_INSTRUMENT_WORDING_DIR`` or, when that is not set, ``wording`` in the data directory.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spinepath.instruments import catalogue
from spinepath.instruments.errors import UnknownInstrumentError, WordingFileError
from spinepath.instruments.models import InstrumentDefinition
from spinepath.instruments.wording import (
    SUFFIXES,
    Wording,
    WordingFormat,
    check_wording,
    format_of,
    parse_wording,
)

DEFAULT_SUBDIRECTORY = "wording"
MAX_WORDING_BYTES = 64 * 1024
"""The largest wording file accepted: the longest licensed questionnaire's text is a few KiB."""


def site_directory(configured: Path | None, data_dir: Path) -> Path:
    """Where site wording files are installed."""
    return configured if configured is not None else data_dir / DEFAULT_SUBDIRECTORY


def directory_to_read(configured: Path | None, data_dir: Path) -> Path | None:
    """The directory the forms read: a configured one as given, so that a missing one is
    reported; the default one only once something has been installed in it."""
    if configured is not None:
        return configured
    default = site_directory(None, data_dir)
    return default if default.is_dir() else None


class WordingTooLargeError(WordingFileError):
    """A file over ``MAX_WORDING_BYTES``: refused before it is read any further."""


@dataclass(frozen=True)
class CheckedWording:
    """An uploaded wording file that matches its instrument, ready to install."""

    definition: InstrumentDefinition
    wording: Wording
    text: str
    format: WordingFormat


def check_file(data: bytes, name: str) -> CheckedWording:
    """Checks an uploaded file; ``WordingFileError`` names the field, item or option at fault."""
    if len(data) > MAX_WORDING_BYTES:
        raise WordingTooLargeError(name, f"is larger than {MAX_WORDING_BYTES // 1024} KiB")
    if not name.lower().endswith(SUFFIXES):
        raise WordingFileError(name, "must be a .yaml, .yml or .json file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WordingFileError(name, "is not UTF-8 text") from exc
    fmt = format_of(name)
    wording = parse_wording(text, fmt, name)
    try:
        definition = catalogue.get(wording.instrument)
    except UnknownInstrumentError as exc:
        raise WordingFileError(name, f"instrument: {exc}") from exc
    check_wording(definition, wording, name)
    return CheckedWording(definition=definition, wording=wording, text=text, format=fmt)


def installed_file(directory: Path, code: str) -> Path | None:
    if not directory.is_dir():
        return None
    return next((p for s in SUFFIXES if (p := directory / f"{code}{s}").is_file()), None)


def install(directory: Path, checked: CheckedWording) -> Path:
    """Writes the file as ``<code>.yaml`` or ``.json``, replacing any earlier one."""
    directory.mkdir(parents=True, exist_ok=True)
    code = checked.definition.code
    target = directory / f"{code}.{checked.format}"
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{code}.", suffix=".partial")
    partial = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(checked.text)
            handle.flush()
            os.fsync(handle.fileno())
        # Wording is not secret; the app (perhaps another user) must be able to read it.
        partial.chmod(0o644)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # A file under another suffix would be read before (or instead of) the new one.
    for suffix in SUFFIXES:
        other = directory / f"{code}{suffix}"
        if other != target:
            other.unlink(missing_ok=True)
    return target


def remove(directory: Path, code: str) -> bool:
    """Removes the site's file for an instrument; whether there was one."""
    removed = False
    for suffix in SUFFIXES:
        path = directory / f"{code}{suffix}"
        if path.is_file():
            path.unlink()
            removed = True
    return removed
