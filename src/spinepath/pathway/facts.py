"""Flatten an ``Intake`` into the flat fact record every clinical rule reads.

Fact names are dotted paths (``cauda_equina.saddle_numbness``, ``pain.low_back.intensity``).
The same record is one row of a population table, so rules never see nested input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal, get_args, get_origin

from pydantic import BaseModel

from spinepath.instruments import startback
from spinepath.pathway.exact import BOOL, Domain
from spinepath.pathway.intake import (
    CaudaEquina,
    Health,
    History,
    ImagingFinding,
    Inflammatory,
    Intake,
    Mimics,
    Neurology,
    Outcomes,
    Radiation,
    RegionPain,
    Systemic,
    TreatmentType,
)
from spinepath.pathway.kleene import FactValue, any_true

Facts = dict[str, FactValue]


@dataclass(frozen=True)
class FactTerms:
    """Clinical groupings some facts are built from; the knowledge base defines and cites them."""

    conservative_care: frozenset[str]
    """Treatments that count towards a trial of active conservative care."""
    surgical_lesions: frozenset[str]
    """Imaging findings an operation can treat."""


_SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("radiation", Radiation),
    ("neurology", Neurology),
    ("cauda_equina", CaudaEquina),
    ("systemic", Systemic),
    ("history", History),
    ("mimics", Mimics),
    ("inflammatory", Inflammatory),
)
_REGIONS = ("neck", "upper_back", "low_back")
_REGION_FIELDS = (
    "intensity",
    "duration_weeks",
    "worse_with_movement",
    "not_eased_by_rest",
    "worse_at_night",
    "worse_on_straining",
)
_HEALTH_FLAGS = (
    "diabetes",
    "heart_disease",
    "lung_disease",
    "kidney_disease",
    "anticoagulants",
    "pregnant",
)
_PAIN_FLAGS = ("worse_with_movement", "not_eased_by_rest", "worse_at_night", "worse_on_straining")
_NOT_BETTER = frozenset({"worse", "none", "partial"})
_FINDINGS: tuple[str, ...] = get_args(ImagingFinding)
_TREATMENTS: tuple[str, ...] = get_args(TreatmentType)


def flatten(intake: Intake, terms: FactTerms) -> Facts:
    facts: Facts = {"age": intake.age, "sex": intake.sex}
    for prefix, _model in _SECTIONS:
        section = getattr(intake, prefix)
        for name, value in section:
            facts[f"{prefix}.{name}"] = value

    by_region: dict[str, RegionPain] = {r.region: r for r in intake.regions}
    for region in _REGIONS:
        pain = by_region.get(region)
        facts[f"pain.{region}"] = pain is not None
        for name in _REGION_FIELDS:
            facts[f"pain.{region}.{name}"] = getattr(pain, name) if pain is not None else None
    regions = list(by_region.values())
    facts["pain.max_intensity"] = max(r.intensity for r in regions)
    facts["pain.duration_weeks"] = max(r.duration_weeks for r in regions)
    # Whole years since the longest-running pain began (NG65 asks whether it began before 45).
    facts["pain.onset_age"] = intake.age - int(facts["pain.duration_weeks"]) // 52  # type: ignore[arg-type]
    facts["pain.sudden_onset"] = any_true(
        None if r.onset is None else r.onset == "sudden" for r in regions
    )
    for flag in _PAIN_FLAGS:
        facts[f"pain.{flag}"] = any_true(getattr(r, flag) for r in regions)

    facts.update(_treatment_facts(intake, terms))
    facts.update(_imaging_facts(intake, terms))
    facts.update(_health_facts(intake))

    scored = startback.score(intake.startback) if intake.startback is not None else None
    facts["startback.total"] = scored.total if scored else None
    facts["startback.psychosocial"] = scored.psychosocial if scored else None
    facts["startback.risk"] = scored.risk_group if scored else None

    facts["outcomes.odi_percent"] = intake.outcomes.odi_percent
    facts["outcomes.rmdq"] = intake.outcomes.rmdq
    facts["outcomes.ndi_percent"] = intake.outcomes.ndi_percent
    facts["work_status"] = intake.work_status
    return facts


def _treatment_facts(intake: Intake, terms: FactTerms) -> Facts:
    facts: Facts = {}
    for kind in _TREATMENTS:
        tried = [t for t in intake.treatments_tried if t.type == kind]
        facts[f"treatment.{kind}.weeks"] = max((t.weeks for t in tried), default=0)
    active = [t for t in intake.treatments_tried if t.type in terms.conservative_care]
    facts["conservative.weeks"] = max((t.weeks for t in active), default=0)
    responses = [t.response for t in active]
    if not active:
        improved: bool | None = False
    elif "good" in responses:
        improved = True
    elif all(r in _NOT_BETTER for r in responses):
        improved = False
    else:
        improved = None
    facts["conservative.improved"] = improved
    facts["treatment.any_weeks"] = max((t.weeks for t in intake.treatments_tried), default=0)
    return facts


def _concordance(intake: Intake, terms: FactTerms) -> bool | None:
    """Yes if a lesion surgery treats fits the symptoms; no if imaging shows none that fits."""
    if not intake.imaging:
        return None
    lesions = [i.matches_symptoms for i in intake.imaging if i.finding in terms.surgical_lesions]
    if not lesions:
        return False
    return any_true(lesions)


def _imaging_facts(intake: Intake, terms: FactTerms) -> Facts:
    facts: Facts = {
        "imaging.done": bool(intake.imaging),
        "imaging.concordant": _concordance(intake, terms),
    }
    for finding in _FINDINGS:
        studies = [i for i in intake.imaging if i.finding == finding]
        facts[f"imaging.{finding}"] = bool(studies)
        facts[f"imaging.{finding}.matches"] = (
            any_true(i.matches_symptoms for i in studies) if studies else False
        )
    return facts


def _health_facts(intake: Intake) -> Facts:
    health = intake.health
    bmi = health.bmi
    if bmi is None and health.height_cm is not None and health.weight_kg is not None:
        bmi = round(health.weight_kg / (health.height_cm / 100) ** 2, 1)
    facts: Facts = {"health.smoking": health.smoking, "health.bmi": bmi}
    for name in _HEALTH_FLAGS:
        facts[f"health.{name}"] = getattr(health, name)
    return facts


def _annotation_types(annotation: object) -> set[type]:
    if get_origin(annotation) is Annotated:
        return _annotation_types(get_args(annotation)[0])
    args = get_args(annotation)
    if not args:
        return {annotation} if isinstance(annotation, type) else {str}
    out: set[type] = set()
    for arg in args:
        if arg is type(None):
            continue
        if isinstance(arg, str):
            out.add(str)
        elif isinstance(arg, type):
            out.add(arg)
        else:
            out |= _annotation_types(arg)
    return out or {str}


def field_description(name: str) -> str | None:
    """The intake field's own description of an answer, for asking it in words."""
    prefix, _, field = name.partition(".")
    for section, model in _SECTIONS:
        if section == prefix and field in model.model_fields:
            return model.model_fields[field].description
    return None


