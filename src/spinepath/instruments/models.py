"""The shape of an instrument definition file: items, scoring, bands, MCID, licence, sources.

Definitions live as YAML under ``instruments/definitions/`` and are validated by these models
when loaded. Every number in a definition names the source it came from, by its id in the
evidence registry (``spinepath/evidence/data/sources/instruments.yaml``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Verification = Literal["V", "V-2nd", "U", "decision"]
"""``V`` seen in the cited source; ``V-2nd`` seen in a secondary copy; ``U`` unverified;
``decision`` a project decision where the source is silent (documented with its reasoning)."""


class DefinitionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrdinalResponse(DefinitionModel):
    """One statement chosen from an ordered list; the answer is its score (``min``..``max``)."""

    type: Literal["ordinal"]
    min: int
    max: int


class NumericResponse(DefinitionModel):
    """A whole number on a rating scale (e.g. 0-10)."""

    type: Literal["numeric"]
    min: int
    max: int


class BooleanResponse(DefinitionModel):
    """Ticked/agreed (``true``, scores 1) or not (``false``, scores 0)."""

    type: Literal["boolean"]
    true_means: str = Field(description="What ``true`` records, e.g. 'agree' or 'ticked'.")


class ChoiceOption(DefinitionModel):
    code: str
    score: int


class ChoiceResponse(DefinitionModel):
    """One coded option from a list; each option has its published item score."""

    type: Literal["choice"]
    options: tuple[ChoiceOption, ...] = Field(min_length=2)


Response = Annotated[
    OrdinalResponse | NumericResponse | BooleanResponse | ChoiceResponse,
    Field(discriminator="type"),
]


class Item(DefinitionModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(description="Section or item name (a fact, not the licensed wording).")
    response: Response
    subscales: tuple[str, ...] = ()


ScoringMethod = Literal[
    "percent_of_answered", "prorated_sum", "count_true", "single_item", "mean", "startback"
]


class Scoring(DefinitionModel):
    method: ScoringMethod
    primary: Literal["percent", "total", "mean", "value"]
    primary_min: float
    primary_max: float
    unit: str = Field(description="Unit of the primary score as shown to people.")
    ucum: str = Field(description="UCUM unit code of the primary score for FHIR.")
    rule: str
    missing_rule: str
    max_missing: int = Field(ge=0)
    missing_verification: Verification
    sources: tuple[str, ...] = Field(min_length=1)


class Band(DefinitionModel):
    code: str
    label: str
    upper: float | None = Field(
        default=None, description="Inclusive upper bound of the band on the banded score."
    )
    source_term: str | None = None


class Bands(DefinitionModel):
    applies_to: Literal["percent", "total", "mean", "value", "risk_group"]
    rule: str
    sources: tuple[str, ...] = Field(min_length=1)
    verification: Verification
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> Bands:
        uppers = [b.upper for b in self.bands]
        if self.applies_to == "risk_group":
            if any(u is not None for u in uppers):
                raise ValueError("risk-group bands are assigned by rule and take no upper bound")
            return self
        bounds = [u for u in uppers if u is not None]
        if len(bounds) != len(uppers) or bounds != sorted(set(bounds)):
            raise ValueError("bands must have strictly ascending upper bounds")
        return self


class AlternativeThreshold(DefinitionModel):
    description: str
    sources: tuple[str, ...]
    verification: Verification


class Mcid(DefinitionModel):
    """Minimal clinically important change on the primary score (improvement = decrease)."""

    absolute: float = Field(gt=0)
    relative: float | None = Field(default=None, gt=0, lt=1)
    scale: str
    sources: tuple[str, ...] = Field(min_length=1)
    relative_sources: tuple[str, ...] = ()
    verification: Verification
    note: str | None = None
    alternatives: tuple[AlternativeThreshold, ...] = ()


class Licence(DefinitionModel):
    notice: str = Field(description="Shown wherever the instrument is displayed or exported.")
    holder: str
    terms: str
    verification: Verification
    wording_shipped: bool
    wording_note: str
    sources: tuple[str, ...] = Field(min_length=1)


class RecallPeriod(DefinitionModel):
    text: str | None
    sources: tuple[str, ...] = ()


class InstrumentDefinition(DefinitionModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    short_name: str
    version: str
    measures: str
    higher_is_worse: bool
    rates_change: bool = Field(
        default=False,
        description="Each answer is itself a rating of change (a global rating of change): "
        "there is no baseline to subtract and it is asked at follow-ups only.",
    )
    recall_period: RecallPeriod
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring
    bands: Bands | None = None
    mcid: Mcid | None = None
    licence: Licence
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_items(self) -> InstrumentDefinition:
        codes = [i.code for i in self.items]
        if len(set(codes)) != len(codes):
            raise ValueError(f"{self.code}: item codes must be unique")
        if self.scoring.max_missing >= len(self.items):
            raise ValueError(f"{self.code}: max_missing must leave at least one item")
        return self

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    def all_source_ids(self) -> set[str]:
        ids = set(self.sources) | set(self.scoring.sources) | set(self.licence.sources)
        ids |= set(self.recall_period.sources)
        if self.bands:
            ids |= set(self.bands.sources)
        if self.mcid:
            ids |= set(self.mcid.sources) | set(self.mcid.relative_sources)
            for alt in self.mcid.alternatives:
                ids |= set(alt.sources)
        return ids
