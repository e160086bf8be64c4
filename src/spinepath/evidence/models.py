"""What the evidence registry holds: sources, seed claims and the numbers shown to people."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal[
    "guideline",
    "trial",
    "review",
    "cohort",
    "registry",
    "measurement",
    "licence",
    "patient_information",
    "quality_measure",
    "other",
]
Verification = Literal["verified", "secondary", "unverified"]
Verdict = Literal["supported", "partly_true", "contradicted", "unsupported"]
"""What the evidence says about a claim: it holds, holds only in part, is wrong, or nothing
reviewed backs it (no source given and none found)."""

Design = Literal[
    "randomised",
    "randomised_as_treated",
    "meta_analysis_of_trials",
    "observational",
    "review_of_mixed_studies",
    "case_series",
]
"""How a number was measured. A randomised comparison analysed as randomised (intention to treat)
is the only design that compares like with like; as-treated analyses of a randomised trial and
observational studies are labelled wherever they are shown."""

UncertaintyKind = Literal[
    "ci95", "range_across_studies", "range_across_techniques", "range_by_factor_ci", "not_reported"
]
SourceRefs = Annotated[list[str], Field(min_length=1)]


class RegistryModel(BaseModel):
    # Validators are built on first validation, not at import: a knowledge base read back from
    # the command line's cache (spinepath.cache) never validates its sources again.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Source(RegistryModel):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    citation: str
    url: str
    kind: SourceKind
    verification: Verification
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    pmid: str | None = Field(default=None, pattern=r"^[1-9]\d{0,8}$")
    pmcid: str | None = Field(default=None, pattern=r"^PMC[1-9]\d{0,9}$")
    superseded_by: str | None = Field(
        default=None,
        description="The source that replaced this one; whatever cites this must cite it too.",
    )
    no_identifier_found: bool = Field(
        default=False,
        description="A paper read on its publisher's own page for which no DOI, PMID or PMCID "
        "could be found; its note must say so.",
    )
    note: str | None = Field(
        default=None, description="What was read, where, and what could not be checked."
    )


class Seed(RegistryModel):
    """A document the pathway's scope was taken from (not evidence)."""

    id: str = Field(pattern=r"^\d{3}$")
    title: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SeedClaim(RegistryModel):
    id: str = Field(pattern=r"^SEED-[A-Z0-9-]+$")
    version: int = Field(ge=1)
    claim: str
    seeds: Annotated[list[str], Field(min_length=1)]
    verdict: Verdict
    evidence: str = Field(description="What the evidence says, in the words shown to patients.")
    sources: SourceRefs
    aid_conditions: list[str] = Field(
        default_factory=list,
        description="Decision-aid conditions that show this claim ('all' = every aid).",
    )


class UncertaintySpec(RegistryModel):
    kind: UncertaintyKind
    low: float | None = None
    high: float | None = None
    note: str = ""


class _Published(RegistryModel):
    """What every number records: who it was measured in, over what time, how, and where."""

    id: str
    label: str
    horizon: str
    population: str
    design: Design
    source: str
    year: str


class ProportionSpec(_Published):
    """People per 100 with an outcome, as the source reports it."""

    value: float = Field(ge=0, le=100)
    uncertainty: UncertaintySpec

    @model_validator(mode="after")
    def _inside_its_range(self) -> ProportionSpec:
        u = self.uncertainty
        if u.kind == "ci95" and (u.low is None or u.high is None):
            raise ValueError(f"{self.id}: a 95% CI needs both ends")
        if u.kind == "ci95" and not (u.low or 0) <= self.value <= (u.high or 100):
            raise ValueError(f"{self.id}: {self.value} lies outside its 95% CI")
        return self


class EffectSpec(_Published):
    """A difference between groups on a scale, surgery (or the first-named) minus the other."""

    measure: str
    effect: float
    ci: tuple[float, float] | None
    meaning: str

    @model_validator(mode="after")
    def _inside_its_ci(self) -> EffectSpec:
        if self.ci is not None and not self.ci[0] <= self.effect <= self.ci[1]:
            raise ValueError(f"{self.id}: {self.effect} lies outside its 95% CI {self.ci}")
        return self


class DurationSpec(RegistryModel):
    id: str
    label: str
    text: str
    sources: SourceRefs


class NumbersFile(RegistryModel):
    proportions: list[ProportionSpec]
    effects: list[EffectSpec]
    durations: list[DurationSpec]
