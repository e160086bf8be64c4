"""Running the web commands (serve, db, users, audit …) against a test database; the ``cli``
and ``env`` fixtures are in this folder's conftest."""

from __future__ import annotations

import typer

from support.cli import cli_runner


def run(cli: typer.Typer, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = cli_runner(env).invoke(cli, list(args))
    return result.exit_code, result.output
