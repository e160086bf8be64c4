"""Value sets read from the data files in ``value_sets/``: which codes mean what in a FHIR record.

A value set lists codes and code ranges per code system, each with its display, whether it was
checked against a primary source (``verified``) and the page that was read (``source``). The
files are data reviewed like code; this module only loads, validates and matches them.

Matching follows how each code system is built, so that a short list is robust:

- ICD-10 and ATC are hierarchical by prefix: a category (``C61``, ``H02AB``) matches every code
  below it (``C61.9``, ``H02AB06``), and a range (``C00-C97``, ``M46.2-M46.5``) matches every code
  whose leading characters fall between its bounds. ICD-10-CM shares the WHO categories used
  here, so the ICD-10 entries match codes of either system.
- SNOMED CT, LOINC, RxNorm and DICOM codes match exactly: their hierarchy is not in the code, and
  expanding it needs a terminology server, which a CDS call cannot wait for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spinepath.yamlio import safe_load

SystemName = Literal["icd10", "snomed", "loinc", "rxnorm", "atc", "dicom", "local"]

SYSTEMS: dict[SystemName, tuple[str, ...]] = {
    "icd10": (
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "http://hl7.org/fhir/sid/icd-10-uk",
    ),
    "snomed": ("http://snomed.info/sct",),
    "loinc": ("http://loinc.org",),
    "rxnorm": ("http://www.nlm.nih.gov/research/umls/rxnorm",),
    "atc": ("http://www.whocc.no/atc",),
    "dicom": ("http://dicom.nema.org/resources/ontology/DCM",),
    "local": ("https://spinepath.org/fhir/CodeSystem/record",),
}
SYSTEM_LABELS = {
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10-uk": "ICD-10",
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://www.whocc.no/atc": "ATC",
    "http://dicom.nema.org/resources/ontology/DCM": "DICOM",
}
_BY_URI = {uri: name for name, uris in SYSTEMS.items() for uri in uris}
_PREFIX_SYSTEMS = frozenset({"icd10", "atc"})


class ValueSetError(ValueError):
    """A value-set file that does not load or does not validate."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CodeEntry(_Strict):
    """One code or range of codes, with its provenance."""

    system: SystemName
    code: str | None = Field(default=None, min_length=1)
    range: str | None = Field(default=None, pattern=r"^[A-Z0-9.]+-[A-Z0-9.]+$")
    display: str = Field(min_length=1)
    verified: bool
    source: str = Field(min_length=1)
    secondary: bool = Field(
        default=False,
        description="Verified on a secondary page (an HL7 FHIR IG or a standards body showing "
        "the code with its system), not on the code system's own publication.",
    )
    note: str | None = None
    modality: Literal["xray", "mri", "ct"] | None = None
    region: Literal["cervical", "thoracic", "lumbar", "lumbosacral", "whole"] | None = None

    @model_validator(mode="after")
    def _one_of_code_or_range(self) -> CodeEntry:
        if (self.code is None) == (self.range is None):
            raise ValueError("give exactly one of code or range")
        if self.secondary and not self.verified:
            raise ValueError("secondary marks how a verified code was verified")
        if self.range is not None:
            if self.system not in _PREFIX_SYSTEMS:
                raise ValueError(f"a range needs a hierarchical system, not {self.system}")
            low, high = (_normal(self.system, bound) for bound in self.range.split("-"))
            if len(low) != len(high) or low > high:
                raise ValueError(f"range {self.range}: bounds of one length, low first")
        return self

    def matches(self, system: SystemName, code: str) -> bool:
        if system != self.system:
            return False
        found = _normal(system, code)
        if self.code is not None:
            mine = _normal(system, self.code)
            return found.startswith(mine) if system in _PREFIX_SYSTEMS else found == mine
        low, high = (_normal(system, bound) for bound in str(self.range).split("-"))
        return low <= found[: len(low)] <= high

    @property
    def label(self) -> str:
        return self.code if self.code is not None else str(self.range)


