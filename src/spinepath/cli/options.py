"""Options several commands share."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """``--format``: a report for people, or JSON for programs."""

    TEXT = "text"
    JSON = "json"
