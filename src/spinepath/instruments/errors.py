"""Errors raised by instrument loading and scoring; each names what was wrong."""

from __future__ import annotations


class InstrumentError(ValueError):
    """Base class: bad input to an instrument function."""


class UnknownInstrumentError(InstrumentError):
    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        self.code = code
        super().__init__(f"unknown instrument {code!r}; known instruments: {', '.join(known)}")


class InvalidAnswerError(InstrumentError):
    """An answer that cannot be scored: unknown item, wrong type or out of range.

    ``item`` carries the offending item code so callers can point at the field.
    """

    def __init__(self, instrument: str, item: str, message: str) -> None:
        self.instrument = instrument
        self.item = item
        self.reason = message
        super().__init__(f"{instrument}: item {item!r}: {message}")


class WordingFileError(InstrumentError):
    """A site wording file that is missing, unreadable or does not match the definition."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"wording file {path}: {message}")
