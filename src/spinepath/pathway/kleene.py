"""Kleene three-valued logic for one person: the truth tables, and conditions compiled to Python.

Every per-person evaluation of a condition goes through ``compile_kleene`` (``Condition.evaluate``
included), and facts that combine several answers use ``any_true``, so the three-valued
connectives are written once. The population backend (``spinepath.pathway.expressions``) follows
the same tables with Polars' Kleene operators, and a property test holds the two together.


A tree of closures pays a Python call for every node; an assessment evaluates a few hundred
nodes, so the calls dominate. Here each condition becomes the source of one function that
evaluates every node inline with plain ``if`` statements, keeping the short-circuits of Kleene
logic (``all`` stops at the first no, ``any`` at the first yes). Deep subtrees become their own
functions so Python's limit on nested blocks is never reached.

The generated function has the ``Evaluator`` signature: ``(values, answered)``, where ``is
unanswered`` and ``none_true`` read ``answered``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from spinepath.cache import compile_code

if TYPE_CHECKING:
    from spinepath.pathway.conditions import Condition

FactValue = bool | int | float | str | None
Facts = Mapping[str, FactValue]
Tri = bool | None

Evaluator = Callable[[Facts, Facts], Tri]
"""``evaluate(values, answered)``: ``values`` may hold tried answers; ``answered`` never does."""
Special = Callable[["Condition"], Evaluator | None]


def any_true(values: Iterable[Tri]) -> Tri:
    """Kleene "or": yes if one is yes, no if every one is no, otherwise unknown."""
    unknown = False
    for value in values:
        if value is True:
            return True
        if value is None:
            unknown = True
    return None if unknown else False


# Python allows 20 statically nested blocks; leave room for the function body itself.
_MAX_DEPTH = 12
_OPERATORS = {"==", "!=", ">=", "<=", ">", "<"}


class _Writer:
    def __init__(self, special: Special | None) -> None:
        self.special = special
        self.names = itertools.count()
        self.env: dict[str, Any] = {}
        self.functions: list[list[str]] = []

    def constant(self, value: object) -> str:
        name = f"k{next(self.names)}"
        self.env[name] = value
        return name

    def function(self, condition: Condition) -> str:
        """Write a function for ``condition``; return its name."""
        name = f"f{next(self.names)}"
        lines = [f"def {name}(f, s):"]
        result = self.node(condition, lines, 1, "f")
        lines.append(f"    return {result}")
        self.functions.append(lines)
        return name

    def node(self, condition: Condition, lines: list[str], depth: int, source: str) -> str:
        """Append code computing ``condition`` from ``source``; return the variable holding it."""
        var = f"t{next(self.names)}"
        pad = "    " * depth
        kind = condition.kind
        if depth > _MAX_DEPTH and kind not in {"atom", "const"}:
            called = self.function(condition)
            arguments = "f, s" if source == "f" else "s, s"
            lines.append(f"{pad}{var} = {called}({arguments})")
            return var
        if kind == "const":
            lines.append(f"{pad}{var} = {bool(condition.value)}")
        elif kind == "atom":
            self.atom(condition, lines, pad, var, source)
        elif kind in {"all", "any"}:
            stop = "False" if kind == "all" else "True"
            lines.append(f"{pad}{var} = {'True' if kind == 'all' else 'False'}")
            for child in condition.children:
                lines.append(f"{pad}if {var} is not {stop}:")
                got = self.node(child, lines, depth + 1, source)
                lines.append(f"{pad}    if {got} is {stop}:")
                lines.append(f"{pad}        {var} = {stop}")
                lines.append(f"{pad}    elif {got} is None:")
                lines.append(f"{pad}        {var} = None")
        elif kind == "not":
            got = self.node(condition.children[0], lines, depth, source)
            lines.append(f"{pad}{var} = None if {got} is None else not {got}")
        elif kind == "none_true":
            lines.append(f"{pad}{var} = True")
            for child in condition.children:
                lines.append(f"{pad}if {var}:")
                got = self.node(child, lines, depth + 1, "s")
                lines.append(f"{pad}    if {got} is True:")
                lines.append(f"{pad}        {var} = False")
        else:  # at_least
            yes, unknown = f"y{next(self.names)}", f"u{next(self.names)}"
            lines.append(f"{pad}{yes} = {unknown} = 0")
            for child in condition.children:
                got = self.node(child, lines, depth, source)
                lines.append(f"{pad}if {got} is True:")
                lines.append(f"{pad}    {yes} += 1")
                lines.append(f"{pad}elif {got} is None:")
                lines.append(f"{pad}    {unknown} += 1")
            k = condition.threshold
            lines.append(
                f"{pad}{var} = True if {yes} >= {k} else "
                f"(False if {yes} + {unknown} < {k} else None)"
            )
        return var

    def atom(self, atom: Condition, lines: list[str], pad: str, var: str, source: str) -> None:
        found = self.special(atom) if self.special is not None else None
        if found is not None:
            lines.append(f"{pad}{var} = {self.constant(found)}({source}, s)")
            return
        key = self.constant(atom.fact)
        negate = atom.negate
        if atom.op == "unanswered":
            test = "is not None" if negate else "is None"
            lines.append(f"{pad}{var} = s.get({key}) {test}")
            return
        value = f"v{next(self.names)}"
        lines.append(f"{pad}{value} = {source}.get({key})")
        if atom.op is None:
            test = f"bool({value})"
        elif atom.op == "in":
            test = f"({value} in {self.constant(frozenset(atom.value))})"  # type: ignore[arg-type]
        else:
            if atom.op not in _OPERATORS:
                raise ValueError(f"unknown operator: {atom.op!r}")
            test = f"({value} {atom.op} {self.constant(atom.value)})"
        flip = f" != {negate}" if negate else ""
        lines.append(f"{pad}{var} = None if {value} is None else {test}{flip}")


def compile_kleene(condition: Condition, special: Special | None = None) -> Evaluator:
    """Kleene evaluation of ``condition`` as one generated function (see the module docstring)."""
    writer = _Writer(special)
    entry = writer.function(condition)
    source = "\n".join("\n".join(lines) for lines in writer.functions)
    namespace = dict(writer.env)
    # The source is generated above from a parsed condition: names, operators and constants
    # passed through ``namespace``, never text from the knowledge files.
    exec(compile_code(source, f"<condition {entry}>"), namespace)  # noqa: S102
    function: Evaluator = namespace[entry]
    return function
