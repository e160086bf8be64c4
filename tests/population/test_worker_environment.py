"""The workers of ``population assess`` start with their share of the CPUs and their allocator
settings, whatever Polars wrote into the environment, without overriding a setting the user
gave, and the parent's environment is restored."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from spinepath.population.workers import (
    ALLOCATOR,
    POLARS_ALLOCATOR,
    WORKER_ALLOCATOR,
    allocator_settings,
    worker_environment,
)


def _options(conf: str) -> dict[str, str]:
    """jemalloc's reading of its settings: the last value given for an option counts."""
    return dict(option.split(":", 1) for option in conf.split(","))


def test_workers_get_their_share_of_the_cpus_and_the_parent_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setenv(ALLOCATOR, POLARS_ALLOCATOR)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with worker_environment(4):
        assert os.environ["POLARS_MAX_THREADS"] == "2"
        assert os.environ[ALLOCATOR] == WORKER_ALLOCATOR
    assert "POLARS_MAX_THREADS" not in os.environ
    assert os.environ[ALLOCATOR] == POLARS_ALLOCATOR


def test_more_workers_than_cpus_still_get_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with worker_environment(3):
        assert os.environ["POLARS_MAX_THREADS"] == "1"


def test_a_thread_count_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLARS_MAX_THREADS", "7")
    with worker_environment(2):
        assert os.environ["POLARS_MAX_THREADS"] == "7"
    assert os.environ["POLARS_MAX_THREADS"] == "7"


@pytest.mark.parametrize(
    ("found", "effective"),
    [
        (None, {"dirty_decay_ms": "10000", "muzzy_decay_ms": "10000"}),
        # Inherited from a parent that imported Polars: nobody chose it.
        (POLARS_ALLOCATOR, {"dirty_decay_ms": "10000", "muzzy_decay_ms": "10000"}),
        # The user's own options win over the workers'.
        ("dirty_decay_ms:0", {"dirty_decay_ms": "0", "muzzy_decay_ms": "10000"}),
        (
            f"{POLARS_ALLOCATOR},narenas:2",
            {"dirty_decay_ms": "10000", "muzzy_decay_ms": "10000", "narenas": "2"},
        ),
    ],
)
def test_allocator_settings(found: str | None, effective: dict[str, str]) -> None:
    # In the worker, importing Polars puts its defaults first again; the rest still wins.
    assert _options(f"{POLARS_ALLOCATOR},{allocator_settings(found)}") == effective


def test_the_workers_get_their_allocator_settings_when_polars_was_imported_first() -> None:
    """A parent that imported Polars (a script, a notebook, this very test run) passes
    Polars' allocator settings on in the environment."""
    code = (
        "import json, os; import polars; "
        "from spinepath.population.workers import ALLOCATOR, started_workers\n"
        "with started_workers(2) as workers:\n"
        "    assert workers.pool is not None\n"
        "    print(json.dumps(workers.pool.submit(os.getenv, ALLOCATOR).result()))"
    )
    environment = {k: v for k, v in os.environ.items() if k != ALLOCATOR}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    seen = json.loads(out.stdout)
    assert _options(seen).items() >= _options(WORKER_ALLOCATOR).items()
