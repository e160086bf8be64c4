"""Read the knowledge files (YAML under ``spinepath/knowledge/data``) into a validated model."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from spinepath.knowledge.check import check
from spinepath.knowledge.models import KnowledgeBase, KnowledgeError, Source
from spinepath.pathway.conditions import ConditionError


def knowledge_dir() -> Path:
    return Path(str(files("spinepath") / "knowledge" / "data"))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: not valid YAML: {exc}") from exc


def _validate(model: type[BaseModel], data: object, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        entry = _entry_name(data, first["loc"])
        raise KnowledgeError(f"{where}{entry}: {loc}: {first['msg']}") from exc
    except ConditionError as exc:
        raise KnowledgeError(f"{where}: {exc}") from exc


def _entry_name(data: object, loc: tuple[int | str, ...]) -> str:
    node: Any = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        if isinstance(node, dict):
            name = node.get("id") or node.get("code") or node.get("fact")
            if name:
                return f" [{name}]"
    return ""


def load(directory: Path | None = None) -> KnowledgeBase:
    """Read every knowledge file; raise ``KnowledgeError`` naming the file and entry."""
    root = directory or knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {root}")
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())

    def read(name: str) -> Any:
        path = root / name
        if not path.is_file():
            raise KnowledgeError(f"missing knowledge file: {name}")
        return _read_yaml(path)

    sources: list[Source] = []
    for path in sorted((root / "sources").glob("*.yaml")):
        sources.extend(
            _validate(Source, item, f"sources/{path.name}") for item in _read_yaml(path) or []
        )
    duplicates = [sid for sid, n in Counter(s.id for s in sources).items() if n > 1]
    if duplicates:
        raise KnowledgeError(f"sources: duplicate source ids {sorted(duplicates)}")
    data = {
        "meta": read("meta.yaml"),
        "content_hash": digest.hexdigest(),
        "sources": {s.id: s for s in sources},
        "referrals": {r["id"]: r for r in read("referrals.yaml")},
        "concerns": {c["code"]: c for c in read("concerns.yaml")},
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
    """The packaged knowledge base, loaded once per process on first use."""
    kb = load()
    problems = check(kb)
    if problems:
        raise KnowledgeError("knowledge base failed its checks:\n" + "\n".join(problems))
    return kb
