"""Case-mix adjustment by indirect standardisation with a logistic regression.

A binomial GLM (logit link) of responding is fitted on the denominator of every clinic together,
on age, sex, instrument, baseline score and weeks of pain. A clinic's expected count is the sum
of its people's predicted probabilities; its adjusted rate is observed / expected x the overall
rate. A clinic whose people are less likely to respond (older, say) expects fewer responders, so
the same observed count gives it a higher adjusted rate.

An unknown age or duration is set to the mean of the known ones, with an indicator column saying
it was unknown (the missing-indicator method), so nobody is dropped from the model. When the
model cannot be fitted (every person responded, or none did, or the fit does not converge or
separates perfectly), no clinic gets an expected count or an adjusted rate. A covariate that is
a combination of others (aliased) is left out of the model, as R's ``glm`` leaves it out.

The model is statsmodels' ``GLM``. It holds a few copies of the design, about 0.7 KB a person
of nine covariates: some 7 GB at ten million people in one denominator, fitted after DuckDB has
closed, within the 24 GiB the population commands are sized for.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
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
    """The model matrix: an intercept, then the covariates; constant columns are dropped.

    ``covariates`` holds ``age``, ``duration_weeks`` and ``baseline`` (numbers), and one yes/no
    column per level of :data:`SEX_LEVELS` and :data:`INSTRUMENT_LEVELS` named after it."""
    columns = [
        *_filled(covariates, "age"),
        *_filled(covariates, "duration_weeks"),
        covariates.get_column("baseline").cast(pl.Float64),
        *[
            covariates.get_column(level).cast(pl.Float64)
            for level in (*SEX_LEVELS, *INSTRUMENT_LEVELS)
        ],
    ]
    varying = [c.to_numpy() for c in columns if c.n_unique() > 1]
    return np.column_stack([np.ones(covariates.height), *varying])


ALIASED_TOLERANCE = 1e-7
"""A column is aliased when what it has apart from the columns before it is less than this
share of its length: R's ``glm`` drops such columns by the same tolerance (``qr``'s ``tol``)."""


def independent_columns(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` without its aliased columns: each column that is, to rounding, a combination of
    the columns kept before it is dropped, as R's ``glm`` drops them (reporting ``NA`` for their
    coefficients). The fitted probabilities do not depend on which of two aliased columns is
    kept, only the coefficients would. On generated data, for instance, "weeks of pain unknown"
    can be the same column as "instrument NDI" (neck pain whose duration the form left out).

    Worked out from the cross-products ``X'X`` (columns scaled to length one), which is as many
    numbers as columns squared, so that no copy of the design is made to find them."""
    norms = np.sqrt(np.einsum("ij,ij->j", matrix, matrix))
    norms[norms == 0] = 1.0
    gram = (matrix.T @ matrix) / np.outer(norms, norms)
    kept: list[int] = []
    for column in range(matrix.shape[1]):
        if kept:
            inner = gram[np.ix_(kept, kept)]
            cross = gram[kept, column]
            residual = gram[column, column] - cross @ np.linalg.solve(inner, cross)
        else:
            residual = gram[column, column]
        if residual > ALIASED_TOLERANCE**2:  # squared: the lengths are squared in X'X
            kept.append(column)
    return matrix if len(kept) == matrix.shape[1] else matrix[:, kept]


def predicted(outcome: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """Each person's fitted probability, or none when the model cannot be fitted."""
    if outcome.size == 0 or outcome.min() == outcome.max():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fitted = sm.GLM(
                outcome, independent_columns(matrix), family=sm.families.Binomial()
            ).fit()
        except (Warning, ValueError, np.linalg.LinAlgError):
            return None
    if not fitted.converged:
        return None
    return np.asarray(fitted.fittedvalues, dtype=float)


def adjust(people: pl.DataFrame, clinics: Sequence[str]) -> dict[str, Adjustment]:
    """Expected counts and adjusted rates by clinic, and for everyone under ``ALL``.

    ``people`` has one row per person of the denominator: ``clinic`` (the index of the
    person's clinic in ``clinics``, null for none), ``in_numerator`` and the covariates of
    :func:`design`. Only numbers, so that a large denominator costs as little memory as it can.
    """
    outcome = people.get_column("in_numerator").cast(pl.Float64).to_numpy()
    probabilities = predicted(outcome, design(people))
    if probabilities is None:
        return {}
    overall = float(outcome.mean())
    codes = people.get_column("clinic").fill_null(-1).cast(pl.Int64).to_numpy()
    known = codes >= 0
    expected = np.bincount(codes[known], weights=probabilities[known], minlength=len(clinics))
    observed = np.bincount(codes[known], weights=outcome[known], minlength=len(clinics))
    rows = [(ALL_CLINICS, float(probabilities.sum()), float(outcome.sum()))]
    rows += [
        (clinic, float(expected[code]), float(observed[code]))
        for code, clinic in enumerate(clinics)
    ]
    # An adjusted rate can exceed 1 when a clinic does far better than its case-mix predicts;
    # it is a ratio scaled to the overall rate, not a proportion, so it is not capped.
    return {
        clinic: Adjustment(expected, observed / expected * overall)
        for clinic, expected, observed in rows
        if expected > 0
    }
