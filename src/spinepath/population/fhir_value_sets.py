"""The codes that carry a population data set through FHIR: ``fhir_value_sets.yaml``, checked.

Each mapping of the file turns the values of one column (an episode's region, a medicine's drug
class) into codes of one FHIR element and back. Matching follows ``spinepath.interop.codes``:
an ICD-10 or ATC entry matches every code below it, other systems match exactly. Codes already
kept in ``interop/value_sets`` are taken from there (``include``), not copied.

A data set's ``code_system`` column holds the code system's URI (``Coding.system``), as the
cohort generator writes it and as an import writes it back. Writing FHIR, the short names of
``systems`` (``icd10``, ``snomed``...) are accepted too and become their URIs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spinepath.interop import codes
from spinepath.yamlio import read_data_file

VALUE_SETS_FILE = Path(__file__).with_name("fhir_value_sets.yaml")

_STANDARD: dict[str, codes.SystemName] = {
    "icd10": "icd10",
    "icd10cm": "icd10",
    "icd10uk": "icd10",
    "snomed": "snomed",
    "loinc": "loinc",
    "rxnorm": "rxnorm",
    "atc": "atc",
    "dicom": "dicom",
}
"""The short names whose codes ``interop.codes`` matches (ICD-10 and ATC by prefix and range)."""

_STANDARD_BY_URI: dict[str, codes.SystemName] = {
    uri: name for name, uris in codes.SYSTEMS.items() if name != "local" for uri in uris
}

Json = dict[str, Any]


class ValueSetsError(ValueError):
    """The value-set file does not load, or a mapping or value asked for is not in it."""


class UnknownSystemError(ValueError):
    """A ``code_system`` that is neither a short name of the file nor a URI."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Entry(_Strict):
    """One code, or an ICD-10 or ATC range, with where it was checked."""

    system: str
    code: str | None = Field(default=None, min_length=1)
    range: str | None = Field(default=None, pattern=r"^[A-Z0-9.]+-[A-Z0-9.]+$")
    display: str = Field(min_length=1)
    verified: bool
    source: str = Field(min_length=1)
    secondary: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _code_or_range(self) -> Entry:
        if (self.code is None) == (self.range is None):
            raise ValueError("give exactly one of code or range")
        return self


class Include(_Strict):
    value_set: str = Field(pattern=r"^[a-z_]+/[a-z_]+$")
    only: list[str] | None = None


class Value(_Strict):
    include: list[Include] = []
    codes: list[Entry] = []


