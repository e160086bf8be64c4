"""One way to turn pydantic validation errors into messages that name the field."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


def field_path(loc: Sequence[int | str], default: str = "input") -> str:
    """``("regions", 0, "intensity")`` → ``"regions.0.intensity"``."""
    return ".".join(str(part) for part in loc) or default


def error_lines(exc: ValidationError, default: str = "input") -> list[str]:
    """One line per problem: the field path, then what is wrong with it, in plain words."""
    return [
        f"{field_path(error['loc'], default)}: {error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors()
    ]
