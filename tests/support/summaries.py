"""Reports that tests leave for the end-of-run terminal summary, also under pytest-xdist.

A test stores its lines with ``leave_report``; in an xdist worker they travel to the controller
in ``workeroutput``, since only the controller prints the summary (hooks in tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

REPORTS = pytest.StashKey[dict[str, list[str]]]()
WORKER_KEY = "spinepath_reports"


def leave_report(config: pytest.Config, title: str, lines: list[str]) -> None:
    config.stash.setdefault(REPORTS, {})[title] = lines
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput.setdefault(WORKER_KEY, {})[title] = lines


def collect_worker_reports(config: pytest.Config, workeroutput: dict[str, Any]) -> None:
    for title, lines in workeroutput.get(WORKER_KEY, {}).items():
        config.stash.setdefault(REPORTS, {})[title] = lines


def write_reports(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for title, lines in sorted(config.stash.get(REPORTS, {}).items()):
        terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(line)
