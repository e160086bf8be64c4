"""A per-user cache that lets the command line start fast.

It keeps, between runs, the validated and checked knowledge base (a pickle) and the Python code
compiled from its conditions (marshal). It is off unless a program turns it on with
:func:`enable`: the `spinepath` command does; the library, the web app and the tests never read
or write it.

Every entry is keyed by all it was made from, so it is never stale: the knowledge base by its
``content_hash`` (every knowledge file) and by :func:`code_fingerprint` (every source file of
spinepath, and the versions of Python, pydantic and PyYAML); compiled code by its source text
and the Python version. Anything else gives a miss and the entry is made again. A cache that
cannot be read or written is ignored, never an error.

It lives in ``$SPINEPATH_CACHE_DIR``, else ``$XDG_CACHE_HOME/spinepath``, else
``~/.cache/spinepath``; ``SPINEPATH_CACHE_DIR=`` (empty) turns it off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import pickle
import sys
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any

CACHE_DIR_ENV = "SPINEPATH_CACHE_DIR"
_MAX_CODES = 4096
"""Beyond this many compiled conditions the file keeps only those the last run used."""

_enabled = False
_codes: dict[bytes, CodeType] | None = None
_used: set[bytes] = set()
_changed = False


def directory() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to be found: no cache
            return None
    return Path(base) / "spinepath"


def enable() -> None:
    """Use the cache from now on in this process (the command line calls this)."""
    global _enabled
    _enabled = directory() is not None


def enabled() -> bool:
    return _enabled


@cache
def code_fingerprint() -> str:
    """A hash of spinepath's own source files and of the versions its cached objects depend on."""
    import pydantic

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in (sys.version, pydantic.VERSION):
        digest.update(part.encode() + b"\0")
    # PyYAML's version is in its __init__.py; read it rather than import the parser.
    yaml_spec = importlib.util.find_spec("yaml")
    if yaml_spec is not None and yaml_spec.origin:
        digest.update(Path(yaml_spec.origin).read_bytes())
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = Path(folder) / name
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _write(name: str, data: bytes) -> None:
    """Replace the file ``name`` in the cache all at once; give up quietly if it cannot."""
    import tempfile

    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            Path(temporary).replace(folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def _read(name: str) -> bytes | None:
    folder = directory()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def load_object(name: str, key: str) -> Any | None:
    """The object stored under ``name`` if it was stored with ``key``; else None."""
    if not _enabled:
        return None
    data = _read(f"{name}.pickle")
    if data is None:
        return None
    try:
        # Only spinepath writes this file, in the user's own 0700 cache folder.
        stored_key, value = pickle.loads(data)  # noqa: S301
    except Exception:  # a damaged or foreign file is a miss
        return None
    return value if stored_key == key else None


def store_object(name: str, key: str, value: Any) -> None:
    """Keep ``value`` under ``name`` with ``key`` (replacing what was there)."""
    if _enabled:
        _write(f"{name}.pickle", pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))


def _codes_file() -> str:
    return f"conditions-{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}.marshal"


def _load_codes() -> dict[bytes, CodeType]:
    global _codes
    if _codes is None:
        _codes = {}
        data = _read(_codes_file())
        if data is not None:
            try:
                loaded = marshal.loads(data)  # noqa: S302 - spinepath's own file, as above
            except (EOFError, ValueError, TypeError):
                loaded = None
            if isinstance(loaded, dict):
                _codes = {
                    k: v
                    for k, v in loaded.items()
                    if isinstance(k, bytes) and isinstance(v, CodeType)
                }
    return _codes


def compile_code(source: str, filename: str) -> CodeType:
    """``compile(source, filename, "exec")``, from the cache when it is on and holds it."""
    if not _enabled:
        return compile(source, filename, "exec")
    global _changed
    codes = _load_codes()
    key = hashlib.sha256(f"{filename}\0{source}".encode()).digest()
    code = codes.get(key)
    if code is None:
        code = compile(source, filename, "exec")
        codes[key] = code
        _changed = True
    _used.add(key)
    return code


def save() -> None:
    """Write the compiled code this run added (the command line calls this as it ends)."""
    global _changed
    if not _enabled or not _changed or _codes is None:
        return
    keep = _codes if len(_codes) <= _MAX_CODES else {k: _codes[k] for k in _used}
    _write(_codes_file(), marshal.dumps(keep))
    _changed = False
