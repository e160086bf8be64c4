"""Comparing clinics: Wilson intervals, binomial funnel-plot control limits and centiles.

* Confidence interval: the 95% Wilson score interval (statsmodels ``proportion_confint``).
* Funnel limits: Spiegelhalter, "Funnel plots for comparing institutional performance", Stat Med
  2005;24:1185-1202, doi:10.1002/sim.1970. For a clinic of ``n`` people and the overall rate
  ``p0``, the limit at probability ``q`` is the ``q`` quantile of Binomial(n, p0) divided by n,
  interpolated between whole counts so that the funnel is smooth: with ``r`` the smallest count
  whose cumulative probability ``F(r)`` reaches ``q``, the limit is
  ``(r - (F(r) - q) / (F(r) - F(r - 1))) / n``, kept within 0 and 1. 95% limits use q = 0.025
  and 0.975, 99.8% limits 0.001 and 0.999. For very small clinics the discreteness shows: the
  upper limit can fall below the overall rate (one person, a rate of 2%: 97.5% of such clinics
  count 0), so read the funnel only where it has opened.
* Centile: a clinic's place among the clinics with a denominator, from 0 (worst reported rate)
  to 100 (best): ``100 * (worse + (tied - 1) / 2) / (clinics - 1)``, where ``worse`` counts the
  clinics with a worse rate and ``tied`` those with the same rate, itself included (tied clinics
  share the middle of their ranks); none with fewer than two clinics.
"""

from __future__ import annotations

from collections.abc import Sequence

from scipy.stats import binom  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.proportion import (  # type: ignore[import-untyped, unused-ignore]
    proportion_confint,
)

FUNNEL_PROBABILITIES = {"95": (0.025, 0.975), "998": (0.001, 0.999)}


def wilson(numerator: int, denominator: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval of ``numerator / denominator``; none for an empty one."""
    if denominator <= 0:
        return None
    low, high = proportion_confint(numerator, denominator, alpha=0.05, method="wilson")
    # The bounds are exactly 0 and 1 at 0 and n; floating point leaves them a hair off.
    low = 0.0 if numerator == 0 else max(0.0, float(low))
    high = 1.0 if numerator == denominator else min(1.0, float(high))
    return low, high


def binomial_limit(p0: float, n: int, q: float) -> float:
    """The interpolated ``q`` quantile of Binomial(n, p0) as a proportion of ``n``."""
    if p0 <= 0.0 or p0 >= 1.0:
        return p0
    r = int(binom.ppf(q, n, p0))
    above = float(binom.cdf(r, n, p0))
    if above < q:  # ppf can land one short through rounding
        r += 1
        above = float(binom.cdf(r, n, p0))
    below = float(binom.cdf(r - 1, n, p0)) if r > 0 else 0.0
    step = above - below
    fraction = (above - q) / step if step > 0 else 0.0
    return min(1.0, max(0.0, (r - fraction) / n))


def funnel(p0: float | None, n: int) -> dict[str, tuple[float, float] | None]:
    """The 95% and 99.8% control limits for a clinic of ``n`` around the overall rate ``p0``."""
    if p0 is None or n <= 0:
        return dict.fromkeys(FUNNEL_PROBABILITIES)
    return {
        name: (binomial_limit(p0, n, low), binomial_limit(p0, n, high))
        for name, (low, high) in FUNNEL_PROBABILITIES.items()
    }


def centiles(rates: Sequence[float | None], *, higher_is_better: bool) -> list[float | None]:
    """Each rate's centile among the others that are not none (see the module notes)."""
    known = [r for r in rates if r is not None]
    if len(known) < 2:
        return [None] * len(rates)
    sign = 1.0 if higher_is_better else -1.0
    found: list[float | None] = []
    for rate in rates:
        if rate is None:
            found.append(None)
            continue
        worse = sum(1 for other in known if sign * other < sign * rate)
        tied = sum(1 for other in known if other == rate)
        found.append(100.0 * (worse + (tied - 1) / 2) / (len(known) - 1))
    return found
