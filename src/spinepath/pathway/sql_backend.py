"""Column plans (``spinepath.pathway.column_plan``) as SQL, for DuckDB and Spark.

SQL's ``AND``, ``OR`` and ``NOT`` already follow Kleene's three-valued logic with ``NULL`` for
"not answered", ``CASE`` takes only a definite yes, and ``GREATEST`` skips nulls in both
engines, so a plan reads the same in SQL as in Polars. The two steps that run in Python
(exact evaluation where Kleene is not enough) become vectorised user-defined functions over
Arrow arrays that call the same code as the Polars backend; the engine registers them under the
names this module gives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from spinepath.pathway.column_plan import (
    Cast,
    Col,
    ExactCase,
    IsIn,
    Lit,
    Names,
    Node,
    Only,
    Op,
    When,
    value_dtype,
)
from spinepath.pathway.kleene import FactValue
from spinepath.pathway.polars_backend import KLEENE, NEEDED, decide_cases

Dialect = Literal["duckdb", "spark"]

_TYPES: Mapping[Dialect, Mapping[str, str]] = {
    "duckdb": {"bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"},
    "spark": {"bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE", "str": "STRING"},
}
_COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "+": "+", "-": "-"}


@dataclass
class SqlPlan:
    """SQL text for a plan, and the Python functions it calls, by name."""

    dialect: Dialect
    functions: dict[str, ExactCase] = field(default_factory=dict)

    def quote(self, name: str) -> str:
        mark = '"' if self.dialect == "duckdb" else "`"
        return mark + name.replace(mark, mark * 2) + mark

    def literal(self, value: FactValue, dtype: str) -> str:
        if value is None:
            return f"CAST(NULL AS {_TYPES[self.dialect][dtype]})"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return f"CAST({value} AS BIGINT)"
        if isinstance(value, float):
            return f"CAST({value!r} AS DOUBLE)"
        if "'" in value or "\\" in value:
            raise ValueError(f"text constant {value!r}: quotes and backslashes are not supported")
        return f"'{value}'"

    def sql(self, node: Node) -> str:
        if isinstance(node, Col):
            return self.quote(node.name)
        if isinstance(node, Lit):
            return self.literal(node.value, node.dtype)
        if isinstance(node, Op):
            return self._op(node)
        if isinstance(node, IsIn):
            values = ", ".join(self.literal(v, value_dtype(v)) for v in node.values)
            return f"({self.sql(node.arg)} IN ({values}))"
        if isinstance(node, When):
            branches = " ".join(f"WHEN {self.sql(c)} THEN {self.sql(v)}" for c, v in node.branches)
            return f"(CASE {branches} ELSE {self.sql(node.otherwise)} END)"
        if isinstance(node, Cast):
            return f"CAST({self.sql(node.arg)} AS {_TYPES[self.dialect][node.dtype]})"
        if isinstance(node, Names):
            return self._names(node)
        if isinstance(node, Only):
            # Both engines work a CASE branch out only for the rows that take it.
            return f"(CASE WHEN {self.sql(node.mask)} THEN {self.sql(node.value)} END)"
        return self._exact(node)

    def _op(self, node: Op) -> str:
        args = [self.sql(a) for a in node.args]
        op = node.op
        if op in {"and", "or"}:
            return "(" + f" {op.upper()} ".join(args) + ")"
        if op == "not":
            return f"(NOT {args[0]})"
        if op == "is_null":
            return f"({args[0]} IS NULL)"
        if op == "fill_null":
            return f"COALESCE({args[0]}, {args[1]})"
        if op == "max":
            return args[0] if len(args) == 1 else f"GREATEST({', '.join(args)})"
        if op == "has_bit":
            return f"(({args[0]} & {args[1]}) <> 0)"
        if op == "sum":
            return "(" + " + ".join(f"COALESCE(CAST({a} AS BIGINT), 0)" for a in args) + ")"
        return f"({args[0]} {_COMPARE[op]} {args[1]})"

    def _names(self, node: Names) -> str:
        if not node.names:
            return "CAST(array() AS ARRAY<STRING>)" if self.dialect == "spark" else "[]::VARCHAR[]"
        items = ", ".join(
            f"CASE WHEN {self.sql(flag)} THEN {self.literal(name, 'str')} END"
            for name, flag in zip(node.names, node.flags, strict=True)
        )
        if self.dialect == "spark":
            return f"filter(array({items}), x -> x IS NOT NULL)"
        return f"list_filter([{items}], lambda x: x IS NOT NULL)"

    def _exact(self, node: ExactCase) -> str:
        name = f"spinepath_exact_{len(self.functions)}"
        self.functions[name] = node
        args = [self.sql(node.needed), self.sql(node.kleene), *map(self.quote, node.facts)]
        return f"{name}({', '.join(args)})"

    def columns(self, step: Sequence[tuple[str, Node]]) -> list[str]:
        """``expression AS name`` for each column of a step."""
        return [f"{self.sql(node)} AS {self.quote(name)}" for name, node in step]

    def select(
        self,
        source: str,
        steps: Sequence[Sequence[tuple[str, Node]]],
        keep: Sequence[str],
        outputs: Sequence[tuple[str, Node]],
    ) -> str:
        """One query: each step a common table expression adding its columns."""
        parts = []
        previous = source
        for index, step in enumerate(steps):
            columns = ", ".join(self.columns(step))
            # Built from the knowledge base, with every name quoted and every text constant
            # checked (``literal``): no outside text reaches the query.
            parts.append(f"step{index} AS (SELECT *, {columns} FROM {previous})")  # noqa: S608
            previous = f"step{index}"
        chosen = [*map(self.quote, keep), *self.columns(outputs)]
        with_clause = f"WITH {', '.join(parts)} " if parts else ""
        return f"{with_clause}SELECT {', '.join(chosen)} FROM {previous}"  # noqa: S608


def arrow_function(node: ExactCase) -> Callable[..., Any]:
    """The Python side of an exact case, over Arrow arrays (needed, Kleene's value, facts)."""
    names = [NEEDED, KLEENE, *node.facts]

    def run(*arrays: Any) -> Any:
        frame = pl.DataFrame([pl.Series(n, a) for n, a in zip(names, arrays, strict=True)])
        decided = decide_cases(node, frame)
        return decided.to_arrow()

    # Engines read the number of arguments from the signature.
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(len(names))]
    )
    return run
