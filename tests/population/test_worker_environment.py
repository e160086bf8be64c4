"""The workers of ``population assess`` start with their share of the CPUs and the allocator
settings, without changing a value the user set, and the parent's environment is restored."""

from __future__ import annotations

import os

import pytest

from spinepath.population.assess import WORKER_ENVIRONMENT, worker_environment


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
