"""Read the evidence registry (YAML under ``spinepath/evidence/data``) into validated models.

The knowledge base, the decision aid and the questionnaires all cite sources from this one
registry, so a source, a claim or a number is written, validated and corrected in one place.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from spinepath.evidence.models import (
    DurationSpec,
    EffectSpec,
    NumbersFile,
    ProportionSpec,
    Seed,
    SeedClaim,
    Source,
)
from spinepath.validation import validate_entry

_NAME_KEYS = ("id",)
_M = TypeVar("_M", bound=BaseModel)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_I = TypeVar("_I", bound=_Identified)


class EvidenceError(ValueError):
    """The registry cannot be loaded; the message names the file and the entry."""


@dataclass(frozen=True)
class Numbers:
    proportions: dict[str, ProportionSpec]
    effects: dict[str, EffectSpec]
    durations: dict[str, DurationSpec]

    def source_ids(self) -> set[str]:
        used = {p.source for p in self.proportions.values()}
        used |= {e.source for e in self.effects.values()}
        for d in self.durations.values():
            used |= set(d.sources)
        return used


@dataclass(frozen=True)
class Registry:
    sources: dict[str, Source]
    seeds: dict[str, Seed]
    seed_claims: list[SeedClaim]
    numbers: Numbers


def evidence_dir() -> Path:
    return Path(str(files("spinepath") / "evidence" / "data"))


def content_hash(root: Path) -> str:
    """SHA-256 over every registry file under ``root``: its path and its bytes."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_yaml(path: Path, where: str) -> Any:
    # Imported on first read: a knowledge base from the command line's cache needs no parser.
    from spinepath.yamlio import read_data_file

    return read_data_file(path, where, EvidenceError)


def _validate(model: type[_M], data: object, where: str) -> _M:
    return validate_entry(model, data, where, EvidenceError, name_keys=_NAME_KEYS)


def _entries(data: Any, model: type[_M], where: str) -> list[_M]:
    if not isinstance(data, list):
        raise EvidenceError(f"{where}: expected a list of entries")
    return [_validate(model, item, _named(where, item)) for item in data]


def _named(where: str, item: object) -> str:
    name = item.get("id") if isinstance(item, dict) else None
    return f"{where} [{name}]" if isinstance(name, str) else where


def _by_id(items: list[_I], where: str) -> dict[str, _I]:
    repeated = sorted(i for i, n in Counter(x.id for x in items).items() if n > 1)
    if repeated:
        raise EvidenceError(f"{where}: duplicate ids {repeated}")
    return {x.id: x for x in items}


def load_sources(folder: Path | None = None) -> dict[str, Source]:
    """Every source the project cites (``sources/*.yaml``), refusing a repeated id."""
    root = folder or evidence_dir() / "sources"
    sources: list[Source] = []
    for path in sorted(root.glob("*.yaml")):
        where = f"sources/{path.name}"
        sources.extend(_entries(_read_yaml(path, where) or [], Source, where))
    if not sources:
        raise EvidenceError(f"sources: no source files in {root}")
    return _by_id(sources, "sources")


def load_numbers(path: Path) -> Numbers:
    data = _validate(NumbersFile, _read_yaml(path, path.name), path.name)
    return Numbers(
        proportions=_by_id(data.proportions, f"{path.name} proportions"),
        effects=_by_id(data.effects, f"{path.name} effects"),
        durations=_by_id(data.durations, f"{path.name} durations"),
    )


def _listed(root: Path, name: str, model: type[_M]) -> list[_M]:
    return _entries(_read_yaml(root / name, name), model, name)


def _unknown(kind: str, cited: set[str], known: Iterable[str], where: str) -> None:
    missing = sorted(cited - set(known))
    if missing:
        raise EvidenceError(f"{where}: unknown {kind} {missing}")


def load_registry(directory: Path | None = None) -> Registry:
    """The whole registry; a claim or number citing a source or seed not in it is an error."""
    root = directory or evidence_dir()
    registry = Registry(
        sources=load_sources(root / "sources"),
        seeds=_by_id(_listed(root, "seeds.yaml", Seed), "seeds.yaml"),
        seed_claims=_listed(root, "seed_claims.yaml", SeedClaim),
        numbers=load_numbers(root / "numbers.yaml"),
    )
    _by_id(registry.seed_claims, "seed_claims.yaml")
    for claim in registry.seed_claims:
        where = f"seed_claims.yaml [{claim.id}]"
        _unknown("seeds", set(claim.seeds), registry.seeds, where)
        _unknown("sources", set(claim.sources), registry.sources, where)
    _unknown("sources", registry.numbers.source_ids(), registry.sources, "numbers.yaml")
    return registry


@cache
def default_registry() -> Registry:
    """The packaged registry, read once per process on first use."""
    return load_registry()
