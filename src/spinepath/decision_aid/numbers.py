"""Turning catalogue entries into sourced numbers, and numbers into words."""

from __future__ import annotations

from spinepath.decision_aid.catalogue import Catalogue
from spinepath.decision_aid.models import (
    DENOMINATOR,
    Duration,
    ScaleEffect,
    SourcedNumber,
    Uncertainty,
)
from spinepath.evidence.models import DurationSpec, EffectSpec, ProportionSpec, Verification

_WORST_FIRST: tuple[Verification, ...] = ("unverified", "secondary", "verified")


def fmt(value: float) -> str:
    """Shortest faithful text for a published figure: 15.0 -> '15', 0.35 -> '0.35'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def fmt1(value: float) -> str:
    """A derived (personalised) figure: one decimal place at most, two below 1."""
    return fmt(round(value, 1) if value >= 1 else round(value, 2))


def per_thousand(value: float) -> str:
    return fmt(round(value * 10, 1))


def in_words(value: float, denominator: int = DENOMINATOR, *, derived: bool = False) -> str:
    """A natural frequency in words, always out of the same denominator.

    Published figures are shown exactly as published; derived (personal) figures are rounded
    so they do not look more precise than they are.
    """
    if derived:
        value = float(fmt1(value))
    if value == 0:
        return f"None of {denominator} people"
    if value < 1:
        return (
            f"Fewer than 1 in {denominator} people "
            f"({fmt(value)} in {denominator}, about {per_thousand(value)} in 1,000)"
        )
    return f"{fmt(value)} in {denominator} people"


def sourced_number(cat: Catalogue, evidence_id: str) -> SourcedNumber:
    spec: ProportionSpec = cat.proportions[evidence_id]
    source = cat.sources[spec.source]
    return SourcedNumber(
        id=spec.id,
        label=spec.label,
        value=spec.value,
        horizon=spec.horizon,
        population=spec.population,
        design=spec.design,
        source_id=spec.source,
        source_date=spec.year,
        uncertainty=Uncertainty(
            low=spec.uncertainty.low,
            high=spec.uncertainty.high,
            kind=spec.uncertainty.kind,
            note=spec.uncertainty.note,
        ),
        verification=source.verification,
        words=in_words(spec.value),
    )


def scale_effect(cat: Catalogue, effect_id: str) -> ScaleEffect:
    spec: EffectSpec = cat.effects[effect_id]
    return ScaleEffect(
        id=spec.id,
        label=spec.label,
        measure=spec.measure,
        effect=spec.effect,
        ci_low=spec.ci[0] if spec.ci else None,
        ci_high=spec.ci[1] if spec.ci else None,
        horizon=spec.horizon,
        population=spec.population,
        design=spec.design,
        source_id=spec.source,
        source_date=spec.year,
        verification=cat.sources[spec.source].verification,
        meaning=spec.meaning,
    )


def duration(cat: Catalogue, duration_id: str) -> Duration:
    spec: DurationSpec = cat.durations[duration_id]
    verifications = {cat.sources[s].verification for s in spec.sources}
    worst = next(v for v in _WORST_FIRST if v in verifications)
    return Duration(
        id=spec.id,
        label=spec.label,
        text=spec.text,
        source_ids=list(spec.sources),
        verification=worst,
    )
