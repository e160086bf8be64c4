"""The decision-aid data files (YAML under ``data/``), loaded into strict typed models.

The files are read on first use and cached; nothing is read at import time. A typo in a data
file (unknown key, unknown evidence id) is an error when the catalogue loads, not a silent gap.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spinepath.decision_aid.models import HarmCategory, OptionKind
from spinepath.evidence.models import (
    DurationSpec,
    EffectSpec,
    ProportionSpec,
    Seed,
    SeedClaim,
    Source,
)
from spinepath.evidence.registry import default_registry
from spinepath.yamlio import safe_load


class DataModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactorSpec(DataModel):
    factor: str
    label: str


class FactorEffectSpec(DataModel):
    """A published effect of a factor on a harm; only risk-raising, significant effects belong."""

    factor: str
    outcome: HarmCategory
    measure: Literal["RR", "OR", "RR_derived"]
    value: float = Field(ge=1)
    ci: tuple[float, float] | None
    source: str
    population: str
    note: str = ""

    @model_validator(mode="after")
    def _significant_and_consistent(self) -> FactorEffectSpec:
        if self.ci is not None:
            low, high = self.ci
            if not low <= self.value <= high:
                raise ValueError(f"{self.factor}/{self.outcome}: {self.value} outside its CI")
            if low < 1:
                raise ValueError(f"{self.factor}/{self.outcome}: CI includes no effect")
        return self


class FactorsFile(DataModel):
    factors: list[FactorSpec]
    effects: list[FactorEffectSpec]


class NiceStatusSpec(DataModel):
    guidance: str
    status: str
    source: str


class BenefitSpec(DataModel):
    id: str
    label: str
    explanation: str
    numbers: list[str] = Field(default_factory=list)
    effects: list[str] = Field(default_factory=list)
    durations: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class HarmSpec(DataModel):
    id: str
    category: HarmCategory
    label: str
    explanation: str
    evidence: str | None = None
    baseline_by_age: list[tuple[int, str]] | None = None
    effects: list[str] = Field(default_factory=list)
    durations: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    no_number_reason: str | None = None

    @model_validator(mode="after")
    def _one_baseline_at_most(self) -> HarmSpec:
        if self.evidence and self.baseline_by_age:
            raise ValueError(f"harm {self.id}: give evidence or baseline_by_age, not both")
        return self


class RecoverySpec(DataModel):
    hospital_stay: str
    return_to_work: str
    rehabilitation: str
    sources: list[str]


class OptionSpec(DataModel):
    id: str
    name: str
    kind: OptionKind
    involves: str
    performed_by: str
    anaesthesia: str
    nice_status: NiceStatusSpec | None
    benefits: list[BenefitSpec]
    harms: list[HarmSpec]
    recovery: RecoverySpec
    experience: str


class OptionsFile(DataModel):
    options: list[OptionSpec]


class StatementSpec(DataModel):
    text: str
    evidence: list[str] = Field(default_factory=list)
    effects: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class ComparisonSpec(DataModel):
    id: str
    question: str
    horizon: str
    cells: dict[str, str | None]
    notes: dict[str, str] = Field(default_factory=dict)


WhoWhen = Literal[
    "leg_dominant", "reherniation_risk", "smoker", "odi_56_or_less", "obesity", "myelopathy"
]


class WhoBenefitsSpec(DataModel):
    text: str
    when: WhoWhen | None
    effects: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class NotRecommendedSpec(DataModel):
    id: str
    name: str
    reason: str
    effects: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    sources: list[str]


class ConditionSpec(DataModel):
    id: str
    title: str
    description: str
    decision: str
    natural_course: list[StatementSpec]
    options: list[str]
    comparisons: list[ComparisonSpec]
    who_benefits: list[WhoBenefitsSpec]
    not_recommended: list[NotRecommendedSpec] = Field(default_factory=list)


class ConditionsFile(DataModel):
    conditions: list[ConditionSpec]


class ValuesItemSpec(DataModel):
    id: str
    statement: str
    favours: Literal["surgery", "non_surgical", "neither"]
    priority: str | None


class SourcedText(DataModel):
    text: str
    sources: list[str]


class NotYetSpec(DataModel):
    offers: list[SourcedText]
    reconsider: list[SourcedText]


class ContentFile(DataModel):
    content_date: str
    evidence_searched_to: str
    next_review_due: str
    update_policy: str
    funding_and_conflicts: str
    authors: str
    disclaimer: str
    values_items: list[ValuesItemSpec]
    questions_for_surgeon: list[str]
    second_opinion: str
    what_numbers_cannot_know: list[str]
    not_yet: NotYetSpec


class Catalogue(DataModel):
    proportions: dict[str, ProportionSpec]
    effects: dict[str, EffectSpec]
    durations: dict[str, DurationSpec]
    factors: dict[str, FactorSpec]
    factor_effects: list[FactorEffectSpec]
    options: dict[str, OptionSpec]
    conditions: dict[str, ConditionSpec]
    seeds: dict[str, Seed]
    seed_claims: list[SeedClaim]
    content: ContentFile
    sources: dict[str, Source]

    def source_ids_used(self) -> set[str]:
        """Every source id the data files cite (for the dangling-reference check)."""
        used: set[str] = {p.source for p in self.proportions.values()}
        used |= {e.source for e in self.effects.values()}
        for d in self.durations.values():
            used |= set(d.sources)
        used |= {f.source for f in self.factor_effects}
        for o in self.options.values():
            used |= set(o.recovery.sources)
            for benefit in o.benefits:
                used |= set(benefit.sources)
            for harm in o.harms:
                used |= set(harm.sources)
            if o.nice_status:
                used.add(o.nice_status.source)
        for c in self.conditions.values():
            for s in c.natural_course:
                used |= set(s.sources)
            for w in c.who_benefits:
                used |= set(w.sources)
            for n in c.not_recommended:
                used |= set(n.sources)
        for claim in self.seed_claims:
            used |= set(claim.sources)
        for t in (*self.content.not_yet.offers, *self.content.not_yet.reconsider):
            used |= set(t.sources)
        return used


class CatalogueError(ValueError):
    """A decision-aid data file is inconsistent (names the file and the bad reference)."""


def _read_yaml(*parts: str) -> Any:
    resource = files("spinepath.decision_aid").joinpath("data").joinpath(*parts)
    return safe_load(resource.read_text(encoding="utf-8"))


def _by_id(items: list[Any], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if item.id in out:
            raise CatalogueError(f"{what}: duplicate id {item.id!r}")
        out[item.id] = item
    return out


def _need(kind: str, ids: list[str] | set[str], table: dict[str, Any], where: str) -> None:
    for i in ids:
        if i not in table:
            raise CatalogueError(f"{where}: unknown {kind} id {i!r}")


def _check_references(cat: Catalogue) -> None:
    _check_option_references(cat)
    _check_condition_references(cat)
    for claim in cat.seed_claims:
        where = f"seed_claims.yaml {claim.id}"
        _need("condition", [c for c in claim.aid_conditions if c != "all"], cat.conditions, where)
    for fe in cat.factor_effects:
        _need("factor", [fe.factor], cat.factors, "factors.yaml")
    _need("source", cat.source_ids_used(), cat.sources, "decision-aid data")


def _check_option_references(cat: Catalogue) -> None:
    for o in cat.options.values():
        for b in o.benefits:
            where = f"options.yaml {o.id}.{b.id}"
            _need("evidence", b.numbers, cat.proportions, where)
            _need("effect", b.effects, cat.effects, where)
            _need("duration", b.durations, cat.durations, where)
        for h in o.harms:
            where = f"options.yaml {o.id}.{h.id}"
            ids = [h.evidence] if h.evidence else [e for _, e in h.baseline_by_age or []]
            _need("evidence", ids, cat.proportions, where)
            _need("effect", h.effects, cat.effects, where)
            _need("duration", h.durations, cat.durations, where)


def _check_condition_references(cat: Catalogue) -> None:
    for c in cat.conditions.values():
        where = f"conditions.yaml {c.id}"
        _need("option", c.options, cat.options, where)
        for s in c.natural_course:
            _need("evidence", s.evidence, cat.proportions, where)
            _need("effect", s.effects, cat.effects, where)
        for comp in c.comparisons:
            _check_comparison(cat, comp, where)
        for w in c.who_benefits:
            _need("effect", w.effects, cat.effects, where)
        for n in c.not_recommended:
            _need("effect", n.effects, cat.effects, where)
            _need("evidence", n.evidence, cat.proportions, where)


def _check_comparison(cat: Catalogue, comp: ComparisonSpec, where: str) -> None:
    _need("option", list(comp.cells), cat.options, f"{where}.{comp.id}")
    # Every cell's evidence is known to exist before its horizon is looked up.
    _need("evidence", [v for v in comp.cells.values() if v], cat.proportions, where)
    for v in comp.cells.values():
        if v and cat.proportions[v].horizon != comp.horizon:
            raise CatalogueError(
                f"{where}.{comp.id}: {v!r} covers {cat.proportions[v].horizon!r}, "
                f"not {comp.horizon!r}"
            )


@cache
def load_catalogue() -> Catalogue:
    registry = default_registry()
    factors = FactorsFile.model_validate(_read_yaml("factors.yaml"))
    cat = Catalogue(
        proportions=registry.numbers.proportions,
        effects=registry.numbers.effects,
        durations=registry.numbers.durations,
        factors={f.factor: f for f in factors.factors},
        factor_effects=factors.effects,
        options=_by_id(OptionsFile.model_validate(_read_yaml("options.yaml")).options, "options"),
        conditions=_by_id(
            ConditionsFile.model_validate(_read_yaml("conditions.yaml")).conditions, "conditions"
        ),
        seeds=registry.seeds,
        seed_claims=registry.seed_claims,
        content=ContentFile.model_validate(_read_yaml("content.yaml")),
        sources=registry.sources,
    )
    _check_references(cat)
    return cat
