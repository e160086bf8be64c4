"""``time-to-surgical-opinion``: from the assessment at which the pathway found the referral
criteria met to the first opinion of a spinal surgeon.

The index is each person's first assessment in the period with ``referral_due``. ``days`` is the
wait to the first ``surgical_opinion`` procedure on or after it and by the period end; a person
not seen by then is censored at the period end (``event_date`` null, ``days`` the time followed).
The proportion is the share seen within 18 weeks; people neither seen nor followed for 18 weeks
are excluded from it (they could still be seen in time), but count in the Kaplan-Meier quantiles
as censored. Definition: docs/measures/time-to-surgical-opinion.md.
"""

from __future__ import annotations

from spinepath.population.measures.definitions import Kind, Measure

TARGET_DAYS = 18 * 7
"""18 weeks: the NHS Constitution's maximum wait from referral to consultant-led treatment."""

_SQL = f"""
WITH ip AS (
    SELECT w.person_id, min(w.assessed_on) AS d
    FROM pathway w JOIN people pe ON pe.person_id = w.person_id CROSS JOIN params
    WHERE w.referral_due AND w.assessed_on BETWEEN params.period_start AND params.period_end
    GROUP BY w.person_id
),
seen AS (
    SELECT ip.person_id, min(p.performed_on) AS event_date
    FROM ip JOIN procedures p ON p.person_id = ip.person_id CROSS JOIN params
    WHERE p.kind = 'surgical_opinion' AND p.performed_on BETWEEN ip.d AND params.period_end
    GROUP BY ip.person_id
)
SELECT ip.person_id, ip.d AS index_date,
       CASE WHEN seen.event_date IS NULL AND params.period_end - ip.d < {TARGET_DAYS}
            THEN 'followed_less_than_18_weeks' END AS exclusion_reason,
       coalesce(seen.event_date - ip.d <= {TARGET_DAYS}, FALSE) AS in_numerator,
       seen.event_date,
       CAST(coalesce(seen.event_date, params.period_end) - ip.d AS INTEGER) AS days,
       CASE WHEN seen.event_date IS NULL
            THEN format('not seen by {{}}, {{}} days after the assessment on {{}}',
                        params.period_end, params.period_end - ip.d, ip.d)
            ELSE format('seen on {{}}, {{}} days after the assessment on {{}}',
                        seen.event_date, seen.event_date - ip.d, ip.d) END AS detail
FROM ip CROSS JOIN params LEFT JOIN seen ON seen.person_id = ip.person_id
"""  # noqa: S608

MEASURE = Measure(
    id="time-to-surgical-opinion",
    title="Seen by a spinal surgeon within 18 weeks of meeting the referral criteria",
    sql=_SQL,
    numerator_is_good=True,
    gap="not seen by a spinal surgeon within 18 weeks of meeting the referral criteria",
    kind=Kind.TIME_TO_EVENT,
)
