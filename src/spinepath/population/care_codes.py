"""The codes the synthetic care events carry, read from ``care_codes.yaml``.

Each code names its system by a short name; the rows of a data set carry the system's canonical
URI (the FHIR ``Coding.system``), so a converter can use them as they are.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spinepath.yamlio import read_data_file

CODES_FILE = Path(__file__).with_name("care_codes.yaml")

SystemName = Literal["icd10", "snomed", "atc", "loinc", "local"]

SYSTEM_URIS: dict[str, str] = {
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "snomed": "http://snomed.info/sct",
    "atc": "http://www.whocc.no/atc",
    "loinc": "http://loinc.org",
    "local": "https://spinepath.org/fhir/CodeSystem/care-event",
}
"""The URI of each code system, as a FHIR ``Coding.system`` spells it."""


class CareCodeError(ValueError):
    """The codes file is missing, not valid YAML, or an entry is incomplete."""


class CareCode(BaseModel):
    """One code with its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: SystemName
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)
    verified: bool
    secondary: bool = False
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _secondary_is_verified(self) -> CareCode:
        if self.secondary and not self.verified:
            raise ValueError("a code seen on a secondary page is `verified: true, secondary: true`")
        return self

    @property
    def system_uri(self) -> str:
        return SYSTEM_URIS[self.system]


class CareCodeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    codes: dict[str, CareCode]


@cache
def load_codes(path: Path = CODES_FILE) -> dict[str, CareCode]:
    """Every code in ``path`` by its id (``episode.low_back``, ``drug.tramadol``, …)."""
    data = read_data_file(path, path.name, CareCodeError)
    try:
        return CareCodeFile.model_validate(data).codes
    except ValidationError as exc:
        raise CareCodeError(f"{path.name}: {exc}") from exc


def coded(code_id: str, path: Path = CODES_FILE) -> tuple[str, str]:
    """(system URI, code) of the code ``code_id``; ``CareCodeError`` naming it when missing."""
    codes = load_codes(path)
    if code_id not in codes:
        raise CareCodeError(f"{path.name}: no code {code_id!r}")
    entry = codes[code_id]
    return entry.system_uri, entry.code
