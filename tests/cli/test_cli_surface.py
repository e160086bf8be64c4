"""The command line's surface: every command group, from its own module, under a stable name."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from typing import Any

import typer

from spinepath import cli

EXPECTED = {
    "assess": None,
    "schema": None,
    "questionnaire": None,
    "interview": None,
    "kb": {"check", "show"},
    "serve": None,
    "db": {"upgrade", "backup", "restore"},
    "users": {"add", "disable", "enable", "set-password", "list", "end-sessions"},
    "clinics": {"add", "list"},
    "tokens": {"create", "list", "revoke"},
    "audit": {"verify"},
    "worker": None,
    "alerts": {"add-email", "add-webhook", "list", "disable", "outbox"},
    "score": None,
    "progress": None,
    "instruments": {"list", "show", "export", "wording"},
    "decision-aid": None,
    "population": {"generate", "import", "export-fhir", "assess", "measures", "report"},
}


def _surface(command: Any) -> dict[str, set[str] | None]:
    assert hasattr(command, "commands")
    return {
        name: set(sub.commands) if hasattr(sub, "commands") else None
        for name, sub in command.commands.items()
    }


def test_the_commands_and_groups_are_exactly_these() -> None:
    assert _surface(typer.main.get_command(cli.build_app())) == EXPECTED


def test_each_command_module_owns_the_commands_the_table_gives_it() -> None:
    for module in set(cli.COMMANDS.values()):
        root = typer.Typer()

        @root.callback()
        def _group() -> None:
            """A group, so single-command modules keep their command name."""

        root.add_typer(import_module(f"spinepath.cli.{module}").app)
        owned = set(_surface(typer.main.get_command(root)))
        assert owned == {c for c, m in cli.COMMANDS.items() if m == module}, module


def test_the_help_lists_commands_in_the_table_order() -> None:
    assert list(_surface(typer.main.get_command(cli.build_app()))) == list(cli.COMMANDS)


def test_running_a_command_imports_only_its_module() -> None:
    code = (
        "import json, sys; from spinepath import cli; cli.build_app('assess'); "
        "print(json.dumps([m for m in sys.modules if m.startswith('spinepath.cli.')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "spinepath.cli.assess" in loaded
    assert not loaded & {
        "spinepath.cli.web",
        "spinepath.cli.instruments",
        "spinepath.cli.decision_aid",
        "spinepath.cli.interview",
    }
