"""`spinepath alerts` (channels, the outbox) and `spinepath worker --once`, run as commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from spinepath.cli import care as cli_care
from spinepath.store import repository
from spinepath.store.db import Database
from support.cli import cli_runner, command_app
from support.database_content import cli_env
from support.webhooks import Receiver


@pytest.fixture
def cli() -> typer.Typer:
    return command_app(cli_care.app)


def _run(cli: typer.Typer, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = cli_runner(env).invoke(cli, list(args))
    return result.exit_code, result.output


def test_channels_are_added_listed_and_stopped(
    cli: typer.Typer, database: Database, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(database_url, tmp_path)
    with database.session() as session:
        repository.create_clinic(session, "Riverside")
    code, said = _run(cli, env, "alerts", "add-email", "Riverside", "Team@River.example")
    assert (code, "e-mail" in said or "email" in said) == (0, True)
    code, said = _run(cli, env, "alerts", "add-webhook", "Riverside", "https://pager.example/x")
    assert code == 0
    secret = said.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", secret)
    code, listed = _run(cli, env, "alerts", "list", "Riverside")
    assert code == 0
    assert "Team@river.example" in listed
    assert "https://pager.example/x" in listed
    assert secret not in listed
    assert _run(cli, env, "alerts", "disable", "1")[0] == 0
    assert "disabled" in _run(cli, env, "alerts", "list", "Riverside")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add-email", "Riverside", "nobody"), "target:"),
        (("add-webhook", "Riverside", "http://pager.example/x"), "https://"),
        (("add-webhook", "Nowhere", "https://pager.example/x"), "Nowhere"),
        (("disable", "99"), "no alert channel 99"),
        (("outbox", "--status", "lost"), "status:"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    cli: typer.Typer,
    database: Database,
    database_url: str,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    with database.session() as session:
        repository.create_clinic(session, "Riverside")
    code, said = _run(cli, cli_env(database_url, tmp_path), "alerts", *args)
    assert code != 0
    assert message in said


def test_worker_once_delivers_and_the_outbox_shows_it(
    cli: typer.Typer,
    database: Database,
    database_url: str,
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    from spinepath.care import alerts, channels

    env = cli_env(database_url, tmp_path)
    with database.session() as session:
        clinic = repository.create_clinic(session, "Riverside")
        channels.add_channel(session, clinic.id, "webhook", receiver.url, allow_http=True)
        patient, _link = repository.create_patient(session, clinic.id)
        alerts.raise_for_emergency_stop(session, patient, ["Chest pain"], "https://x.example")
    code, said = _run(cli, env, "alerts", "outbox")
    assert code == 0
    assert "pending" in said
    code, said = _run(cli, env, "worker", "--once")
    assert code == 0, said
    assert "sent 1" in said
    assert len(receiver.wait_for(1)) == 1
    assert "sent" in _run(cli, env, "alerts", "outbox", "--status", "sent")[1]
