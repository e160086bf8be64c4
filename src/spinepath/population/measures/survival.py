"""Kaplan-Meier quantiles of a waiting time with people still waiting (right-censored).

The survival curve drops at each time with events by the share of those still at risk who had
one; a person censored at a time is still at risk at that time. The ``q`` quantile is the first
time at which the share still waiting falls to ``1 - q`` or below, and is none when it never
does (too few events)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

QUANTILES = (0.25, 0.5, 0.75)


def km_quantiles(
    times: Sequence[int], events: Sequence[bool], quantiles: Sequence[float] = QUANTILES
) -> list[float | None]:
    """The Kaplan-Meier ``quantiles`` of ``times``, each an event (true) or censored (false)."""
    if len(times) != len(events):
        raise ValueError("times and events differ in length")
    happened = Counter(t for t, e in zip(times, events, strict=True) if e)
    leaving = Counter(times)
    return km_quantiles_counted(((t, happened[t], n) for t, n in leaving.items()), quantiles)


def km_quantiles_counted(
    counts: Iterable[tuple[int, int, int]], quantiles: Sequence[float] = QUANTILES
) -> list[float | None]:
    """The Kaplan-Meier ``quantiles`` from ``(time, events, leaving)`` rows: at each time, how
    many had the event and how many left the risk set (the events and those censored then).
    A time given more than once counts the sum of its rows."""
    happened: Counter[int] = Counter()
    leaving: Counter[int] = Counter()
    for time, events, left in counts:
        if not 0 <= events <= left:
            raise ValueError(f"at time {time}: {events} events of {left} leaving")
        happened[time] += events
        leaving[time] += left
    at_risk = sum(leaving.values())
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
