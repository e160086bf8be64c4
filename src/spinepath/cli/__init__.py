"""The `spinepath` command: each command group is a module-level Typer app in its own module."""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import typer

from spinepath import cache as user_cache
from spinepath.extras import MissingExtraError, missing_extra

COMMANDS = {
    "assess": "assess",
    "schema": "assess",
    "questionnaire": "questionnaire",
    "interview": "interview",
    "kb": "knowledge",
    "serve": "web",
    "db": "web",
    "users": "web",
    "clinics": "web",
    "tokens": "web",
    "audit": "web",
    "worker": "care",
    "alerts": "care",
    "score": "instruments",
    "progress": "instruments",
    "instruments": "instruments",
    "decision-aid": "decision_aid",
    "population": "population",
}
"""Each command or group, and the module of spinepath.cli whose ``app`` owns it (in --help order).

Running one command imports only its module, so `spinepath assess` does not load the web,
instrument or decision-aid code; a test checks this table against the modules' apps."""


def _group() -> None:
    """Evidence-based back-pain care pathway (decision support, not a diagnosis)."""


def build_app(command: str | None = None) -> typer.Typer:
    """The `spinepath` app: every command, or (given the command being run) its module only."""
    root = typer.Typer(name="spinepath", no_args_is_help=True, pretty_exceptions_enable=False)
    # A callback keeps the app a group even with one module, so the command name is still read.
    root.callback()(_group)
    owner = COMMANDS.get(command or "")
    for module in [owner] if owner else list(dict.fromkeys(COMMANDS.values())):
        root.add_typer(import_module(f"spinepath.cli.{module}").app)
    return root


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(f"module 'spinepath.cli' has no attribute {name!r}")


def _command_name(app: typer.Typer, args: list[str]) -> str:
    """``spinepath db upgrade`` for ``["db", "upgrade", "--flag"]``: the words naming a command."""
    command: Any = typer.main.get_command(app)
    words = ["spinepath"]
    for arg in args:
        command = getattr(command, "commands", {}).get(arg)
        if command is None:
            break
        words.append(arg)
    return " ".join(words)


def main() -> None:
    user_cache.enable()
    app = build_app(sys.argv[1] if len(sys.argv) > 1 else None)
    try:
        app()
    except ImportError as error:
        # A command whose optional dependencies are not installed names the extra to install
        # (e.g. `spinepath serve` without spinepath[web]) instead of ending in a traceback.
        if not isinstance(error, MissingExtraError):
            found = (
                missing_extra(error, _command_name(app, sys.argv[1:]))
                if isinstance(error, ModuleNotFoundError)
                else None
            )
            if found is None:
                raise
            error = found
        sys.stderr.write(f"error: {error}\n")
        raise SystemExit(1) from None
    finally:
        user_cache.save()
