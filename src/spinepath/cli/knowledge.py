"""`spinepath kb check|show`: validate the knowledge base and show its entries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from spinepath import knowledge as kb
from spinepath.cli import report
from spinepath.cli.options import OutputFormat

app = typer.Typer(name="kb", help="The clinical knowledge base.", no_args_is_help=True)


@app.command("check")
def kb_check(
    directory: Annotated[
        Path | None, typer.Option(help="Check this knowledge directory instead.")
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option(help="Check against this evidence registry directory instead.")
    ] = None,
) -> None:
    """Validate the knowledge base and the evidence registry it cites: unique ids, one entry
    per document and per claim, every rule sourced, every source primary, references resolve."""
    console = Console()
    try:
        knowledge = kb.load(directory, evidence)
    except kb.KnowledgeError as exc:
        err = Console(stderr=True)
        err.print("[red]knowledge base could not be loaded:[/]", end=" ")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    problems = kb.check(knowledge)
    if problems:
        err = Console(stderr=True)
        err.print(f"[red]{len(problems)} problem(s) in the knowledge base:[/]")
        for problem in problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1)
    counts: dict[str, int] = {}
    for kind, _key, _entry in knowledge.entries():
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    console.print(f"[green]knowledge base {knowledge.version} is valid[/]: {summary}")


@app.command("show")
def kb_show(
    entry_id: Annotated[str | None, typer.Argument(help="An entry id, e.g. RF-CES-NEW.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
) -> None:
    """Show one entry, or list every entry with its kind."""
    knowledge = kb.default()
    if entry_id is None:
        rows = [(kind, key) for kind, key, _ in knowledge.entries()]
        if fmt is OutputFormat.JSON:
            sys.stdout.write(json.dumps([{"kind": k, "id": i} for k, i in rows]) + "\n")
        else:
            report.print_entry_list(rows, Console())
        return
    found = knowledge.find(entry_id)
    if found is None:
        Console(stderr=True).print(f"[red]no knowledge-base entry with id {entry_id!r}[/]")
        raise typer.Exit(1)
    kind, entry = found
    data: dict[str, Any] = json.loads(entry.model_dump_json(exclude={"when", "ask_if"}))
    for name in ("when", "ask_if"):
        condition = getattr(entry, name, None)
        if condition is not None:
            data[name] = report.describe_condition(condition)
    data["kind"] = kind
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        report.print_entry(entry_id, data, knowledge, Console())
