"""`spinepath population`: synthetic cohorts, the columnar pathway, quality measures, the report.

The group is assembled from one module per command (``population_<command>``), each adding its
command to ``population`` when imported."""

from __future__ import annotations

from importlib import import_module

import typer

from spinepath.cli.population_group import population

app = typer.Typer()
"""The commands of this module, added to `spinepath` as they are."""

app.add_typer(population)

COMMAND_MODULES = ("generate", "import", "assess", "measures", "report")
for _name in COMMAND_MODULES:
    import_module(f"spinepath.cli.population_{_name}")
