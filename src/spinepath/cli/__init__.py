"""The `spinepath` command. Each capability registers its commands from its own module."""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import typer

from spinepath import cache as user_cache
from spinepath.extras import MissingExtraError, missing_extra

app = typer.Typer(
    name="spinepath",
    help="Evidence-based back-pain care pathway (decision support, not a diagnosis).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


_COMMAND_MODULES = ("assess", "web", "instruments", "decision_aid")
"""The modules that register commands, in the order `spinepath --help` lists them."""


def _registered_names() -> set[str]:
    commands = {
        command.name or (command.callback.__name__ if command.callback else "")
        for command in app.registered_commands
    }
    return {name.lower().replace("_", "-") for name in commands} | {
        group.name or "" for group in app.registered_groups
    }


def _register_commands(command: str | None = None) -> None:
    """Register every module's commands; or, given the ``command`` being run, stop at its module.

    Modules are imported here, not at module top, so each stays independent of the others and
    running one command does not import the rest (start-up time). Stopping early is only done
    while the app keeps several commands, so it stays a group whose first argument names the
    command, exactly as with everything registered.
    """
    for name in _COMMAND_MODULES:
        import_module(f"spinepath.cli.{name}").register(app)
        names = _registered_names()
        if command is not None and command in names and len(names) > 1:
            return


def _command_name(args: list[str]) -> str:
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
    _register_commands(sys.argv[1] if len(sys.argv) > 1 else None)
    try:
        app()
    except ImportError as error:
        # A command whose optional dependencies are not installed names the extra to install
        # (e.g. `spinepath serve` without spinepath[web]) instead of ending in a traceback.
        if not isinstance(error, MissingExtraError):
            found = (
                missing_extra(error, _command_name(sys.argv[1:]))
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
