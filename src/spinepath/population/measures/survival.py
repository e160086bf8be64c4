"""Kaplan-Meier quantiles of a waiting time with people still waiting (right-censored).

The survival curve drops at each time with events by the share of those still at risk who had
one; a person censored at a time is still at risk at that time. The ``q`` quantile is the first
time at which the share still waiting falls to ``1 - q`` or below, and is none when it never
does (too few events)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def km_quantiles(
    times: Sequence[int], events: Sequence[bool], quantiles: Sequence[float] = (0.25, 0.5, 0.75)
) -> list[float | None]:
    """The Kaplan-Meier ``quantiles`` of ``times``, each an event (true) or censored (false)."""
    if len(times) != len(events):
        raise ValueError("times and events differ in length")
    happened = Counter(t for t, e in zip(times, events, strict=True) if e)
    leaving = Counter(times)
    at_risk = len(times)
    surviving = 1.0
    found: list[float | None] = [None] * len(quantiles)
    for time in sorted(leaving):
        if happened[time]:
            surviving *= 1.0 - happened[time] / at_risk
            for index, q in enumerate(quantiles):
                if found[index] is None and surviving <= 1.0 - q + 1e-12:
                    found[index] = float(time)
        at_risk -= leaving[time]
    return found
