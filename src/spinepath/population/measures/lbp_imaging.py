"""``lbp-imaging``: the HEDIS "Use of Imaging Studies for Low Back Pain" measure (NCQA; CMS166).

Adults with a new episode of low back pain, less those with a condition for which early imaging
may be needed; the numerator is lumbar imaging on the diagnosis date or in the 28 days after it,
and the measure is reported inverted (1 - rate: the share *not* imaged). What was verified in
the source, and what was adapted, is in docs/measures/lbp-imaging.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.query import in_list, measure_sql

ID = "lbp-imaging"
FOLLOW_UP_DAYS = 28
"""Imaging on the diagnosis date or up to 28 days after it counts (CMS166v7: "<= 28 day(s) starts
after or concurrent with" the diagnosis); the intake period ends 28 days before the period does."""
MINIMUM_AGE = 18
"""18 or over at the start of the period (HEDIS: "18 years as of January 1")."""
MAXIMUM_AGE = 75
"""75 or under at its end (HEDIS since MY2022: "75 years as of December 31")."""
IMAGING_MODALITIES = ("xray", "ct", "mri")
CORTICOSTEROID_DAYS = 90

ANY_TIME = "any time"
LOOKBACK: Mapping[str, str] = {
    "cancer": ANY_TIME,
    "hiv": ANY_TIME,
    "organ_transplant": ANY_TIME,
    "lumbar_surgery": ANY_TIME,
    "spondylopathy": ANY_TIME,
    "axial_spondyloarthritis": ANY_TIME,
    "iv_drug_use": "12 months",
    "neurological_impairment": "12 months",
    "cauda_equina": "12 months",
    "spinal_infection": "12 months",
    "trauma": "90 days",
    "fragility_fracture": "90 days",
}
"""How far before the diagnosis each condition category excludes a person; every one also
excludes up to 28 days after it. ``cauda_equina`` is counted as a neurological impairment and
``axial_spondyloarthritis`` as a spondylopathy."""
DURING_PERIOD = ("palliative_care", "hospice")
"""Excluding when recorded as active at any time in the measurement period."""

_IP = f"""
SELECT l.person_id, l.d, l.prior_lbp
FROM lbp_episodes l, params p
WHERE l.d BETWEEN p.period_start AND p.period_end - {FOLLOW_UP_DAYS}
  AND age_on(l.birth_date, p.period_start) >= {MINIMUM_AGE}
  AND age_on(l.birth_date, p.period_end) <= {MAXIMUM_AGE}
QUALIFY row_number() OVER (PARTITION BY l.person_id ORDER BY l.d, l.episode_id) = 1
"""  # noqa: S608


def _lower_bound(lookback: str) -> str:
    if lookback == ANY_TIME:
        return "TRUE"
    amount, unit = lookback.split()
    if unit == "days":
        return f"c.recorded_on >= ip.d - {int(amount)}"
    return f"c.recorded_on >= CAST(ip.d - INTERVAL {int(amount)} MONTH AS DATE)"


def _condition_reason(category: str, lookback: str) -> str:
    return (
        f"SELECT ip.person_id, '{category}' AS reason FROM ip "  # noqa: S608
        f"JOIN conditions c ON c.person_id = ip.person_id "
        f"WHERE c.category = '{category}' AND c.recorded_on <= ip.d + {FOLLOW_UP_DAYS} "
        f"AND {_lower_bound(lookback)}"
    )


def _reasons() -> list[str]:
    reasons = ["SELECT person_id, 'lbp_in_prior_180_days' AS reason FROM ip WHERE prior_lbp"]
    reasons += [_condition_reason(category, back) for category, back in LOOKBACK.items()]
    reasons += [
        f"SELECT ip.person_id, c.category AS reason FROM ip "  # noqa: S608
        f"JOIN conditions c ON c.person_id = ip.person_id CROSS JOIN params p "
        f"WHERE c.category IN {in_list(DURING_PERIOD)} AND c.recorded_on <= p.period_end "
        f"AND (c.ended_on IS NULL OR c.ended_on >= p.period_start)",
        f"SELECT ip.person_id, 'osteoporosis_therapy' AS reason FROM ip "  # noqa: S608
        f"JOIN medications m ON m.person_id = ip.person_id "
        f"WHERE m.drug_class = 'osteoporosis_therapy' "
        f"AND m.prescribed_on <= ip.d + {FOLLOW_UP_DAYS}",
        f"SELECT ip.person_id, 'prolonged_corticosteroids' AS reason FROM ip "  # noqa: S608
        f"JOIN medications m ON m.person_id = ip.person_id "
        f"WHERE m.drug_class = 'systemic_corticosteroid' "
        f"AND m.prescribed_on BETWEEN CAST(ip.d - INTERVAL 12 MONTH AS DATE) AND ip.d "
        f"GROUP BY ip.person_id HAVING sum(m.days_supply) >= {CORTICOSTEROID_DAYS}",
    ]
    return reasons


_EVENTS = f"""
SELECT ip.person_id, i.performed_on AS event_date,
       format('lumbar {{}} on {{}}, {{}} days after the diagnosis on {{}}',
              i.modality, i.performed_on, i.performed_on - ip.d, ip.d) AS detail
FROM ip JOIN imaging i ON i.person_id = ip.person_id
WHERE i.body_site = 'lumbar' AND i.modality IN {in_list(IMAGING_MODALITIES)}
  AND i.performed_on BETWEEN ip.d AND ip.d + {FOLLOW_UP_DAYS}
"""  # noqa: S608

MEASURE = Measure(
    id=ID,
    title="Use of imaging studies for low back pain (HEDIS LBP, inverted)",
    sql=measure_sql(_IP, _reasons(), _EVENTS),
    numerator_is_good=False,
    inverted=True,
    gap="lumbar imaging within 28 days of a new low back pain diagnosis",
)
