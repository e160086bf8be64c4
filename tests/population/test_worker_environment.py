"""The workers of ``population assess`` start with their share of the CPUs and the allocator
settings, without changing a value the user set, and the parent's environment is restored."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from spinepath.population.workers import WORKER_ENVIRONMENT, worker_environment


def test_workers_get_their_share_of_the_cpus_and_the_parent_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    for name in WORKER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with worker_environment(4):
        assert os.environ["POLARS_MAX_THREADS"] == "2"
        for name, value in WORKER_ENVIRONMENT.items():
            assert os.environ[name] == value
    assert "POLARS_MAX_THREADS" not in os.environ
    assert not set(WORKER_ENVIRONMENT) & set(os.environ)


def test_more_workers_than_cpus_still_get_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with worker_environment(3):
        assert os.environ["POLARS_MAX_THREADS"] == "1"


def test_a_value_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLARS_MAX_THREADS", "7")
    with worker_environment(2):
        assert os.environ["POLARS_MAX_THREADS"] == "7"
    assert os.environ["POLARS_MAX_THREADS"] == "7"


def _allocator_options(conf: str) -> dict[str, str]:
    """jemalloc's reading of its settings: the last value given for an option counts."""
    return dict(option.split(":", 1) for option in conf.split(","))


def test_the_workers_of_the_command_get_the_allocator_settings() -> None:
    """Importing Polars writes its own allocator settings into the environment (a worker's
    then follow them and win), so the command starts its workers before anything imports
    Polars: a setting found in the environment is taken as the user's and kept."""
    code = (
        "import json, os, sys; from spinepath import cli; cli.build_app('population'); "
        "from spinepath.population.workers import started_workers\n"
        "polars_loaded = 'polars' in sys.modules\n"
        "with started_workers(2) as workers:\n"
        "    assert workers.pool is not None\n"
        "    seen = workers.pool.submit(os.getenv, '_RJEM_MALLOC_CONF').result()\n"
        "print(json.dumps({'polars_loaded': polars_loaded, 'seen': seen}))"
    )
    environment = {k: v for k, v in os.environ.items() if k not in WORKER_ENVIRONMENT}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    found = json.loads(out.stdout)
    assert not found["polars_loaded"]
    wanted = _allocator_options(WORKER_ENVIRONMENT["_RJEM_MALLOC_CONF"])
    assert wanted.items() <= _allocator_options(found["seen"]).items()
