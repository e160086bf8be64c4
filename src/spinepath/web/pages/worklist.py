"""The clinic's worklist order, shared by the page and the API so that both list the same
patients in the same order with the same facts.

Order: patients with an alert nobody has seen; then alerts seen but not yet actioned; then
questionnaires stopped at the emergency screen that raised no open alert (stopped before the
patient joined the clinic, or the alert was actioned and the patient has not gone on); then
everyone else by the stored urgency (``repository.worklist``). Within the alert groups the most
urgent alert leads, then the oldest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from spinepath.care import alerts
from spinepath.pathway.assessment import Level
from spinepath.store import repository
from spinepath.store.models import Alert, IntakeDraft
from spinepath.web.pages.clinical import Stop, emergency_stop


@dataclass(frozen=True)
class Entry:
    row: repository.WorklistRow
    stop: Stop | None
    """The emergency stop of a questionnaire not yet sent, if any."""
    open_alerts: tuple[Alert, ...]
    """Alerts not yet actioned, oldest first."""

    @property
    def unseen_alerts(self) -> int:
        return sum(1 for a in self.open_alerts if a.seen_at is None)

    @property
    def group(self) -> int:
        if self.unseen_alerts:
            return 0
        if self.open_alerts:
            return 1
        return 2 if self.stop is not None else 3

    def sort_key(self) -> tuple[int, int, float]:
        if not self.open_alerts:
            return (self.group, 0, 0.0)
        top = max(Level(a.level).rank for a in self.open_alerts)
        oldest = min(a.created_at.timestamp() for a in self.open_alerts)
        return (self.group, -top, oldest)


def pending_stop(draft: IntakeDraft | None, assessed_at: dt.datetime | None) -> Stop | None:
    """The emergency stop of a draft newer than the latest assessment (not sent yet)."""
    if draft is None or (assessed_at is not None and draft.updated_at <= assessed_at):
        return None
    return emergency_stop(dict(draft.answers))


def ordered(session: Session, clinic_id: int) -> list[Entry]:
    rows = repository.worklist(session, clinic_id)
    drafts = repository.drafts_by_patient(session, [r.patient.id for r in rows])
    open_by_patient = alerts.open_alerts_by_patient(session, clinic_id)
    entries = [
        Entry(
            row,
            pending_stop(drafts.get(row.patient.id), row.assessed_at),
            tuple(open_by_patient.get(row.patient.id, ())),
        )
        for row in rows
    ]
    # sorted() is stable: within a group the urgency order of repository.worklist stands.
    return sorted(entries, key=Entry.sort_key)
