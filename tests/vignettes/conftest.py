from __future__ import annotations

import importlib

import pytest

from .cases import Assess
from .triage_safety import COMPARISONS, report


@pytest.fixture(scope="session")
def assess() -> Assess:
    """The engine's `assess`; the engine is built separately, so its absence skips, not errors."""
    try:
        engine = importlib.import_module("spinepath.engine")
    except ModuleNotFoundError as missing:
        if missing.name == "spinepath.engine":
            pytest.skip("spinepath.engine does not exist yet")
        raise
    function: Assess = engine.assess
    return function


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    comparisons = config.stash.get(COMPARISONS, None)
    if comparisons:
        terminalreporter.write_sep("-", "triage safety of vignettes and examples")
        for line in report(comparisons):
            terminalreporter.write_line(line)
