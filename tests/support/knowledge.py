"""Copies of the packaged knowledge base to break on purpose in kb check tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from spinepath import knowledge as kb
from spinepath.evidence import evidence_dir


def copy_knowledge(tmp_path: Path) -> Path:
    """A writable copy of the knowledge files under ``tmp_path``."""
    target = tmp_path / "knowledge"
    shutil.copytree(kb.knowledge_dir(), target)
    return target


def copy_evidence(tmp_path: Path) -> Path:
    """A writable copy of the evidence registry under ``tmp_path``."""
    target = tmp_path / "evidence"
    shutil.copytree(evidence_dir(), target)
    return target


def edit_yaml(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    """Load ``name``, let ``change`` edit the data in place, write it back."""
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
