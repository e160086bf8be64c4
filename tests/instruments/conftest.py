"""Fixtures for the instrument tests (answer helpers are in answers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from spinepath.cli import instruments as cli_instruments
from support.cli import command_app

from .answers import FIXTURES


@pytest.fixture
def wording_dir() -> Path:
    return FIXTURES / "wording"


@pytest.fixture
def cli() -> typer.Typer:
    return command_app(cli_instruments.app, pretty_exceptions_enable=False)
