"""The two tables the measures produce: one row per measure and clinic, one per measure and person.

Every interval column of ``MEASURE_RESULTS`` (``ci_*``, ``funnel_*``) is on the scale of
``reported_rate``: for an inverted measure (reported as 1 - rate) the bounds are inverted too, so a
chart of ``reported_rate`` can draw them as they are. ``higher_is_better`` is about
``reported_rate``.
"""

from __future__ import annotations

import polars as pl

from spinepath.population.tables import Schema

ALL_CLINICS = "ALL"
"""The ``clinic_id`` of the row that counts everyone, including people with no clinic."""

MEASURE_RESULTS: Schema = {
    "measure_id": pl.String,
    "clinic_id": pl.String,  # a clinic, or ALL
    "initial_population": pl.Int64,
    "denominator": pl.Int64,  # initial population less exclusions
    "exclusions": pl.Int64,
    "numerator": pl.Int64,
    "rate": pl.Float64,  # numerator / denominator; null when the denominator is 0
    "reported_rate": pl.Float64,  # 1 - rate for an inverted measure, else rate
    "ci_low": pl.Float64,  # 95% Wilson interval
    "ci_high": pl.Float64,
    "expected": pl.Float64,  # case-mix adjusted measures: expected numerator
    "adjusted_rate": pl.Float64,  # observed / expected x overall rate (reported scale)
    "funnel_low_95": pl.Float64,  # binomial control limits around the overall rate
    "funnel_high_95": pl.Float64,
    "funnel_low_998": pl.Float64,
    "funnel_high_998": pl.Float64,
    "centile": pl.Float64,  # 0 (worst clinic) to 100 (best); null for ALL
    "median_days": pl.Float64,  # time measures: Kaplan-Meier quantiles
    "p25_days": pl.Float64,
    "p75_days": pl.Float64,
    "higher_is_better": pl.Boolean,
}
"""One row per measure and clinic, and one per measure for ``ALL``."""

PERSON_RESULTS: Schema = {
    "measure_id": pl.String,
    "clinic_id": pl.String,  # null when the person has no clinic
    "person_id": pl.String,
    "index_date": pl.Date,  # the date the person entered the measure (e.g. the diagnosis)
    "in_denominator": pl.Boolean,
    "excluded": pl.Boolean,
    "exclusion_reason": pl.String,  # every reason that applies, "; "-separated
    "in_numerator": pl.Boolean,  # never true outside the denominator
    "event_date": pl.Date,  # the numerator's event (an image, a prescription, an opinion)
    "days": pl.Int32,  # index to event; time measures: to the period end when no event
    "detail": pl.String,  # what happened, in words, for the gaps-in-care lists
}
"""One row per measure and person in its initial population."""


def empty_results() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(MEASURE_RESULTS))


def empty_people() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(PERSON_RESULTS))
