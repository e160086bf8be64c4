"""The pathway's column plan run by DuckDB or Spark, over a fact table in Parquet.

The plan is the one the Polars path runs (``spinepath.pathway.population_plan``), compiled to SQL
by ``spinepath.pathway.sql_backend``; exact evaluation where Kleene logic is not enough runs as
vectorised Arrow functions calling the same Python as the Polars path. So the three engines
give the same rows; ``tests/population/test_engines.py`` checks it.

DuckDB runs in process. Spark runs wherever its session points: ``local[2]`` in the tests, any
cluster in production (the fact table then has to be where the cluster can read it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from spinepath import knowledge as kb
from spinepath.knowledge import KnowledgeBase
from spinepath.pathway.column_plan import column_types
from spinepath.pathway.compiled import compiled
from spinepath.pathway.fact_columns import fact_schema
from spinepath.pathway.population_plan import Columns, population_plan
from spinepath.pathway.shared_columns import shared_plan
from spinepath.pathway.sql_backend import SqlPlan, arrow_function

Engine = Literal["polars", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("polars", "duckdb", "spark")

_PLAN_TYPES = {pl.Boolean: "bool", pl.Int64: "int", pl.Float64: "float", pl.String: "str"}
_DUCKDB_TYPES = {"bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"}


def _duckdb_plan(knowledge: KnowledgeBase) -> tuple[list[Columns], Columns]:
    """The plan with its shared parts as columns: DuckDB runs it in less than half the time.
    Spark runs the plan as written, step by step: there the shared columns cost more (more
    columns to checkpoint) than they save."""
    return shared_plan(population_plan(compiled(knowledge)))


def _column_types(steps: Sequence[Columns]) -> dict[str, str]:
    """The type of every fact and every column the steps add."""
    facts = {name: _PLAN_TYPES[type(dtype)] for name, dtype in fact_schema().items()}
    return column_types(steps, facts)


def duckdb_decisions(
    facts: Path, keep: Sequence[str] = (), knowledge: KnowledgeBase | None = None
) -> pl.DataFrame:
    """The decision columns of a Parquet fact table, computed by DuckDB."""
    import duckdb
    from duckdb.func import FunctionNullHandling, PythonUDFType

    knowledge = knowledge or kb.default()
    steps, outputs = _duckdb_plan(knowledge)
    sql = SqlPlan("duckdb")
    query = sql.select("facts", steps, keep, outputs)
    types = _column_types(steps)
    connection = duckdb.connect()
    try:
        for name, node in sql.functions.items():
            connection.create_function(
                name,
                arrow_function(node),
                ["BOOLEAN", "BOOLEAN", *(_DUCKDB_TYPES[types[f]] for f in node.facts)],
                "BOOLEAN",
                type=PythonUDFType.ARROW,
                null_handling=FunctionNullHandling.SPECIAL,
                side_effects=False,
            )
        connection.read_parquet(str(facts)).create_view("facts")
        return pl.DataFrame(connection.sql(query).to_arrow_table())
    finally:
        connection.close()


def spark_decisions(
    session: Any, facts: str, keep: Sequence[str] = (), knowledge: KnowledgeBase | None = None
) -> Any:
    """The decision columns of a Parquet fact table (a path the session can read) as a Spark
    DataFrame, computed by the Spark session given.

    Each step of the plan is its own projection, checkpointed before the next: left as one
    query, Spark's optimiser merges the steps into expressions too large to plan."""
    from pyspark.sql.functions import arrow_udf  # type: ignore[attr-defined]

    plan = population_plan(compiled(knowledge or kb.default()))
    sql = SqlPlan("spark")

    def registered(columns: list[str]) -> list[str]:
        for name, node in sql.functions.items():
            session.udf.register(name, arrow_udf(arrow_function(node), "boolean"))
        return columns

    frame = session.read.parquet(facts)
    for step in plan.steps:
        frame = frame.selectExpr("*", *registered(sql.columns(step))).localCheckpoint(eager=True)
    outputs = registered(sql.columns(plan.outputs))
    return frame.selectExpr(*map(sql.quote, keep), *outputs)


def spark_write_decisions(
    session: Any,
    facts: str,
    directory: str,
    keep: Sequence[str] = (),
    knowledge: KnowledgeBase | None = None,
) -> None:
    """``spark_decisions`` written by the executors as Parquet files into ``directory`` (a
    path the cluster can write), in the order of the facts: a million rows collected to the
    driver would outgrow its memory."""
    frame = spark_decisions(session, facts, keep, knowledge)
    frame.write.mode("errorifexists").parquet(directory)


def spark_session(master: str = "local[2]") -> Any:
    """A Spark session for the population pathway: Arrow transfers on, quiet logs."""
    from pyspark.sql import SparkSession

    # Local Python workers run this interpreter, so that they can import spinepath.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master(master)
        .appName("spinepath-population")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # The plan's expressions are large: planning them needs more than the default 1 GiB.
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
