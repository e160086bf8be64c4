"""Medicines NICE advises against for low back pain: QS155 statements 4 and 5 and NG59's advice
not to offer opioids for chronic low back pain.

Each counts prescriptions issued on the diagnosis date or in the 90 days after it (a local
window: the statements give none). Definitions: docs/measures/qs155-4*.md, qs155-5-opioids.md and
lbp-opioids-chronic.md.
"""

from __future__ import annotations

from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.episodes import sciatica_reasons
from spinepath.population.measures.query import in_list, measure_sql

WINDOW_DAYS = 90
CHRONIC_DAYS = 84
"""Chronic: pain for 12 weeks or more at the diagnosis date (the project's duration bands,
docs/population.md, and the opioid order card, web/cds/opioid_orders.py)."""
OTHER_ANALGESICS = ("nsaid", "opioid")
OPIOID_INDICATIONS = ("cancer", "palliative_care", "hospice")
RECENT_INJURIES = ("trauma", "fragility_fracture")

_IP = "SELECT person_id, d, onset_date FROM lbp_index"


def _prescribed(drug_class: str, extra: str = "") -> str:
    return f"""
SELECT ip.person_id, m.prescribed_on AS event_date,
       format('{drug_class.replace("_", " ")} prescribed on {{}}', m.prescribed_on) AS detail
FROM ip JOIN medications m ON m.person_id = ip.person_id
WHERE m.drug_class = '{drug_class}'
  AND m.prescribed_on BETWEEN ip.d AND ip.d + {WINDOW_DAYS} {extra}
"""  # noqa: S608


_PARACETAMOL_ALONE = f"""
AND NOT EXISTS (
    SELECT 1 FROM medications o
    WHERE o.person_id = m.person_id AND o.prescribed_on = m.prescribed_on
      AND o.drug_class IN {in_list(OTHER_ANALGESICS)}
)"""  # noqa: S608


def _without_sciatica(measure_id: str, title: str, sql_events: str, gap: str) -> Measure:
    return Measure(
        id=measure_id,
        title=title,
        sql=measure_sql(_IP, sciatica_reasons(), sql_events),
        numerator_is_good=False,
        gap=gap,
    )


ANTICONVULSANTS = _without_sciatica(
    "qs155-4a-anticonvulsants",
    "Anticonvulsants for low back pain without sciatica (NICE QS155 statement 4a)",
    _prescribed("gabapentinoid"),
    "an anticonvulsant (gabapentinoid) given for low back pain without sciatica",
)
ANTIDEPRESSANTS = _without_sciatica(
    "qs155-4b-antidepressants",
    "Antidepressants for low back pain without sciatica (NICE QS155 statement 4b)",
    _prescribed("antidepressant"),
    "an antidepressant given for low back pain without sciatica",
)
PARACETAMOL_ALONE = _without_sciatica(
    "qs155-4c-paracetamol-alone",
    "Paracetamol alone for low back pain without sciatica (NICE QS155 statement 4c)",
    _prescribed("paracetamol", _PARACETAMOL_ALONE),
    "paracetamol alone given for low back pain without sciatica",
)

_CHRONIC_IP = f"{_IP} WHERE onset_date IS NULL OR d - onset_date >= {CHRONIC_DAYS}"

_OPIOID_REASONS = [
    "SELECT person_id, 'onset_date_unknown' AS reason FROM ip WHERE onset_date IS NULL",
    f"SELECT ip.person_id, c.category AS reason FROM ip "  # noqa: S608
    f"JOIN conditions c ON c.person_id = ip.person_id "
    f"WHERE c.category IN {in_list(OPIOID_INDICATIONS)} "
    f"AND c.recorded_on <= ip.d + {WINDOW_DAYS} AND (c.ended_on IS NULL OR c.ended_on >= ip.d)",
    f"SELECT ip.person_id, c.category AS reason FROM ip "  # noqa: S608
    f"JOIN conditions c ON c.person_id = ip.person_id "
    f"WHERE c.category IN {in_list(RECENT_INJURIES)} "
    f"AND c.recorded_on BETWEEN ip.d - {WINDOW_DAYS} AND ip.d + {WINDOW_DAYS}",
    f"SELECT ip.person_id, 'spinal_surgery' AS reason FROM ip "  # noqa: S608
    f"JOIN procedures p ON p.person_id = ip.person_id "
    f"WHERE p.kind = 'spinal_surgery' "
    f"AND p.performed_on BETWEEN ip.d - {WINDOW_DAYS} AND ip.d + {WINDOW_DAYS}",
]

OPIOIDS_CHRONIC = Measure(
    id="lbp-opioids-chronic",
    title="Opioids for chronic low back pain, with or without sciatica (NICE NG59)",
    sql=measure_sql(_CHRONIC_IP, _OPIOID_REASONS, _prescribed("opioid")),
    numerator_is_good=False,
    gap="an opioid prescribed for chronic low back pain",
)

OPIOIDS_WITHOUT_SCIATICA = Measure(
    id="qs155-5-opioids",
    title="Opioids for chronic low back pain without sciatica (NICE QS155 statement 5)",
    sql=measure_sql(_CHRONIC_IP, _OPIOID_REASONS + sciatica_reasons(), _prescribed("opioid")),
    numerator_is_good=False,
    gap="an opioid given for chronic low back pain without sciatica",
)
