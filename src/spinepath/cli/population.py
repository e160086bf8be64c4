"""`spinepath population generate`: a synthetic cohort of adults with back pain, as NDJSON."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spinepath.cli.files import EXIT_BAD_INPUT, atomic_output

app = typer.Typer()
"""The commands of this module, added to `spinepath` as they are."""

population = typer.Typer(
    name="population",
    help="Synthetic populations for analytics and benchmarks.",
    no_args_is_help=True,
)
app.add_typer(population)


@population.command("generate")
def generate_command(
    people: Annotated[int, typer.Option("--people", help="How many people (1 or more).")],
    out: Annotated[Path, typer.Option("--out", help="The NDJSON file to write, all or nothing.")],
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same file.")] = 0,
) -> None:
    """Write a synthetic cohort of adults with back pain, one intake per line (figures and
    their sources: docs/population.md)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from spinepath.population.generate import ndjson_chunks

    err = Console(stderr=True)
    if people < 1:
        err.print(f"[red]--people must be 1 or more, not {people}[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    target = out.resolve()
    if target.is_dir() or not target.parent.is_dir():
        where = "it is a directory" if target.is_dir() else f"no directory {target.parent}"
        err.print(f"[red]--out {out}: cannot write there ({where})[/]", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    progress = Progress(
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    started = time.perf_counter()
    written = 0
    # atomic_output exits 2 naming the file when --out cannot be written.
    with atomic_output(out) as handle, progress:
        task = progress.add_task("generate", total=people, rate="0")
        for count, text in ndjson_chunks(people, seed):
            handle.write(text.encode())
            written += count
            elapsed = time.perf_counter() - started
            progress.update(
                task, advance=count, rate=f"{written / elapsed:,.0f}" if elapsed else "0"
            )
    elapsed = time.perf_counter() - started
    rate = written / elapsed if elapsed > 0 else 0.0
    err.print(f"--out {out}: {written:,} people in {elapsed:.2f} s ({rate:,.0f} rows/s)")
