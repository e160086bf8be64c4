"""Today's date where spinepath runs."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """The local calendar date.

    Follow-ups fall due on the clinic's calendar, not UTC's: a questionnaire due "today" must not
    turn overdue at 00:00 UTC in a clinic that is still in the evening of the day before.
    """
    return datetime.now(tz=UTC).astimezone().date()