def _field_domain(annotation: object, metadata: Iterable[object]) -> Domain:
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _field_domain(inner, [*metadata, *extra])
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return Domain("enum", tuple(args))
    if args and annotation is not bool:
        literal = [a for a in args if get_origin(a) is Literal or get_origin(a) is Annotated]
        if len(args) == 1 or literal:
            return _field_domain(literal[0] if literal else args[0], metadata)
    if annotation is bool or args == [bool]:
        return BOOL
    low, high = -1e9, 1e9
    # Bounds sit on annotated-types objects, directly or inside a FieldInfo of an Annotated alias.
    for item in [*metadata, *(m for i in metadata for m in getattr(i, "metadata", ()))]:
        if getattr(item, "ge", None) is not None:
            low = float(item.ge)
        if getattr(item, "le", None) is not None:
            high = float(item.le)
    if annotation is int or args == [int]:
        return Domain("int", low=low, high=high)
    if annotation is float or args == [float]:
        return Domain("float", low=low, high=high)
    return Domain("text")


@cache
def fact_domains() -> dict[str, Domain]:
    """The fact registry: every fact ``flatten`` writes and the answers it can take.

    Answered facts take their domain from the intake model's own field (type, choices, bounds);
    facts ``flatten`` computes are declared here beside the code that computes them. The column
    types of the population fact table, the facts the knowledge base may read and the answers
    the exact evaluator tries all come from this one registry.
    """
    domains: dict[str, Domain] = {}

    def field(name: str, model: type[BaseModel], attribute: str) -> None:
        info = model.model_fields[attribute]
        domains[name] = _field_domain(info.annotation, info.metadata)

    field("age", Intake, "age")
    field("sex", Intake, "sex")
    field("work_status", Intake, "work_status")
    for prefix, model in _SECTIONS:
        for name in model.model_fields:
            field(f"{prefix}.{name}", model, name)
    count = Domain("int", low=0, high=1e9)
    for region in _REGIONS:
        domains[f"pain.{region}"] = BOOL
        for name in _REGION_FIELDS:
            field(f"pain.{region}.{name}", RegionPain, name)
    field("pain.max_intensity", RegionPain, "intensity")
    field("pain.duration_weeks", RegionPain, "duration_weeks")
    domains["pain.onset_age"] = Domain("int", low=0, high=130)
    domains["pain.sudden_onset"] = BOOL
    for flag in _PAIN_FLAGS:
        domains[f"pain.{flag}"] = BOOL
    for kind in _TREATMENTS:
        domains[f"treatment.{kind}.weeks"] = count
    domains["conservative.weeks"] = count
    domains["conservative.improved"] = BOOL
    domains["treatment.any_weeks"] = count
    domains["imaging.done"] = BOOL
    domains["imaging.concordant"] = BOOL
    for finding in _FINDINGS:
        domains[f"imaging.{finding}"] = BOOL
        domains[f"imaging.{finding}.matches"] = BOOL
    for name in ("smoking", *_HEALTH_FLAGS):
        field(f"health.{name}", Health, name)
    domains["health.bmi"] = Domain("float", low=10, high=100)
    domains["startback.total"] = Domain("int", low=0, high=9)
    domains["startback.psychosocial"] = Domain("int", low=0, high=5)
    domains["startback.risk"] = Domain("enum", ("low", "medium", "high"))
    for name in Outcomes.model_fields:
        field(f"outcomes.{name}", Outcomes, name)
    return domains


def known_facts() -> frozenset[str]:
    return frozenset(fact_domains())
