"""Reading the commands' input files and standard input, and writing their output files.

Every command that reads a document or writes a file goes through here, so that all of them:

* read at most ``MAX_INPUT_BYTES`` from a file or standard input, so a wrong or endless input
  (``< /dev/zero``) ends in a message instead of exhausting memory;
* refuse text that is not UTF-8, naming the file and the byte offset;
* write all or nothing (a temporary file beside the target, flushed to disk, then renamed over
  it), and never over one of their own input files.

Each refusal is one line on standard error and exit status ``EXIT_BAD_INPUT``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import typer

from spinepath.durable import sync_directory

MAX_INPUT_BYTES = 10 * 1024 * 1024
"""The most read from one input file, standard input or one line of a batch: 10 MiB.

An intake is a few kilobytes, so this leaves ample room and still stops a runaway input early."""

EXIT_BAD_INPUT = 2
"""The exit status for input that cannot be used and for an output that cannot be written."""

STDIN = "-"

_CHUNK = 1024 * 1024


class InputError(ValueError):
    """Input that cannot be used; the message says why, without naming where it came from."""


def fail(message: str) -> typer.Exit:
    """Print ``message`` on standard error; the caller raises the exit this returns."""
    # typer.echo never wraps, so a long path keeps the message on one line.
    typer.echo(message, err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def input_name(source: str | Path) -> str:
    """How messages name an input: its path, or ``stdin``."""
    return "stdin" if str(source) == STDIN else str(source)


def _limit_text() -> str:
    return f"the {MAX_INPUT_BYTES // (1024 * 1024)} MiB limit ({MAX_INPUT_BYTES:,} bytes)"


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _decode(data: bytes) -> str:
    """``data`` as UTF-8 text; ``InputError`` naming the byte offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (at byte offset {exc.start})") from None


def open_input(source: str | Path) -> BinaryIO:
    """Open an input file for reading; exit 2 naming it when it cannot be opened."""
    try:
        return Path(source).open("rb")
    except OSError as exc:
        raise fail(f"{source}: cannot be read ({_reason(exc)})") from None


def _read_limited(source: str) -> bytes:
    if source == STDIN:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream put in place of standard input by an embedding program
            return sys.stdin.read(MAX_INPUT_BYTES + 1).encode()
        data: bytes = stream.read(MAX_INPUT_BYTES + 1)
        return data
    with open_input(source) as handle:
        try:
            return handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise fail(f"{source}: cannot be read ({_reason(exc)})") from None


def read_text_input(source: str, what: str) -> str:
    """The text of file ``source``, or of standard input for ``-``.

    ``what`` names the document in messages ("intake"). Exits 2 with one line naming the input
    when it cannot be read, is larger than ``MAX_INPUT_BYTES`` or is not UTF-8.
    """
    name = input_name(source)
    # One byte past the limit is enough to know it is too large, whatever the input's size.
    data = _read_limited(source)
    if len(data) > MAX_INPUT_BYTES:
        raise fail(f"{name}: the {what} is larger than {_limit_text()}")
    try:
        return _decode(data)
    except InputError as exc:
        raise fail(f"{name}: the {what} is {exc}") from None


def lines(handle: BinaryIO) -> Iterator[tuple[int, str | InputError]]:
    """Each line of ``handle`` with its number (from 1): its text, or why it cannot be used.

    A line is read only up to ``MAX_INPUT_BYTES``; the rest of a longer one is read past in
    blocks, never held whole.
    """
    number = 0
    while line := handle.readline(MAX_INPUT_BYTES + 1):
        number += 1
        if len(line) > MAX_INPUT_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(_CHUNK)
            yield number, InputError(f"the line is longer than {_limit_text()}")
            continue
        try:
            text: str | InputError = _decode(line)
        except InputError as exc:
            text = exc
        yield number, text


def count_lines(handle: BinaryIO) -> int | None:
    """The number of lines in a regular file, read in blocks since a line may be huge; then back
    to the start. ``None`` for a pipe or a device, which can be read only once."""
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        return None
    count = 0
    last = b"\n"
    while block := handle.read(_CHUNK):
        count += block.count(b"\n")
        last = block[-1:]
    handle.seek(0)
    return count + (last != b"\n")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        # One of them does not exist (yet): compare where the two paths lead.
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting_inputs(target: Path, inputs: Iterable[str | Path]) -> None:
    """Exit 2 when ``target`` is one of the ``inputs``, however either path is spelled."""
    for source in inputs:
        if str(source) != STDIN and _same_file(target, Path(source)):
            raise fail(
                f"{target}: refused: it is the input file {source}; nothing was written, "
                "give another output file"
            )


@contextlib.contextmanager
def _replacing(final: Path, existing: os.stat_result | None) -> Iterator[BinaryIO]:
    temp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
    # Created as any new file is (the umask applies), not owner-only as mkstemp makes it.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            if existing is not None:
                # A replaced file keeps its permissions, so a private output stays private.
                os.fchmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_directory(final.parent)


@contextlib.contextmanager
def atomic_output(target: Path, inputs: Iterable[str | Path] = ()) -> Iterator[BinaryIO]:
    """A binary file whose content becomes ``target`` when the block ends without an exception.

    Until then ``target`` is untouched; on an exception nothing is left behind. Exits 2 when
    ``target`` is one of ``inputs`` or cannot be written. A symbolic link at ``target`` is
    followed. A device or a pipe (``/dev/null``) is written to directly: it cannot be replaced.
    """
    refuse_overwriting_inputs(target, inputs)
    final = Path(os.path.realpath(target))
    try:
        existing: os.stat_result | None = final.stat()
    except OSError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise fail(f"{target}: cannot write: it is a directory")
    if not final.parent.is_dir():
        raise fail(f"{target}: cannot write: the directory {final.parent} does not exist")
    try:
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            with final.open("wb") as handle:
                yield handle
        else:
            with _replacing(final, existing) as handle:
                yield handle
    except OSError as exc:
        raise fail(f"{target}: cannot write ({_reason(exc)})") from None


def write_output_atomically(
    target: Path, data: bytes, *, inputs: Iterable[str | Path] = ()
) -> None:
    """Write ``data`` to ``target`` all or nothing, refusing to write over any of ``inputs``."""
    with atomic_output(target, inputs) as handle:
        handle.write(data)
