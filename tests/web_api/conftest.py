"""Fixtures of the web-command tests: the commands' app and their environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from spinepath.cli import web as cli_web
from support.cli import command_app
from support.database_content import cli_env


@pytest.fixture
def cli() -> typer.Typer:
    return command_app(cli_web.app)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path)
