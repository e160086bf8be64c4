"""Case-mix adjustment by indirect standardisation with a logistic regression.

A binomial GLM (logit link) of responding is fitted on the denominator of every clinic together,
on age, sex, instrument, baseline score and weeks of pain. A clinic's expected count is the sum
of its people's predicted probabilities; its adjusted rate is observed / expected x the overall
rate. A clinic whose people are less likely to respond (older, say) expects fewer responders, so
the same observed count gives it a higher adjusted rate.

An unknown age or duration is set to the mean of the known ones, with an indicator column saying
it was unknown (the missing-indicator method), so nobody is dropped from the model. When the
model cannot be fitted (every person responded, or none did, or the fit does not converge or
separates perfectly), no clinic gets an expected count or an adjusted rate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm  # type: ignore[import-untyped, unused-ignore]

from spinepath.population.measures.results import ALL_CLINICS

SEX_LEVELS = ("male", "other", "unknown")
"""Indicator columns against the reference level ``female``."""
INSTRUMENT_LEVELS = ("ndi",)
"""Indicator columns against the reference instrument ``odi``."""


@dataclass(frozen=True)
class Adjustment:
    expected: float
    adjusted_rate: float


def _filled(frame: pl.DataFrame, column: str) -> list[pl.Series]:
    values = frame.get_column(column).cast(pl.Float64)
    mean = values.mean()
    fill = float(mean) if isinstance(mean, int | float) else 0.0
    return [
        values.fill_null(fill).alias(column),
        values.is_null().cast(pl.Float64).alias(f"{column}_unknown"),
    ]


def design(covariates: pl.DataFrame) -> np.ndarray:
    """The model matrix: an intercept, then the covariates; constant columns are dropped."""
    columns = [
        *_filled(covariates, "age"),
        *_filled(covariates, "duration_weeks"),
        covariates.get_column("baseline").cast(pl.Float64),
        *[
            (covariates.get_column("sex") == level).cast(pl.Float64).alias(level)
            for level in SEX_LEVELS
        ],
        *[
            (covariates.get_column("instrument") == level).cast(pl.Float64).alias(level)
            for level in INSTRUMENT_LEVELS
        ],
    ]
    varying = [c.to_numpy() for c in columns if c.n_unique() > 1]
    return np.column_stack([np.ones(covariates.height), *varying])


def predicted(outcome: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """Each person's fitted probability, or none when the model cannot be fitted."""
    if outcome.size == 0 or outcome.min() == outcome.max():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fitted = sm.GLM(outcome, matrix, family=sm.families.Binomial()).fit()
        except (Warning, ValueError, np.linalg.LinAlgError):
            return None
    if not fitted.converged:
        return None
    return np.asarray(fitted.fittedvalues, dtype=float)


def adjust(people: pl.DataFrame) -> dict[str, Adjustment]:
    """Expected counts and adjusted rates by clinic, and for everyone under ``ALL``.

    ``people`` has one row per person of the denominator: ``clinic_id``, ``in_numerator`` and
    the covariates of :data:`.proms.COVARIATES_SQL`."""
    outcome = people.get_column("in_numerator").cast(pl.Float64).to_numpy()
    probabilities = predicted(outcome, design(people))
    if probabilities is None:
        return {}
    overall = float(outcome.mean())
    scored = people.select("clinic_id", "in_numerator").with_columns(pl.Series("p", probabilities))
    groups = (
        scored.filter(pl.col("clinic_id").is_not_null())
        .group_by("clinic_id")
        .agg(pl.col("p").sum().alias("expected"), pl.col("in_numerator").sum().alias("observed"))
    )
    rows = [(ALL_CLINICS, float(probabilities.sum()), float(outcome.sum()))]
    rows += [
        (r["clinic_id"], r["expected"], float(r["observed"])) for r in groups.iter_rows(named=True)
    ]
    # An adjusted rate can exceed 1 when a clinic does far better than its case-mix predicts;
    # it is a ratio scaled to the overall rate, not a proportion, so it is not capped.
    return {
        clinic: Adjustment(expected, observed / expected * overall)
        for clinic, expected, observed in rows
        if expected > 0
    }
