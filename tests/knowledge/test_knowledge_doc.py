"""docs/knowledge.md stays true: it lists every `kb check` message, and its examples are real."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from spinepath import knowledge as kb
from spinepath.knowledge.models import Entry
from spinepath.pathway.conditions import COMPARISONS, Condition, parse

# The module, not the function `spinepath.knowledge.check` the package exports under its name.
CHECK_MODULE = import_module("spinepath.knowledge.check")
DOC = Path(__file__).parents[2] / "docs" / "knowledge.md"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _messages() -> list[ast.expr]:
    """Every message `check` can add: what is appended or added to ``problems``."""
    tree = ast.parse(inspect.getsource(CHECK_MODULE))
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "problems"
        ):
            found.append(node.args[0])
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "problems"
            and isinstance(node.value, ast.ListComp)
        ):
            found.append(node.value.elt)
    return found


def _wording(message: ast.expr) -> list[str]:
    """The fixed words of a message (an f-string's text between its placeholders)."""
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        parts = [message.value]
    elif isinstance(message, ast.JoinedStr):
        parts = [
            v.value
            for v in message.values
            if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    else:
        raise AssertionError(f"unexpected message expression: {ast.unparse(message)}")
    return [part.strip() for part in parts if any(c.isalpha() for c in part)]


def test_it_finds_the_messages_of_kb_check() -> None:
    assert len(_messages()) >= 20


def test_the_knowledge_page_lists_every_kb_check_message() -> None:
    text = _doc()
    missing = [
        ast.unparse(message)
        for message in _messages()
        if any(part not in text for part in _wording(message))
    ]
    assert missing == []


def _examples() -> Iterator[dict[str, Any]]:
    """Every mapping with a ``when`` or ``ask_if`` in the page's YAML examples."""
    for block in YAML_BLOCK.findall(_doc()):
        data = yaml.safe_load(block)
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and ({"when", "ask_if"} & item.keys()):
                yield item


def _entries() -> dict[str, Entry]:
    """Entries by every name the page may use for them: the `kb show` id, or id, code or fact."""
    out: dict[str, Entry] = {}
    for _kind, key, entry in kb.default().entries():
        out[key] = entry
        for attribute in ("id", "code", "fact"):
            name = getattr(entry, attribute, None)
            if isinstance(name, str):
                out.setdefault(name, entry)
    return out


def _kinds(condition: Condition) -> Iterator[tuple[str, str | None]]:
    yield condition.kind, condition.op
    for child in condition.children:
        yield from _kinds(child)


def test_the_knowledge_page_examples_are_conditions_of_the_entries_they_name() -> None:
    knowledge = kb.default()
    facts = kb.available_facts(knowledge)
    entries = _entries()
    examples = list(_examples())
    assert examples, "the page has no condition examples"
    problems = []
    for example in examples:
        name = example.get("id") or example.get("code") or example.get("fact")
        for attribute in ("when", "ask_if"):
            if attribute not in example:
                continue
            condition = parse(example[attribute], where=f"{name}.{attribute}")
            unknown = sorted(condition.facts() - facts)
            if unknown:
                problems.append(f"{name}: reads unknown facts {unknown}")
            entry = entries.get(str(name))
            if entry is None:
                problems.append(f"{name}: no such entry in the knowledge base")
            elif getattr(entry, attribute) != condition:
                problems.append(f"{name}: {attribute} differs from the knowledge base")
    assert problems == []


def test_the_knowledge_page_shows_every_form_of_condition() -> None:
    shown = {
        pair
        for example in _examples()
        for attribute in ("when", "ask_if")
        if attribute in example
        for pair in _kinds(parse(example[attribute]))
    }
    kinds = {kind for kind, _op in shown}
    ops = {op for kind, op in shown if kind == "atom"}
    assert {"atom", "all", "any", "not", "at_least", "none_true", "const"} <= kinds
    assert {None, "in", "unanswered", *COMPARISONS} <= ops
