"""The command line's cache of the checked knowledge base and of compiled conditions.

It must never give a stale answer: any change to a knowledge file is a miss, and a damaged cache
file is ignored.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from spinepath import cache as user_cache
from spinepath.knowledge import KnowledgeBase

load_module: ModuleType = importlib.import_module("spinepath.knowledge.load")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The cache turned on, in a folder of its own, with a copy of the knowledge files."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(user_cache.CACHE_DIR_ENV, str(folder))
    monkeypatch.setattr(user_cache, "_enabled", False)
    monkeypatch.setattr(user_cache, "_codes", None)
    monkeypatch.setattr(user_cache, "_used", set())
    monkeypatch.setattr(user_cache, "_changed", False)
    data = tmp_path / "knowledge"
    shutil.copytree(load_module.knowledge_dir(), data)
    monkeypatch.setattr(load_module, "knowledge_dir", lambda: data)
    user_cache.enable()
    load_module.default.cache_clear()
    yield folder
    load_module.default.cache_clear()


def _fresh_default() -> KnowledgeBase:
    load_module.default.cache_clear()
    kb: KnowledgeBase = load_module.default()
    return kb


def test_the_checked_knowledge_base_is_read_back_from_the_cache(cache_dir: Path) -> None:
    first = _fresh_default()
    assert (cache_dir / "knowledge.pickle").is_file()
    second = _fresh_default()
    assert second is not first
    assert second == first
    assert second.content_hash == first.content_hash
    # Stored under another key (other knowledge files or other code): a miss.
    assert user_cache.load_object("knowledge", "another-key") is None


def test_a_changed_knowledge_file_is_a_miss(cache_dir: Path) -> None:
    first = _fresh_default()
    meta = load_module.knowledge_dir() / "meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    second = _fresh_default()
    assert second.content_hash != first.content_hash
    assert second.content_hash == load_module.content_hash(load_module.knowledge_dir())


def test_a_damaged_cache_file_is_ignored(cache_dir: Path) -> None:
    first = _fresh_default()
    (cache_dir / "knowledge.pickle").write_bytes(b"not a pickle")
    assert _fresh_default() == first


def test_the_cache_is_off_unless_turned_on(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(user_cache, "_enabled", False)
    _fresh_default()
    assert not cache_dir.exists()


def test_an_empty_cache_dir_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(user_cache.CACHE_DIR_ENV, "")
    monkeypatch.setattr(user_cache, "_enabled", False)
    user_cache.enable()
    assert not user_cache.enabled()


def test_compiled_code_is_kept_between_runs(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = "def f(values, answered):\n    return values.get('x') is True\n"
    code = user_cache.compile_code(source, "<condition f0>")
    user_cache.save()
    monkeypatch.setattr(user_cache, "_codes", None)  # as in a new process
    again = user_cache.compile_code(source, "<condition f0>")
    assert again == code
    assert not user_cache._changed  # read from the file, not compiled again
    namespace: dict[str, object] = {}
    exec(again, namespace)  # noqa: S102 - the code compiled from the source above
    assert namespace["f"]({"x": True}, {}) is True  # type: ignore[operator]
