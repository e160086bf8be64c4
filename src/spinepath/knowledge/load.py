"""Read the knowledge files (YAML under ``spinepath/knowledge/data``) into a validated model."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from spinepath.cache import code_fingerprint, load_object, store_object
from spinepath.cache import enabled as cache_enabled
from spinepath.evidence.registry import EvidenceError, evidence_dir, load_registry
from spinepath.knowledge.check import check
from spinepath.knowledge.models import KnowledgeBase, KnowledgeError
from spinepath.pathway.conditions import ConditionError
from spinepath.validation import validate_entry

_ENTRY_NAME_KEYS = ("id", "code", "fact")
"""What names an entry of a knowledge file in an error message."""


def knowledge_dir() -> Path:
    return Path(str(files("spinepath") / "knowledge" / "data"))


def _read_yaml(path: Path) -> Any:
    # Imported on first read: a knowledge base from the cache needs no YAML parser.
    from spinepath.yamlio import read_data_file

    return read_data_file(path, path.name, KnowledgeError)


def _validate(model: type[BaseModel], data: object, where: str) -> Any:
    try:
        return validate_entry(
            model,
            data,
            where,
            KnowledgeError,
            name_keys=_ENTRY_NAME_KEYS,
            strip_value_error=False,
        )
    except ConditionError as exc:
        raise KnowledgeError(f"{where}: {exc}") from exc


def content_hash(root: Path, evidence: Path | None = None) -> str:
    """SHA-256 over every knowledge file under ``root`` and every registry file it cites."""
    digest = hashlib.sha256()
    for folder in (root, evidence or evidence_dir()):
        for path in sorted(folder.rglob("*.yaml")):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load(directory: Path | None = None, evidence: Path | None = None) -> KnowledgeBase:
    """Read every knowledge file, and the evidence registry it cites (``evidence``, by default
    the packaged one); raise ``KnowledgeError`` naming the file and entry."""
    root = directory or knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {root}")
    try:
        registry = load_registry(evidence)
    except EvidenceError as exc:
        raise KnowledgeError(f"evidence registry: {exc}") from exc

    def read(name: str) -> Any:
        path = root / name
        if not path.is_file():
            raise KnowledgeError(f"missing knowledge file: {name}")
        return _read_yaml(path)

    data = {
        "meta": read("meta.yaml"),
        "content_hash": content_hash(root, evidence or evidence_dir()),
        "sources": registry.sources,
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
        "seed_claims": registry.seed_claims,
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
