"""The `spinepath` command. Each capability registers its commands from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="spinepath",
    help="Evidence-based back-pain care pathway (decision support, not a diagnosis).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    # Imported here, not at module top, so `spinepath --help` stays fast and modules stay
    # independent of one another.
    from spinepath.cli import assess as cli_core

    cli_core.register(app)
    from spinepath.cli import web as cli_web

    cli_web.register(app)
    from spinepath.cli import instruments as cli_instruments

    cli_instruments.register(app)
    from spinepath.cli import decision_aid as cli_decision_aid

    cli_decision_aid.register(app)


def main() -> None:
    _register_commands()
    app()
