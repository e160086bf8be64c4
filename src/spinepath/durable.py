"""Making a rename last: a renamed file is on disk only once its directory is."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def sync_directory(directory: Path) -> None:
    """Flush ``directory`` to disk, so that a rename inside it survives a crash.

    Where a directory cannot be opened or synced (some systems and file systems), the rename is
    as durable as it can be made and nothing is raised."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
