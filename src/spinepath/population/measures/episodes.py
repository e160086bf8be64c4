"""The helper tables the measures share, built once per run since every measure reads them:
low back pain episodes, each person's index episode and what the pathway decided for it.

* ``lbp_episodes``: every low back pain episode with a diagnosis date, joined to its person
  (people absent from ``people`` are left out: they have no age or clinic), flagged
  ``prior_lbp`` when the person had another one in the 180 days before.
* ``lbp_index``: each person's first low back pain episode diagnosed in the period at 16 or over
  (NICE NG59 and QS155 cover people aged 16 and over).
* ``index_pathway``: the pathway's decisions for the index episode: the assessments recorded
  against it, or, for an assessment with no episode, those made within 28 days of its diagnosis.
* ``index_status``: per index episode, whether the pathway saw sciatica (the radicular pattern),
  suspected serious pathology (a red-flag concern, imaging advised, or an urgent or emergency
  level), and placed it urgent or emergency. Each is null when no assessment matches.
"""

from __future__ import annotations

import duckdb

NEGATIVE_HISTORY_DAYS = 180
"""HEDIS LBP's negative diagnosis history (CMS166v7: low back pain within 180 days before)."""

MINIMUM_AGE = 16
PATHWAY_WINDOW_DAYS = 28
SCIATICA_PATTERN = "radicular"
URGENT_LEVELS = ("emergency", "urgent")

VIEWS = f"""
CREATE MACRO age_on(birth, d) AS
    date_diff('year', birth, d)
    - CASE WHEN month(d) * 100 + day(d) < month(birth) * 100 + day(birth) THEN 1 ELSE 0 END;

CREATE TABLE lbp_episodes AS
SELECT e.person_id, e.episode_id, e.diagnosis_date AS d, e.onset_date, e.setting,
       p.birth_date, p.sex, p.clinic_id,
       EXISTS (
           SELECT 1 FROM episodes x
           WHERE x.person_id = e.person_id AND x.region = 'low_back'
             AND x.diagnosis_date >= e.diagnosis_date - {NEGATIVE_HISTORY_DAYS}
             AND x.diagnosis_date < e.diagnosis_date
       ) AS prior_lbp
FROM episodes e JOIN people p ON p.person_id = e.person_id
WHERE e.region = 'low_back' AND e.diagnosis_date IS NOT NULL;

CREATE TABLE lbp_index AS
SELECT l.* FROM lbp_episodes l, params
WHERE l.d BETWEEN params.period_start AND params.period_end
  AND age_on(l.birth_date, l.d) >= {MINIMUM_AGE}
QUALIFY row_number() OVER (PARTITION BY l.person_id ORDER BY l.d, l.episode_id) = 1;

CREATE TABLE index_pathway AS
SELECT i.person_id, w.assessment_id, w.assessed_on, w.level, w.concerns, w.pattern,
       w.referral_due, w.imaging_indicated, w.startback_group, w.care_plan
FROM lbp_index i
JOIN pathway w ON w.person_id = i.person_id
LEFT JOIN (SELECT DISTINCT assessment_id, episode_id FROM assessments) a
    ON a.assessment_id = w.assessment_id
WHERE w.assessed_on IS NOT NULL AND CASE
    WHEN a.episode_id IS NOT NULL THEN a.episode_id = i.episode_id
    ELSE w.assessed_on BETWEEN i.d - {PATHWAY_WINDOW_DAYS} AND i.d + {PATHWAY_WINDOW_DAYS}
END;

CREATE TABLE index_status AS
SELECT i.person_id,
       bool_or(w.pattern = '{SCIATICA_PATTERN}') AS sciatica,
       bool_or(len(w.concerns) > 0 OR w.imaging_indicated
               OR w.level IN ('{URGENT_LEVELS[0]}', '{URGENT_LEVELS[1]}')) AS serious_suspected,
       bool_or(w.level IN ('{URGENT_LEVELS[0]}', '{URGENT_LEVELS[1]}')) AS urgent
FROM lbp_index i LEFT JOIN index_pathway w ON w.person_id = i.person_id
GROUP BY i.person_id;
"""  # noqa: S608


def create_helper_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Add the shared tables to a connection from :func:`.dataset.open_dataset`."""
    con.execute(VIEWS)


def care_plan_has(item: str) -> str:
    """SQL: the index pathway row ``w`` recommended the care-plan item ``item``."""
    return f"list_contains(w.care_plan, '{item}')"


def sciatica_reasons() -> list[str]:
    """Exclusion queries for measures of low back pain *without* sciatica: the pathway saw
    sciatica, or no assessment says whether there is any."""
    return [
        "SELECT ip.person_id, 'sciatica' AS reason FROM ip "
        "JOIN index_status s ON s.person_id = ip.person_id WHERE s.sciatica",
        "SELECT ip.person_id, 'sciatica_unknown' AS reason FROM ip "
        "JOIN index_status s ON s.person_id = ip.person_id WHERE s.sciatica IS NULL",
    ]
