"""`spinepath worker` killed outright (SIGKILL) while a webhook is in flight: after a restart
the message is delivered again with the same idempotency key (at least once), then never more."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from spinepath.care import signing
from spinepath.store.db import Database
from spinepath.store.models import OutboxMessage, Patient
from support.database_content import cli_env
from support.live_server import SPINEPATH
from support.webhooks import Receiver

from .world import BASE, WEBHOOK_SECRET, care_world

pytestmark = pytest.mark.slow


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(SPINEPATH), "worker"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _message(database: Database) -> OutboxMessage:
    with database.session() as session:
        return session.scalars(select(OutboxMessage)).one()


def _wait_sent(database: Database, timeout: float = 30) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = _message(database)
        if message.status == "sent":
            return message
        time.sleep(0.1)
    raise AssertionError(f"still {message.status} after {timeout} s")


def test_a_killed_worker_loses_nothing_and_repeats_only_with_the_same_key(
    database: Database, database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    from spinepath.care import alerts

    world = care_world(database, email=None, webhook=receiver.url)
    with database.session() as session:
        patient = session.get(Patient, world.patient_id)
        assert patient is not None
        assert alerts.raise_for_emergency_stop(session, patient, ["Saddle numbness"], BASE)
    env = {
        **cli_env(database_url, tmp_path),
        "SPINEPATH_DELIVERY_CLAIM_SECONDS": "5",
        "SPINEPATH_WORKER_POLL_SECONDS": "0.2",
    }
    receiver.hang_seconds = 60
    first = _worker(env)
    try:
        receiver.wait_for(1, timeout=30)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    in_flight = _message(database)
    assert (in_flight.status, in_flight.attempts) == ("pending", 1)

    receiver.hang_seconds = 0
    second = _worker(env)
    try:
        sent = _wait_sent(database)
        time.sleep(1)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        assert second.wait(timeout=15) == 0, "the worker stops cleanly on SIGTERM"
    assert sent.attempts == 2
    deliveries = receiver.deliveries
    assert len(deliveries) == 2, "delivered again after the crash, and not a third time"
    keys = {d.headers["Idempotency-Key"] for d in deliveries}
    assert keys == {sent.idempotency_key}
    for delivery in deliveries:
        signing.verify(WEBHOOK_SECRET, delivery.headers["Spinepath-Signature"], delivery.body)
