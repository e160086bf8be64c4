"""Outcome questionnaires: completion at each time point, and responders by the minimal
clinically important difference (MCID) held in spinepath's instrument registry.

Definitions: docs/measures/prom-completion-*.md and prom-mcid-responders.md.
"""

from __future__ import annotations

from spinepath.instruments import catalogue
from spinepath.population.measures.definitions import Kind, Measure
from spinepath.population.tables import TIMEPOINTS

MCID_INSTRUMENTS = ("odi", "ndi")
"""The disability questionnaires the responder measure reads, in the order one is chosen when a
person has a baseline on both."""
FOLLOW_UP_ORDER = ("12_months", "3_months", "6_weeks")
"""The follow-up compared with baseline: 12 months, or else the last one completed."""
EPSILON = 1e-9
"""The registry's slack for threshold comparisons (instruments/progress.py), so that 35.56 - 25.56
counts as 10 points."""


def completion_id(timepoint: str) -> str:
    return f"prom-completion-{timepoint.replace('_', '-')}"


def _completion(timepoint: str) -> Measure:
    sql = f"""
WITH due AS (
    SELECT r.person_id, r.instrument, r.due_on, r.completed_on
    FROM proms r JOIN people pe ON pe.person_id = r.person_id CROSS JOIN params
    WHERE r.timepoint = '{timepoint}' AND r.due_on BETWEEN params.period_start AND params.period_end
),
per_person AS (
    SELECT person_id, min(due_on) AS d, bool_and(completed_on IS NOT NULL) AS done,
           max(completed_on) AS last_completed,
           string_agg(CASE WHEN completed_on IS NULL
                           THEN format('{{}} due on {{}}', instrument, due_on) END,
                      '; ' ORDER BY due_on, instrument) AS missing
    FROM due GROUP BY person_id
)
SELECT person_id, d AS index_date, CAST(NULL AS VARCHAR) AS exclusion_reason,
       done AS in_numerator,
       CASE WHEN done THEN last_completed END AS event_date,
       CASE WHEN done THEN CAST(last_completed - d AS INTEGER) END AS days,
       CASE WHEN done THEN format('completed by {{}}', last_completed)
            ELSE format('not completed: {{}}', missing) END AS detail
FROM per_person
"""  # noqa: S608
    label = timepoint.replace("_", " ")
    return Measure(
        id=completion_id(timepoint),
        title=f"Outcome questionnaires completed at {label}",
        sql=sql,
        numerator_is_good=True,
        gap=f"outcome questionnaire due at {label} not completed",
    )


COMPLETION = tuple(_completion(timepoint) for timepoint in TIMEPOINTS)


def _thresholds() -> str:
    rows = []
    for rank, code in enumerate(MCID_INSTRUMENTS):
        mcid = catalogue.get(code).mcid
        if mcid is None:
            raise ValueError(f"{code}: the registry holds no MCID")
        relative = "NULL" if mcid.relative is None else repr(float(mcid.relative))
        rows.append(f"('{code}', {float(mcid.absolute)!r}, {relative}, {rank})")
    values = ", ".join(rows)
    return f"SELECT * FROM (VALUES {values}) t(instrument, absolute, relative, rank)"  # noqa: S608


def _order(column: str) -> str:
    cases = " ".join(f"WHEN '{t}' THEN {n}" for n, t in enumerate(FOLLOW_UP_ORDER))
    return f"CASE {column} {cases} END"


def baseline_ctes() -> str:
    """``baseline``: each person's first baseline ODI (else NDI) completed with a score and due
    in the period; ``follow``: the follow-up it is compared with."""
    follow_ups = ", ".join(f"'{t}'" for t in FOLLOW_UP_ORDER)
    return f"""
thresholds AS ({_thresholds()}),
baseline AS (
    SELECT r.person_id, r.instrument, r.score, r.due_on, r.completed_on,
           t.absolute, t.relative, pe.birth_date, pe.sex
    FROM proms r JOIN thresholds t ON t.instrument = r.instrument
    JOIN people pe ON pe.person_id = r.person_id CROSS JOIN params
    WHERE r.timepoint = 'baseline' AND r.score IS NOT NULL AND r.completed_on IS NOT NULL
      AND r.due_on BETWEEN params.period_start AND params.period_end
    QUALIFY row_number() OVER (PARTITION BY r.person_id ORDER BY t.rank, r.due_on) = 1
),
follow AS (
    SELECT b.person_id, f.score, f.completed_on, f.timepoint
    FROM baseline b JOIN proms f ON f.person_id = b.person_id AND f.instrument = b.instrument
    WHERE f.timepoint IN ({follow_ups}) AND f.score IS NOT NULL AND f.completed_on IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY b.person_id ORDER BY {_order("f.timepoint")}, f.completed_on DESC) = 1
)"""  # noqa: S608


_RESPONDER = f"""
    b.score - f.score >= b.absolute - {EPSILON}
    AND (b.relative IS NULL
         OR (b.score <> 0 AND (b.score - f.score) / b.score >= b.relative - {EPSILON}))"""

_MCID_SQL = f"""
WITH {baseline_ctes()}
SELECT b.person_id, b.due_on AS index_date,
       CASE WHEN f.person_id IS NULL THEN 'no_follow_up_score' END AS exclusion_reason,
       coalesce({_RESPONDER}, FALSE) AS in_numerator,
       f.completed_on AS event_date,
       CAST(f.completed_on - b.completed_on AS INTEGER) AS days,
       CASE WHEN f.person_id IS NOT NULL
            THEN format('{{}} {{}} at baseline, {{}} at {{}}', b.instrument, b.score, f.score,
                        replace(f.timepoint, '_', ' ')) END AS detail
FROM baseline b LEFT JOIN follow f ON f.person_id = b.person_id
"""  # noqa: S608

COVARIATES_SQL = f"""
WITH {baseline_ctes()},
onsets AS (
    SELECT b.person_id, e.onset_date
    FROM baseline b JOIN episodes e ON e.person_id = b.person_id
    WHERE e.region = 'low_back' AND e.diagnosis_date <= b.due_on
    QUALIFY row_number() OVER (
        PARTITION BY b.person_id ORDER BY e.diagnosis_date DESC, e.episode_id DESC) = 1
)
SELECT b.person_id, CAST(age_on(b.birth_date, b.due_on) AS DOUBLE) AS age,
       coalesce(b.sex, 'unknown') AS sex, b.instrument, b.score AS baseline,
       (b.due_on - o.onset_date) / 7.0 AS duration_weeks
FROM baseline b JOIN follow f ON f.person_id = b.person_id
LEFT JOIN onsets o ON o.person_id = b.person_id
"""  # noqa: S608
"""The case-mix of the responder measure's denominator: age at baseline, sex, instrument,
baseline score and weeks of pain at baseline (from the onset of the latest low back pain episode
diagnosed by then; null when unknown)."""

MCID_RESPONDERS = Measure(
    id="prom-mcid-responders",
    title="Improved by at least the minimal clinically important difference (ODI or NDI), "
    "case-mix adjusted",
    sql=_MCID_SQL,
    numerator_is_good=True,
    gap="did not improve by the minimal clinically important difference",
    kind=Kind.CASE_MIX,
)
