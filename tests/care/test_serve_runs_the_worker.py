"""`spinepath serve` runs the delivery worker beside the web workers, unless told not to."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from spinepath.store.db import Database
from spinepath.store.models import AlertChannel, OutboxMessage
from support.database_content import cli_env
from support.live_server import live_server
from support.web import World
from support.webhooks import Receiver

from .world import example

pytestmark = pytest.mark.slow


def _post_urgent_assessment(url: str, world: World) -> None:
    response = httpx2.post(
        f"{url}/api/v1/patients/{world.patient_a.id}/assessments",
        json=example("foot-drop-urgent").model_dump(mode="json"),
        headers={"Authorization": f"Bearer {world.token_a}"},
    )
    assert response.status_code == 201, response.text


def _add_webhook(database: Database, world: World, url: str) -> None:
    with database.session() as session:
        session.add(
            AlertChannel(clinic_id=world.clinic_a, kind="webhook", target=url, secret="s" * 32)
        )


def test_serve_delivers_alerts_with_its_own_worker(
    database: Database, database_url: str, tmp_path: Path, world: World, receiver: Receiver
) -> None:
    _add_webhook(database, world, receiver.url)
    env = {**cli_env(database_url, tmp_path), "SPINEPATH_WORKER_POLL_SECONDS": "0.2"}
    with live_server(env, workers=1) as server:
        _post_urgent_assessment(server.url, world)
        [hook] = receiver.wait_for(1, timeout=20)
    body = json.loads(hook.body)
    assert (body["alert"]["kind"], body["alert"]["level"]) == ("urgent_result", "urgent")


def test_serve_without_the_worker_leaves_the_outbox_to_spinepath_worker(
    database: Database, database_url: str, tmp_path: Path, world: World, receiver: Receiver
) -> None:
    _add_webhook(database, world, receiver.url)
    env = {
        **cli_env(database_url, tmp_path),
        "SPINEPATH_WORKER": "false",
        "SPINEPATH_WORKER_POLL_SECONDS": "0.2",
    }
    with live_server(env, workers=1) as server:
        _post_urgent_assessment(server.url, world)
        time.sleep(2)
    assert receiver.deliveries == []
    with database.session() as session:
        assert [m.status for m in session.scalars(select(OutboxMessage))] == ["pending"]
