"""Running spinepath's commands in process with Typer's test runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer
from typer.testing import CliRunner

from spinepath import cli

# Wide and without colour, so text reports neither wrap nor carry escape codes.
PLAIN_WIDE = {"COLUMNS": "240", "NO_COLOR": "1"}


def cli_runner(env: Mapping[str, str] | None = None) -> CliRunner:
    """Typer's runner, with ``env`` set for every command it runs."""
    return CliRunner(env=env)


def command_app(commands: typer.Typer, **options: Any) -> typer.Typer:
    """A fresh app with one command module's commands (its ``app``), named as in `spinepath`.

    The callback keeps the app a group even for a single command, so the command's name is the
    first argument, as on the real command line.
    """
    app = typer.Typer(**options)

    @app.callback()
    def main() -> None:
        """spinepath (test)."""

    app.add_typer(commands)
    return app


def spinepath_app() -> typer.Typer:
    """The real `spinepath` app, every command group included."""
    return cli.build_app()
