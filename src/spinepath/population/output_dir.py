"""Writing a whole output directory (a data set, a FHIR export) all or nothing.

The files are written into a new directory beside the target, which is renamed to the target
only when every file is complete; on any error it is removed and the target is left as it was.
An existing target is used only when it is an empty directory, so nothing is ever overwritten.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from spinepath.durable import sync_directory


class OutputDirError(ValueError):
    """The output directory cannot be written; the message names it and says why."""


def check_target(target: Path) -> None:
    """OutputDirError unless ``target`` can become a new directory (absent or empty)."""
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise OutputDirError(f"{target}: exists and is not a directory; nothing was written")
        if any(target.iterdir()):
            raise OutputDirError(f"{target}: exists and is not empty; nothing was written")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise OutputDirError(f"{target}: cannot write: the directory {parent} does not exist")


@contextlib.contextmanager
def new_directory(target: Path) -> Iterator[Path]:
    """A directory to fill, which becomes ``target`` when the block ends without an exception."""
    check_target(target)
    final = target.absolute()
    work = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
    try:
        # Made as any new directory is (the umask applies), not owner-only as mkdtemp makes it.
        work.mkdir()
    except OSError as exc:
        raise OutputDirError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        if final.is_dir():
            final.rmdir()  # empty, as checked; fails (and nothing is lost) if it filled since
        work.rename(final)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise OutputDirError(f"{target}: cannot write ({exc.strerror or exc})") from None
    sync_directory(final.parent)