class ValueSet(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    fact: str | None = Field(
        default=None, description="The dotted intake path, or record.<name>, a match sets."
    )
    kind: Literal["flag", "onset", "observation", "answer", "finding", "imaging", "order"] = Field(
        default="flag",
        description="flag: a match means yes; onset: a condition whose onset dates an episode; "
        "observation: the code of an observation whose value is read; answer and finding: a "
        "coded value that means `value`; imaging: an imaging study or report; order: a "
        "medicine or service the CDS services watch in draft orders.",
    )
    value: str | None = None
    resources: list[str] = Field(min_length=1)
    statuses: Literal["any", "current"] = Field(
        default="any",
        description="any: history counts (resolved or in remission too); current: only a "
        "clinical status that is not inactive or resolved.",
    )
    within_days: int | None = Field(default=None, ge=1, le=36500)
    codes: list[CodeEntry] = Field(min_length=1)

    def match(
        self, codings: Iterable[Mapping[str, Any]]
    ) -> tuple[Mapping[str, Any], CodeEntry] | None:
        """The first of a resource's codings in this set, with the entry it matched."""
        for coding in codings:
            system = _BY_URI.get(str(coding.get("system", "")))
            code = coding.get("code")
            if system is None or not isinstance(code, str) or not code:
                continue
            for entry in self.codes:
                if entry.matches(system, code):
                    return coding, entry
        return None


class ValueSetFile(_Strict):
    title: str = Field(min_length=1)
    value_sets: list[ValueSet] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ValueSetFile:
        ids = [v.id for v in self.value_sets]
        if len(ids) != len(set(ids)):
            raise ValueError("value-set ids must be unique")
        return self


def _normal(system: str, code: str) -> str:
    # ICD-10 codes are written with and without the dot (C61.9, C619); compare without it.
    return re.sub(r"[.\s]", "", code).upper() if system in _PREFIX_SYSTEMS else code.strip()


@functools.cache
def load(name: str) -> ValueSetFile:
    """The value-set file ``value_sets/<name>.yaml``, validated; read once per process."""
    resource = files("spinepath.interop").joinpath("value_sets", f"{name}.yaml")
    try:
        data = safe_load(resource.read_text(encoding="utf-8"))
        return ValueSetFile.model_validate(data)
    except FileNotFoundError as error:
        raise ValueSetError(f"no value-set file {name}.yaml") from error
    except ValidationError as error:
        raise ValueSetError(f"value_sets/{name}.yaml: {error}") from error


def value_set(file: str, value_set_id: str) -> ValueSet:
    for found in load(file).value_sets:
        if found.id == value_set_id:
            return found
    raise ValueSetError(f"value_sets/{file}.yaml has no value set {value_set_id}")


@dataclass(frozen=True)
class Matched:
    coding: Mapping[str, Any]
    entry: CodeEntry

    @property
    def code(self) -> str:
        return f"{self.coding.get('system')}|{self.coding.get('code')}"

    @property
    def display(self) -> str:
        """The record's own text of the coding, with its system and code."""
        system = str(self.coding.get("system", ""))
        text = self.coding.get("display")
        shown = text if isinstance(text, str) and text.strip() else self.entry.display
        return f"{shown} ({SYSTEM_LABELS.get(system, system)} {self.coding.get('code')})"


def codings(concept: object) -> list[Mapping[str, Any]]:
    """The codings of a CodeableConcept (or of a list of them), ignoring anything malformed."""
    concepts = concept if isinstance(concept, list) else [concept]
    found: list[Mapping[str, Any]] = []
    for item in concepts:
        if isinstance(item, Mapping):
            found.extend(c for c in item.get("coding") or [] if isinstance(c, Mapping))
    return found


def first_match(value_set: ValueSet, concept: object) -> Matched | None:
    hit = value_set.match(codings(concept))
    return Matched(*hit) if hit is not None else None
