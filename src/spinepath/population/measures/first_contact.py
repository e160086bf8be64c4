"""NICE QS155 statements 1 to 3: risk stratification, imaging from non-specialist services, and
advice to self-manage, for people aged 16 and over with low back pain, with or without sciatica.

Definitions, and what was adapted from each statement's measure: docs/measures/qs155-1-*.md,
qs155-2-*.md and qs155-3-*.md.
"""

from __future__ import annotations

from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.episodes import care_plan_has
from spinepath.population.measures.query import in_list, measure_sql

PRIMARY_CARE_SETTINGS = ("outpatient", "telehealth")
STRATIFICATION_DAYS = 28
"""Risk stratified on the diagnosis date or within 28 days after it (a local window: QS155 says
"at the first consultation" but records rarely date the tool to the visit)."""
NON_SPECIALIST_ORDERS = ("primary_care", "emergency")
SERIOUS_CATEGORIES = ("cancer", "spinal_infection", "cauda_equina", "fragility_fracture", "trauma")
SELF_MANAGEMENT_ITEM = "CP-KEEP-ACTIVE"
SELF_MANAGEMENT_PREFIX = "SM-"
"""Care-plan items giving advice to self-manage: keep active (CP-KEEP-ACTIVE) and the
self-management section of care.yaml (ids SM-...)."""

_IP = "SELECT person_id, d, prior_lbp, setting FROM lbp_index"

RISK_STRATIFICATION = Measure(
    id="qs155-1-risk-stratification",
    title="New episode of low back pain risk stratified (NICE QS155 statement 1, process form)",
    sql=measure_sql(
        f"{_IP} WHERE setting IN {in_list(PRIMARY_CARE_SETTINGS)}",
        ["SELECT person_id, 'lbp_in_prior_180_days' AS reason FROM ip WHERE prior_lbp"],
        f"""
SELECT ip.person_id, p.performed_on AS event_date,
       format('risk stratification recorded on {{}}', p.performed_on) AS detail
FROM ip JOIN procedures p ON p.person_id = ip.person_id
WHERE p.kind = 'risk_stratification'
  AND p.performed_on BETWEEN ip.d AND ip.d + {STRATIFICATION_DAYS}
UNION ALL
SELECT ip.person_id, w.assessed_on AS event_date,
       format('STarT Back {{}} risk on {{}}', w.startback_group, w.assessed_on) AS detail
FROM ip JOIN pathway w ON w.person_id = ip.person_id
WHERE w.startback_group IS NOT NULL
  AND w.assessed_on BETWEEN ip.d AND ip.d + {STRATIFICATION_DAYS}
""",  # noqa: S608
    ),
    numerator_is_good=True,
    gap="no risk stratification within 28 days of a new low back pain episode",
)

NON_SPECIALIST_IMAGING = Measure(
    id="qs155-2-imaging",
    title="Imaging requested by a non-specialist service without suspected serious pathology "
    "(NICE QS155 statement 2)",
    sql=measure_sql(
        _IP,
        [
            "SELECT ip.person_id, 'serious_pathology_suspected' AS reason FROM ip "
            "JOIN index_status s ON s.person_id = ip.person_id WHERE s.serious_suspected",
            f"SELECT ip.person_id, c.category AS reason FROM ip "  # noqa: S608
            f"JOIN conditions c ON c.person_id = ip.person_id "
            f"WHERE c.category IN {in_list(SERIOUS_CATEGORIES)} "
            f"AND c.recorded_on <= ip.d + 28 AND (c.ended_on IS NULL OR c.ended_on >= ip.d)",
        ],
        f"""
SELECT ip.person_id, i.performed_on AS event_date,
       format('lumbar {{}} on {{}} ordered by {{}}', i.modality, i.performed_on,
              replace(i.ordered_by_setting, '_', ' ')) AS detail
FROM ip JOIN imaging i ON i.person_id = ip.person_id CROSS JOIN params p
WHERE i.body_site = 'lumbar' AND i.ordered_by_setting IN {in_list(NON_SPECIALIST_ORDERS)}
  AND i.performed_on BETWEEN ip.d AND p.period_end
""",  # noqa: S608
    ),
    numerator_is_good=False,
    gap="imaging requested by a non-specialist service with no serious pathology suspected",
)

SELF_MANAGEMENT = Measure(
    id="qs155-3-self-management",
    title="Advice and information to self-manage (NICE QS155 statement 3)",
    sql=measure_sql(
        _IP,
        [
            "SELECT ip.person_id, 'urgent_or_emergency_level' AS reason FROM ip "
            "JOIN index_status s ON s.person_id = ip.person_id WHERE s.urgent",
        ],
        f"""
SELECT ip.person_id, w.assessed_on AS event_date,
       format('self-management advice in the care plan of {{}}', w.assessed_on) AS detail
FROM ip JOIN index_pathway w ON w.person_id = ip.person_id
WHERE {care_plan_has(SELF_MANAGEMENT_ITEM)}
   OR len(list_filter(w.care_plan, lambda item: starts_with(item, '{SELF_MANAGEMENT_PREFIX}'))) > 0
""",  # noqa: S608
    ),
    numerator_is_good=True,
    gap="no advice to self-manage recorded in the care plan",
)
