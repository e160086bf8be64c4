"""The `spinepath population` command group, which each population command module extends."""

from __future__ import annotations

import typer

population = typer.Typer(
    name="population",
    help="Population analytics: synthetic cohorts, the pathway over many people, quality measures.",
    no_args_is_help=True,
)
