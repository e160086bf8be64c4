"""The error report of an import: one CSV row per line, resource or record that was not read.

Columns: ``file`` (the NDJSON file, or the database table), ``line`` (the line number, or the
record's id), ``field`` (the element or column at fault, when one is) and ``message``.
"""

from __future__ import annotations

import csv
from pathlib import Path

ERRORS_FILE = "import-errors.csv"


class ErrorLog:
    """Rows of the report, written as they come."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["file", "line", "field", "message"])
        self.count = 0

    def add(self, file: str, line: int | None, field: str | None, message: str) -> None:
        self._writer.writerow([file, "" if line is None else line, field or "", message])
        self.count += 1

    def close(self) -> None:
        self._handle.close()
