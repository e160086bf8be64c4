"""The case-mix model: statsmodels' binomial GLM, with aliased covariates left out as R's ``glm``
leaves them out, and no fit where none can be made."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped, unused-ignore]
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.population.measures import casemix


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


@pytest.mark.parametrize(("seed", "people"), [(1, 60), (2, 300), (3, 5_000)])
def test_the_expected_count_overall_is_the_observed_count(seed: int, people: int) -> None:
    # A logistic model with an intercept fitted by maximum likelihood predicts, summed over
    # everyone, exactly the number who responded: indirect standardisation rests on it.
    outcome, matrix = _data(seed, people)
    found = casemix.predicted(outcome, matrix)
    assert found is not None
    assert float(found.sum()) == pytest.approx(float(outcome.sum()), rel=1e-9)
    assert np.all((found > 0) & (found < 1))


def test_an_aliased_column_is_left_out_and_the_fit_is_the_one_without_it() -> None:
    outcome, matrix = _data(6, 3_000)
    # "Duration unknown" equal to "NDI", as in a generated data set's neck pain; and a column
    # that is a sum of two others.
    doubled = np.column_stack([matrix, matrix[:, -1], matrix[:, 4] + matrix[:, 5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = sm.GLM(outcome, matrix, family=sm.families.Binomial()).fit().fittedvalues
    found = casemix.predicted(outcome, doubled)
    assert found is not None
    np.testing.assert_allclose(found, alone, rtol=1e-9)
    np.testing.assert_array_equal(casemix.independent_columns(doubled), matrix)


def test_a_column_nearly_but_not_quite_another_is_kept() -> None:
    _, matrix = _data(9, 2_000)
    near = matrix[:, 1] + np.random.default_rng(9).normal(0, 1e-3, 2_000)
    widened = np.column_stack([matrix, near])
    assert casemix.independent_columns(widened).shape[1] == widened.shape[1]


@settings(max_examples=40, deadline=None)
@given(
    people=st.integers(min_value=12, max_value=400),
    copies=st.lists(st.integers(min_value=0, max_value=5), max_size=3),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_adding_combinations_of_columns_never_changes_the_fit(
    people: int, copies: list[int], seed: int
) -> None:
    outcome, matrix = _data(seed, people)
    extra = [matrix[:, c] * (i + 2.0) for i, c in enumerate(copies)]
    widened = np.column_stack([matrix, *extra]) if extra else matrix
    plain = casemix.predicted(outcome, matrix)
    found = casemix.predicted(outcome, widened)
    assert (plain is None) == (found is None)
    if plain is not None and found is not None:
        np.testing.assert_allclose(found, plain, rtol=1e-7, atol=1e-10)


def test_a_perfectly_separated_outcome_has_no_fit() -> None:
    _, matrix = _data(7, 500)
    outcome = (matrix[:, 1] > 50).astype(float)  # everyone over 50 responded, nobody else
    assert casemix.predicted(outcome, matrix) is None


def test_an_outcome_everyone_shares_has_no_fit() -> None:
    _, matrix = _data(8, 100)
    assert casemix.predicted(np.ones(100), matrix) is None
    assert casemix.predicted(np.zeros(0), matrix[:0]) is None
