"""What a measure is: its id, its direction, and the SQL that places each person in it.

Each measure's query runs on a DuckDB connection prepared by :mod:`.dataset` (a view per table,
``params`` holding the measurement period, the helper views of :mod:`.episodes`) and returns one
row per person in the initial population with the columns of :data:`PERSON_COLUMNS`. The
definition document of each measure is ``docs/measures/<id>.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PERSON_COLUMNS = (
    "person_id",  # VARCHAR
    "index_date",  # DATE
    "exclusion_reason",  # VARCHAR, null when the person is in the denominator
    "in_numerator",  # BOOLEAN
    "event_date",  # DATE, nullable
    "days",  # INTEGER, nullable
    "detail",  # VARCHAR, nullable
)
"""The columns every measure query returns, in this order."""


class Kind(Enum):
    PROPORTION = "proportion"
    TIME_TO_EVENT = "time_to_event"  # also reports Kaplan-Meier quantiles of ``days``
    CASE_MIX = "case_mix"  # also reports expected counts and adjusted rates


@dataclass(frozen=True)
class Measure:
    """One quality measure.

    ``numerator_is_good`` says whether being in the numerator is the care that should happen
    (a higher rate is better) or the care that should not (a lower rate is better).
    ``inverted`` measures are reported as 1 - rate, as HEDIS reports its imaging measure.
    ``gap`` names, for the gaps-in-care lists, what went wrong for a person in the gap.
    """

    id: str
    title: str
    sql: str
    numerator_is_good: bool
    gap: str
    inverted: bool = False
    kind: Kind = Kind.PROPORTION

    @property
    def higher_is_better(self) -> bool:
        """Whether a higher ``reported_rate`` is better."""
        return self.numerator_is_good != self.inverted

    def in_gap(self, in_numerator: bool) -> bool:
        """Whether a person of the denominator belongs on the gaps-in-care list."""
        return in_numerator != self.numerator_is_good
