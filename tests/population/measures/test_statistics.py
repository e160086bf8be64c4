"""Wilson intervals, binomial funnel limits and centiles against values worked out by hand from
their published formulas, and their invariants as properties."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spinepath.population.measures.statistics import binomial_limit, centiles, funnel, wilson

Z = NormalDist().inv_cdf(0.975)


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    """Wilson (1927): (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    scale = 1 + Z * Z / n
    return (centre - spread) / scale, (centre + spread) / scale


@pytest.mark.parametrize(("k", "n"), [(0, 10), (5, 10), (10, 10), (3, 7), (1, 1000)])
def test_wilson_matches_the_formula(k: int, n: int) -> None:
    found = wilson(k, n)
    assert found is not None
    low, high = wilson_by_hand(k, n)
    assert found == pytest.approx((max(0.0, low), min(1.0, high)), abs=1e-12)


def test_wilson_known_values() -> None:
    # 0/10: upper z²/(n + z²) = 3.8415/13.8415; 5/10 is symmetric about 0.5.
    assert wilson(0, 10) == pytest.approx((0.0, Z * Z / (10 + Z * Z)), abs=1e-12)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(0, 0) is None


def _cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(r + 1))


def limit_by_hand(p: float, n: int, q: float) -> float:
    """Smallest r with F(r) >= q, moved back by (F(r) - q) / (F(r) - F(r - 1)), over n."""
    r = next(r for r in range(n + 1) if _cdf(r, n, p) >= q)
    above, below = _cdf(r, n, p), _cdf(r - 1, n, p) if r else 0.0
    return max(0.0, (r - (above - q) / (above - below)) / n)


def test_funnel_limits_for_ten_at_one_half() -> None:
    # Binomial(10, 1/2): F(1) = 11/1024 < 0.025 <= F(2) = 56/1024, and
    # F(7) = 968/1024 < 0.975 <= F(8) = 1013/1024.
    low = (2 - (56 / 1024 - 0.025) / (45 / 1024)) / 10
    high = (8 - (1013 / 1024 - 0.975) / (45 / 1024)) / 10
    assert binomial_limit(0.5, 10, 0.025) == pytest.approx(low, abs=1e-12)
    assert binomial_limit(0.5, 10, 0.975) == pytest.approx(high, abs=1e-12)
    assert funnel(0.5, 10)["95"] == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(("p", "n"), [(0.1, 30), (0.37, 57), (0.8, 12), (0.02, 400)])
@pytest.mark.parametrize("q", [0.001, 0.025, 0.975, 0.999])
def test_funnel_limits_match_the_interpolated_binomial_quantile(p: float, n: int, q: float) -> None:
    assert binomial_limit(p, n, q) == pytest.approx(limit_by_hand(p, n, q), abs=1e-9)


def test_funnel_at_the_extremes_and_with_no_one() -> None:
    assert funnel(0.0, 20) == {"95": (0.0, 0.0), "998": (0.0, 0.0)}
    assert funnel(1.0, 20) == {"95": (1.0, 1.0), "998": (1.0, 1.0)}
    assert funnel(0.5, 0) == {"95": None, "998": None}
    assert funnel(None, 10) == {"95": None, "998": None}


def test_centiles_share_ties_and_rank_by_direction() -> None:
    rates = [0.2, 0.5, None, 0.5, 0.9]
    assert centiles(rates, higher_is_better=True) == [0.0, 50.0, None, 50.0, 100.0]
    assert centiles(rates, higher_is_better=False) == [100.0, 50.0, None, 50.0, 0.0]
    assert centiles([0.4, None], higher_is_better=True) == [None, None]


@given(st.integers(min_value=1, max_value=2000), st.data())
def test_wilson_contains_the_estimate(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    found = wilson(k, n)
    assert found is not None
    low, high = found
    assert 0.0 <= low <= k / n <= high <= 1.0


@given(
    st.floats(min_value=0.001, max_value=0.999, allow_nan=False),
    st.integers(min_value=1, max_value=5000),
)
def test_funnel_limits_nest(p: float, n: int) -> None:
    limits = funnel(p, n)
    inner, outer = limits["95"], limits["998"]
    assert inner is not None
    assert outer is not None
    assert 0.0 <= outer[0] <= inner[0] <= inner[1] <= outer[1] <= 1.0
    if n * p * (1 - p) >= 5:  # once the funnel has opened, it holds the target
        assert inner[0] <= p <= inner[1]
