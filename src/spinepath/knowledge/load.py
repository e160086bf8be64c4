"""Read the knowledge files (YAML under ``spinepath/knowledge/data``) into a validated model."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from spinepath.cache import code_fingerprint, load_object, store_object
from spinepath.cache import enabled as cache_enabled
from spinepath.knowledge.check import check
from spinepath.knowledge.models import KnowledgeBase, KnowledgeError, Source
from spinepath.pathway.conditions import ConditionError
from spinepath.validation import entry_name, error_message, field_path

_ENTRY_NAME_KEYS = ("id", "code", "fact")
"""What names an entry of a knowledge file in an error message."""


def knowledge_dir() -> Path:
    return Path(str(files("spinepath") / "knowledge" / "data"))


def _read_yaml(path: Path) -> Any:
    # Imported on first read: a knowledge base from the cache needs no YAML parser.
    import yaml

    from spinepath.yamlio import safe_load

    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: not valid YAML: {exc}") from exc


def _validate(model: type[BaseModel], data: object, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = field_path(first["loc"], default="")
        name = entry_name(data, first["loc"], _ENTRY_NAME_KEYS)
        entry = f" [{name}]" if name else ""
        message = error_message(first, strip_value_error=False)
        raise KnowledgeError(f"{where}{entry}: {loc}: {message}") from exc
    except ConditionError as exc:
        raise KnowledgeError(f"{where}: {exc}") from exc


def content_hash(root: Path) -> str:
    """SHA-256 over every knowledge file under ``root``: its path and its bytes."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_sources(folder: Path | None = None) -> dict[str, Source]:
    """The source registry (``data/sources/*.yaml``): every citation the project shows.

    The knowledge base and the decision aid both read it through here, so a source is defined
    and validated once.
    """
    root = folder or knowledge_dir() / "sources"
    sources: list[Source] = []
    for path in sorted(root.glob("*.yaml")):
        for item in _read_yaml(path) or []:
            name = item.get("id") if isinstance(item, dict) else None
            where = f"sources/{path.name}" + (f" [{name}]" if isinstance(name, str) else "")
            sources.append(_validate(Source, item, where))
    if not sources:
        raise KnowledgeError(f"sources: no source files in {root}")
    duplicates = [sid for sid, n in Counter(s.id for s in sources).items() if n > 1]
    if duplicates:
        raise KnowledgeError(f"sources: duplicate source ids {sorted(duplicates)}")
    return {s.id: s for s in sources}


def load(directory: Path | None = None) -> KnowledgeBase:
    """Read every knowledge file; raise ``KnowledgeError`` naming the file and entry."""
    root = directory or knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {root}")

    def read(name: str) -> Any:
        path = root / name
        if not path.is_file():
            raise KnowledgeError(f"missing knowledge file: {name}")
        return _read_yaml(path)

    data = {
        "meta": read("meta.yaml"),
        "content_hash": content_hash(root),
        "sources": load_sources(root / "sources"),
        "referrals": _keyed(read("referrals.yaml"), "id", "referrals.yaml"),
        "concerns": _keyed(read("concerns.yaml"), "code", "concerns.yaml"),
        "derived": read("derived.yaml"),
        "questions": read("questions.yaml"),
        "red_flags": read("red_flags.yaml"),
        "levels": read("levels.yaml"),
        "patterns": read("patterns.yaml"),
        "care": read("care.yaml"),
        "imaging": read("imaging.yaml"),
        "surgery": read("surgery.yaml"),
        "seed_claims": read("seed_claims.yaml"),
    }
    return _validate(KnowledgeBase, data, "knowledge")  # type: ignore[no-any-return]


@cache
def default() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process on first use.

    When the command line turned the cache on (``spinepath.cache``), a knowledge base that was
    loaded and passed its checks before, from the same files and the same code, is read back
    from the cache instead.
    """
    key = None
    if cache_enabled():
        key = f"{content_hash(knowledge_dir())}-{code_fingerprint()}"
        found = load_object("knowledge", key)
        if isinstance(found, KnowledgeBase):
            return found
    kb = load()
    problems = check(kb)
    if problems:
        raise KnowledgeError("knowledge base failed its checks:\n" + "\n".join(problems))
    if key is not None:
        store_object("knowledge", key, kb)
    return kb


def _keyed(items: Any, key: str, where: str) -> dict[str, Any]:
    """Entries by their id, refusing a repeated id (a dict would keep only the last)."""
    if not isinstance(items, list):
        raise KnowledgeError(f"{where}: expected a list of entries")
    out: dict[str, Any] = {}
    for item in items:
        name = item.get(key) if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise KnowledgeError(f"{where}: every entry needs a {key!r}")
        if name in out:
            raise KnowledgeError(f"{where}: duplicate {key} {name!r}")
        out[name] = item
    return out
