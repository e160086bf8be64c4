from __future__ import annotations

import pytest

from spinepath.pathway.engine import assess as engine_assess

from .cases import Assess
from .triage_safety import COMPARISONS, report


@pytest.fixture(scope="session")
def assess() -> Assess:
    """The engine's `assess`."""
    function: Assess = engine_assess
    return function


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    comparisons = config.stash.get(COMPARISONS, None)
    if comparisons:
        terminalreporter.write_sep("-", "triage safety of vignettes and examples")
        for line in report(comparisons):
            terminalreporter.write_line(line)
