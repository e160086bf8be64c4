"""Assembling a measure's query from its parts: who is in, why some are excluded, what happened.

Every query of this package is assembled from the package's own constants and column names,
which is why the string-built SQL is waived (``noqa: S608``): no value read from a data set is
ever put into SQL text, and the period comes in as query parameters (table ``params``).

Every measure is the same shape: an initial population (one row per person with an index date
``d``), a list of exclusion queries (``person_id``, ``reason``), and an event query (``person_id``,
``event_date``, ``detail``) whose earliest row puts the person in the numerator.
"""

from __future__ import annotations

from collections.abc import Sequence


def measure_sql(ip: str, reasons: Sequence[str], events: str) -> str:
    """The query returning :data:`.definitions.PERSON_COLUMNS` from the three parts.

    ``ip`` selects ``person_id`` and ``d`` (and anything the other parts read, as ``ip.<name>``);
    each of ``reasons`` selects ``person_id`` and ``reason`` from ``ip``; ``events`` selects
    ``person_id``, ``event_date`` and ``detail``. A person excluded for several reasons keeps them
    all, in the order of ``reasons``, and alphabetically among those one query gives (so that the
    text is the same from run to run)."""
    numbered = [
        f"SELECT person_id, reason, {n} AS ord FROM ({sql})"  # noqa: S608
        for n, sql in enumerate(reasons)
    ]
    reason_rows = (
        " UNION ALL ".join(numbered) or "SELECT NULL AS person_id, NULL AS reason, 0 AS ord"
    )
    return f"""
WITH ip AS ({ip}),
reason_rows AS (
    SELECT DISTINCT person_id, reason, ord FROM ({reason_rows}) WHERE person_id IS NOT NULL
),
excluded AS (
    SELECT person_id, string_agg(reason, '; ' ORDER BY ord, reason) AS exclusion_reason
    FROM reason_rows GROUP BY person_id
),
event_rows AS ({events}),
first_event AS (
    SELECT person_id, min(event_date) AS event_date,
           arg_min(detail, CAST(event_date AS VARCHAR) || coalesce(detail, '')) AS detail
    FROM event_rows GROUP BY person_id
)
SELECT ip.person_id, ip.d AS index_date, excluded.exclusion_reason,
       first_event.event_date IS NOT NULL AS in_numerator, first_event.event_date,
       CAST(first_event.event_date - ip.d AS INTEGER) AS days, first_event.detail
FROM ip
LEFT JOIN excluded ON excluded.person_id = ip.person_id
LEFT JOIN first_event ON first_event.person_id = ip.person_id
"""  # noqa: S608


def literal(text: str) -> str:
    """``text`` as an SQL string literal: for the code's own constants and for file paths, which
    DuckDB's ``COPY`` and views cannot take as query parameters."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values: Sequence[str]) -> str:
    """``('a', 'b')`` for SQL ``IN``; the values are the code's own constants, never input."""
    return "(" + ", ".join(literal(value) for value in values) + ")"
