"""Where the test data lives, and loading it so that missing data fails the run.

A test parametrised over an empty list is skipped, and a loop over one passes: both would hide a
missing or moved data folder. ``required_files`` fails instead, naming the folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"


def required_files(directory: Path, pattern: str) -> list[Path]:
    """The files in ``directory`` matching ``pattern``, sorted; fails when there are none."""
    paths = sorted(directory.glob(pattern))
    if not paths:
        pytest.fail(f"no {pattern} files in {directory}: the test data is missing", pytrace=False)
    return paths


def example_paths() -> list[Path]:
    """The example intakes, ``examples/*.json``."""
    return required_files(EXAMPLES_DIR, "*.json")
