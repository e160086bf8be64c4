"""Checks every FHIR export's tests share: codes, references and ids inside a resource or Bundle."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from spinepath.interop import terminology

Json = dict[str, Any]


def walk(node: Any, key: str) -> Iterator[Any]:
    """Every value stored under ``key`` anywhere in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)


def codings(node: Any) -> list[Json]:
    """Every Coding in a JSON tree: in ``coding`` lists, ``valueCoding`` and ``answerCoding``."""
    found = [c for listed in walk(node, "coding") for c in listed]
    found += list(walk(node, "valueCoding")) + list(walk(node, "answerCoding"))
    return found


@cache
def published() -> dict[str, frozenset[str]]:
    """Each local CodeSystem ``spinepath instruments export --fhir`` publishes, with its codes."""
    return {
        str(system.url): frozenset(str(c.code) for c in system.concept or [])
        for system in terminology.code_systems()
    }


def undefined_local_codes(node: Any) -> list[Json]:
    """The spinepath codings in a JSON tree that no published CodeSystem defines."""
    systems = published()
    return [
        c
        for c in codings(node)
        if c["system"].startswith(terminology.BASE_URL)
        and c["code"] not in systems.get(c["system"], frozenset())
    ]


def resources_in(bundle: Json) -> list[Json]:
    return [entry["resource"] for entry in bundle["entry"]]


def unresolved_references(bundle: Json, allowed: Iterable[str] = ()) -> list[str]:
    """References in a Bundle to neither an entry, a contained resource nor one of ``allowed``."""
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]} | set(allowed)
    missing = []
    for resource in resources_in(bundle):
        contained = {f"#{c['id']}" for c in resource.get("contained", [])}
        missing += [
            reference
            for reference in walk(resource, "reference")
            if reference not in full_urls and reference not in contained
        ]
    return missing


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
