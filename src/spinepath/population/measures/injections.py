"""Spinal injections for low back pain: NICE QS155 statement 6 and NG59's advice.

QS155 statement 6 asks what share of people given spinal injections for low back pain without
sciatica met the criteria for radiofrequency denervation; ``ng59-spinal-injections`` counts the
people with low back pain given an injection NG59 does not recommend. Definitions:
docs/measures/qs155-6-spinal-injections.md and ng59-spinal-injections.md.
"""

from __future__ import annotations

from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.episodes import care_plan_has, sciatica_reasons
from spinepath.population.measures.query import in_list, measure_sql

INJECTIONS = ("spinal_injection", "radiofrequency_denervation", "epidural_injection")
DENERVATION_ITEM = "CP-RFD"
"""The pathway's care-plan item for referral for radiofrequency denervation assessment, which
holds exactly when NG59's criteria that an intake can show are met (care.yaml)."""
EPIDURAL_ITEM = "CP-EPIDURAL-SCIATICA"
"""The pathway's care-plan item for an epidural in acute and severe sciatica (care.yaml)."""

_INJECTED_IP = f"""
SELECT i.person_id, min(p.performed_on) AS d
FROM lbp_index i JOIN procedures p ON p.person_id = i.person_id CROSS JOIN params
WHERE p.kind IN {in_list(INJECTIONS)} AND p.performed_on BETWEEN i.d AND params.period_end
GROUP BY i.person_id
"""  # noqa: S608

DENERVATION_CRITERIA = Measure(
    id="qs155-6-spinal-injections",
    title="Spinal injections for low back pain without sciatica given to people who meet the "
    "criteria for radiofrequency denervation (NICE QS155 statement 6)",
    sql=measure_sql(
        _INJECTED_IP,
        sciatica_reasons(),
        f"""
SELECT ip.person_id, w.assessed_on AS event_date,
       format('radiofrequency denervation criteria met on {{}}', w.assessed_on) AS detail
FROM ip JOIN index_pathway w ON w.person_id = ip.person_id
WHERE {care_plan_has(DENERVATION_ITEM)} AND w.assessed_on <= ip.d
""",  # noqa: S608
    ),
    numerator_is_good=True,
    gap="a spinal injection without the criteria for radiofrequency denervation",
)

NOT_RECOMMENDED = Measure(
    id="ng59-spinal-injections",
    title="Spinal injections other than radiofrequency denervation or an epidural for acute "
    "severe sciatica (NICE NG59)",
    sql=measure_sql(
        "SELECT person_id, d FROM lbp_index",
        [],
        f"""
SELECT ip.person_id, p.performed_on AS event_date,
       format('{{}} on {{}}', replace(p.kind, '_', ' '), p.performed_on) AS detail
FROM ip JOIN procedures p ON p.person_id = ip.person_id CROSS JOIN params
WHERE p.performed_on BETWEEN ip.d AND params.period_end
  AND (p.kind = 'spinal_injection' OR (p.kind = 'epidural_injection' AND NOT EXISTS (
      SELECT 1 FROM index_pathway w
      WHERE w.person_id = ip.person_id AND w.assessed_on <= p.performed_on
        AND {care_plan_has(EPIDURAL_ITEM)}
  )))
""",  # noqa: S608
    ),
    numerator_is_good=False,
    gap="a spinal injection NG59 does not recommend",
)
