"""Recording the memory limit of every DuckDB connection the population commands open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def recording_limits(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The memory limit of every DuckDB connection opened from here on, as it is opened."""
    from spinepath.population.measures import memory

    limits: list[int | None] = []
    connect = memory.connect

    def recording(spill_parent: Path | None = None, *, limit: int | None = None) -> Any:
        limits.append(limit)
        return connect(spill_parent, limit=limit)

    monkeypatch.setattr(memory, "connect", recording)
    return limits