class MappingFile(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    column: str
    element: str
    description: str
    values: dict[str, Value] = Field(min_length=1)


class ValueSetsFile(_Strict):
    title: str
    systems: dict[str, str] = Field(min_length=1)
    mappings: list[MappingFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ValueSetsFile:
        ids = [m.id for m in self.mappings]
        if len(ids) != len(set(ids)):
            raise ValueError("mapping ids must be unique")
        for mapping in self.mappings:
            for name, value in mapping.values.items():
                where = f"{mapping.id}.{name}"
                if not value.codes and not value.include:
                    raise ValueError(f"{where}: no codes")
                unknown = {e.system for e in value.codes} - set(self.systems)
                if unknown:
                    raise ValueError(f"{where}: unknown system {', '.join(sorted(unknown))}")
        return self


@dataclass
class ColumnMapping:
    """One column's values and the codes of each, ready to match codings."""

    id: str
    element: str
    values: tuple[str, ...]
    _entries: dict[str, list[codes.CodeEntry]]
    _exact: dict[str, frozenset[tuple[str, str]]]
    _written: dict[str, Json]
    _seen: dict[tuple[str, str], int | None] = field(default_factory=dict)

    def coding(self, value: str) -> Json:
        """The Coding a value is written as: the first code listed under it."""
        try:
            return dict(self._written[value])
        except KeyError:
            raise ValueSetsError(f"{self.id}: no code to write for {value!r}") from None

    def value_of(self, codings: Iterable[MappingABC[str, Any]]) -> str | None:
        """The first value, in file order, that one of ``codings`` means; None if none does."""
        best: int | None = None
        for coding in codings:
            system, code = coding.get("system"), coding.get("code")
            if not isinstance(system, str) or not isinstance(code, str) or not code:
                continue
            found = self._index(system, code)
            if found is not None and (best is None or found < best):
                best = found
        return None if best is None else self.values[best]

    def _index(self, system: str, code: str) -> int | None:
        key = (system, code)
        if key not in self._seen:
            self._seen[key] = self._first_match(system, code)
        return self._seen[key]

    def _first_match(self, system: str, code: str) -> int | None:
        standard = _STANDARD_BY_URI.get(system)
        for index, value in enumerate(self.values):
            if (system, code) in self._exact[value]:
                return index
            if standard is not None and any(
                e.matches(standard, code) for e in self._entries[value]
            ):
                return index
        return None


@dataclass(frozen=True)
class ValueSets:
    """The file's code systems and mappings."""

    systems: dict[str, str]
    mappings: dict[str, ColumnMapping]
    source: ValueSetsFile

    def mapping(self, mapping_id: str) -> ColumnMapping:
        try:
            return self.mappings[mapping_id]
        except KeyError:
            raise ValueSetsError(f"no mapping {mapping_id!r} in {VALUE_SETS_FILE.name}") from None

    def system_uri(self, code_system: str) -> str:
        """The URI of a data set's ``code_system``: a URI as it is, or a short name's URI."""
        uri = self.systems.get(code_system)
        if uri is not None:
            return uri
        if ":" in code_system and not code_system.isspace():
            return code_system
        names = ", ".join(self.systems)
        raise UnknownSystemError(f"unknown code system {code_system!r}: one of {names}, or a URI")


def _included(include: Include) -> list[codes.CodeEntry]:
    file, value_set_id = include.value_set.split("/")
    try:
        found = codes.value_set(file, value_set_id).codes
    except codes.ValueSetError as exc:
        raise ValueSetsError(f"include {include.value_set}: {exc}") from exc
    if include.only is None:
        return list(found)
    picked = [e for e in found if e.label in include.only]
    missing = set(include.only) - {e.label for e in picked}
    if missing:
        raise ValueSetsError(f"include {include.value_set}: no code {', '.join(sorted(missing))}")
    return picked


def _as_code_entry(entry: Entry) -> codes.CodeEntry:
    data = entry.model_dump(exclude_none=True)
    data["system"] = _STANDARD[entry.system]
    return codes.CodeEntry.model_validate(data)


def _compile(mapping: MappingFile, systems: dict[str, str]) -> ColumnMapping:
    entries: dict[str, list[codes.CodeEntry]] = {}
    exact: dict[str, frozenset[tuple[str, str]]] = {}
    written: dict[str, Json] = {}
    for name, value in mapping.values.items():
        standard = [_as_code_entry(e) for e in value.codes if e.system in _STANDARD]
        for include in value.include:
            standard += _included(include)
        entries[name] = standard
        exact[name] = frozenset(
            (systems[e.system], e.code)
            for e in value.codes
            if e.system not in _STANDARD and e.code is not None
        )
        first = next((e for e in value.codes if e.code is not None), None)
        if first is not None:
            written[name] = {
                "system": systems[first.system],
                "code": first.code,
                "display": first.display,
            }
    return ColumnMapping(
        id=mapping.id,
        element=mapping.element,
        values=tuple(mapping.values),
        _entries=entries,
        _exact=exact,
        _written=written,
    )


@functools.cache
def load(path: Path = VALUE_SETS_FILE) -> ValueSets:
    """The value sets in ``path`` (by default the bundled file), checked; read once."""
    data = read_data_file(path, path.name, ValueSetsError)
    try:
        parsed = ValueSetsFile.model_validate(data)
    except ValidationError as exc:
        raise ValueSetsError(f"{path.name}: {exc}") from exc
    mappings = {m.id: _compile(m, parsed.systems) for m in parsed.mappings}
    return ValueSets(systems=dict(parsed.systems), mappings=mappings, source=parsed)
