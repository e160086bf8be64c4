"""NICE NG59's programmes, for the people the pathway recommended them to: a group exercise
programme, and a combined physical and psychological programme for people at high STarT Back
risk. Definitions: docs/measures/ng59-exercise.md and ng59-psychological.md.
"""

from __future__ import annotations

from spinepath.population.measures.definitions import Measure
from spinepath.population.measures.episodes import care_plan_has
from spinepath.population.measures.query import measure_sql

EXERCISE_ITEM = "CP-EXERCISE"
COMBINED_ITEM = "CP-COMBINED-PROGRAMME"


def _recommended(condition: str) -> str:
    """The index episodes whose pathway recommended something, dated at its first
    recommendation."""
    return f"""
SELECT i.person_id, min(w.assessed_on) AS d
FROM lbp_index i JOIN index_pathway w ON w.person_id = i.person_id
WHERE {condition}
GROUP BY i.person_id
"""  # noqa: S608


def _given(kind: str) -> str:
    return f"""
SELECT ip.person_id, p.performed_on AS event_date,
       format('{kind.replace("_", " ")} on {{}}', p.performed_on) AS detail
FROM ip JOIN procedures p ON p.person_id = ip.person_id CROSS JOIN params
WHERE p.kind = '{kind}' AND p.performed_on BETWEEN ip.d AND params.period_end
"""  # noqa: S608


EXERCISE = Measure(
    id="ng59-exercise",
    title="Exercise programme taken up when the pathway recommended one (NICE NG59)",
    sql=measure_sql(_recommended(care_plan_has(EXERCISE_ITEM)), [], _given("exercise_programme")),
    numerator_is_good=True,
    gap="no exercise programme after the pathway recommended one",
)

PSYCHOLOGICAL = Measure(
    id="ng59-psychological",
    title="Combined physical and psychological programme at high STarT Back risk (NICE NG59)",
    sql=measure_sql(
        _recommended(f"w.startback_group = 'high' OR {care_plan_has(COMBINED_ITEM)}"),
        [],
        _given("psychological_programme"),
    ),
    numerator_is_good=True,
    gap="no combined physical and psychological programme at high risk",
)
