"""Case-mix adjustment by indirect standardisation with a logistic regression.

A binomial GLM (logit link) of responding is fitted on the denominator of every clinic together,
on age, sex, instrument, baseline score and weeks of pain. A clinic's expected count is the sum
of its people's predicted probabilities; its adjusted rate is observed / expected x the overall
rate. A clinic whose people are less likely to respond (older, say) expects fewer responders, so
the same observed count gives it a higher adjusted rate.

An unknown age or duration is set to the mean of the known ones, with an indicator column saying
it was unknown (the missing-indicator method), so nobody is dropped from the model. When the
model cannot be fitted (every person responded, or none did, or the design is rank-deficient,
or the fit does not converge or separates perfectly), no clinic gets an expected count or an
adjusted rate.

The fit is statsmodels' IRLS for a binomial GLM (``GLM(...).fit()``, whose every step it takes
with statsmodels' own family and link functions) except for its weighted least squares: those
are solved from the QR decomposition of the weighted design built ``CHUNK_ROWS`` rows at a time,
instead of from copies of the whole design. statsmodels holds several copies of the design at
once (about 0.7 KB a person of nine columns); this holds the design and a few columns of
numbers (about 0.2 KB), which at ten million people is the difference between gigabytes.
Both solve the same least squares problems, so the fitted probabilities agree to rounding
(a test compares them with statsmodels' on random data).
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


CHUNK_ROWS = 65_536
MAX_ITERATIONS = 100
TOLERANCE = 1e-8
"""statsmodels' defaults for ``GLM.fit``: at most 100 iterations, converged when the deviance
changes by no more than 1e-8."""
PINV_RCOND = 1e-15
"""statsmodels' cut-off for small singular values in its final pseudo-inverse solve."""


def _triangle(
    matrix: np.ndarray, weights: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``R`` and ``Q'b`` of the QR decomposition of the weighted design ``sqrt(w) X`` and the
    weighted target ``b = sqrt(w) z``, built ``CHUNK_ROWS`` rows at a time: each chunk is stacked
    under the ``R`` so far and decomposed again, which never holds more than a chunk."""
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(target))):
        # statsmodels' weighted least squares refuses them (ValueError) too.
        raise ValueError("a weight or a working response is not a finite number")
    columns = matrix.shape[1]
    triangle = np.zeros((0, columns))
    projected = np.zeros(0)
    for start in range(0, matrix.shape[0], CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        root = np.sqrt(weights[rows])
        stacked = np.vstack([triangle, matrix[rows] * root[:, None]])
        q, triangle = np.linalg.qr(stacked)
        projected = q.T @ np.concatenate([projected, target[rows] * root])
    return triangle, projected


def _irls(outcome: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """statsmodels' ``GLM(outcome, matrix, Binomial()).fit()`` (method IRLS) with its least
    squares solved by :func:`_triangle`: the fitted probabilities, or none where statsmodels'
    fit would not converge or would warn that the design is rank-deficient."""
    family = sm.families.Binomial()
    mu = family.starting_mu(outcome)
    linear = family.predict(mu)
    deviance = [np.inf, float(family.deviance(outcome, mu))]
    if np.isnan(deviance[-1]):
        raise ValueError("the first guess on the deviance is not a number")
    for _ in range(MAX_ITERATIONS):
        weights = family.weights(mu)
        working = linear + family.link.deriv(mu) * (outcome - mu)
        triangle, projected = _triangle(matrix, weights, working)
        params = np.linalg.lstsq(triangle, projected, rcond=-1)[0]
        linear = matrix @ params
        mu = family.fitted(linear)
        deviance.append(float(family.deviance(outcome, mu)))
        if np.allclose(mu - outcome, 0):
            return None  # statsmodels' PerfectSeparationWarning
        if np.allclose(deviance[-2], deviance[-1], atol=TOLERANCE, rtol=0.0):
            break
    else:
        return None
    # statsmodels ends with one more solve of the last step, by pseudo-inverse, and checks the
    # rank of the weighted design from its singular values (those of R).
    u, singular, vt = np.linalg.svd(triangle, full_matrices=False)
    if np.linalg.matrix_rank(np.diag(singular)) < matrix.shape[1]:
        return None  # statsmodels' SingularMatrixWarning
    cutoff = PINV_RCOND * singular.max()
    inverse = np.where(singular > cutoff, 1.0 / np.where(singular > cutoff, singular, 1.0), 0.0)
    params = vt.T @ (inverse * (u.T @ projected))
    return np.asarray(family.fitted(matrix @ params), dtype=float)


def predicted(outcome: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """Each person's fitted probability, or none when the model cannot be fitted."""
    if outcome.size == 0 or outcome.min() == outcome.max():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return _irls(outcome, matrix)
        except (Warning, ValueError, np.linalg.LinAlgError):
            return None


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
