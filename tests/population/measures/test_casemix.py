"""The case-mix model's fit, which solves its least squares a chunk of rows at a time, gives
statsmodels' GLM fit (``GLM(...).fit()``, the reference below): the same probabilities to
rounding, and no fit where statsmodels has none (rank-deficient, perfectly separated)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped, unused-ignore]

from spinepath.population.measures import casemix


def _statsmodels(outcome: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """The fit as it was made before, with statsmodels alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fitted = sm.GLM(outcome, matrix, family=sm.families.Binomial()).fit()
        except (Warning, ValueError, np.linalg.LinAlgError):
            return None
    if not fitted.converged:
        return None
    return np.asarray(fitted.fittedvalues, dtype=float)


def _data(seed: int, people: int) -> tuple[np.ndarray, np.ndarray]:
    """A design like the measure's (an intercept, age, weeks of pain, a baseline score and
    yes/no columns) and outcomes drawn from a logistic model of it."""
    draw = np.random.default_rng(seed)
    age = draw.integers(16, 95, people).astype(float)
    weeks = draw.exponential(20.0, people)
    baseline = draw.integers(0, 51, people) * 2.0
    male = (draw.random(people) < 0.45).astype(float)
    ndi = (draw.random(people) < 0.2).astype(float)
    matrix = np.column_stack([np.ones(people), age, weeks, baseline, male, ndi])
    slope = np.array([0.3, -0.01, -0.02, 0.015, 0.2, -0.4])
    probability = 1.0 / (1.0 + np.exp(-(matrix @ slope)))
    return (draw.random(people) < probability).astype(float), matrix


@pytest.mark.parametrize(("seed", "people"), [(1, 40), (2, 300), (3, 5_000), (4, 150_000)])
def test_the_probabilities_are_statsmodels(seed: int, people: int) -> None:
    outcome, matrix = _data(seed, people)
    expected = _statsmodels(outcome, matrix)
    found = casemix.predicted(outcome, matrix)
    assert expected is not None
    assert found is not None
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-12)
    assert float(found.sum()) == pytest.approx(float(expected.sum()), rel=1e-11)


def test_many_small_chunks_give_the_same_probabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, matrix = _data(5, 2_000)
    whole = casemix.predicted(outcome, matrix)
    monkeypatch.setattr(casemix, "CHUNK_ROWS", 7)  # fewer rows than columns, at first
    chunked = casemix.predicted(outcome, matrix)
    assert whole is not None
    assert chunked is not None
    np.testing.assert_allclose(chunked, whole, rtol=1e-10, atol=1e-13)


def test_a_rank_deficient_design_has_no_fit_as_in_statsmodels() -> None:
    outcome, matrix = _data(6, 3_000)
    # "Duration unknown" equal to "NDI", as in a generated data set's neck pain.
    doubled = np.column_stack([matrix, matrix[:, -1]])
    assert _statsmodels(outcome, doubled) is None
    assert casemix.predicted(outcome, doubled) is None


def test_a_perfectly_separated_outcome_has_no_fit_as_in_statsmodels() -> None:
    _, matrix = _data(7, 500)
    outcome = (matrix[:, 1] > 50).astype(float)  # everyone over 50 responded, nobody else
    assert _statsmodels(outcome, matrix) is None
    assert casemix.predicted(outcome, matrix) is None


def test_an_outcome_everyone_shares_has_no_fit() -> None:
    _, matrix = _data(8, 100)
    assert casemix.predicted(np.ones(100), matrix) is None
    assert casemix.predicted(np.zeros(0), matrix[:0]) is None
