"""Input and output bodies of the patient endpoints (separate from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from spinepath.instruments.scoring import Answer, ScoreResult
from spinepath.pathway.assessment import Assessment, Level


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientCreate(Strict):
    reference: str | None = Field(
        default=None,
        max_length=100,
        description="A label for your worklist (e.g. initials or a local number).",
    )


class PatientSummary(BaseModel):
    id: str
    reference: str | None
    created_at: dt.datetime
    level: Level | None = Field(description="Urgency of the latest assessment; null if none yet.")
    unanswered_red_flags: int
    headline: str | None
    assessed_at: dt.datetime | None
    assessment_count: int
    stopped_at_emergency: bool = Field(
        description="The questionnaire stopped at the emergency screen and was not sent: "
        "`level` is null because no assessment was made, but the patient was told to call 999."
    )
    emergency_findings: list[str] = Field(description="Why it stopped (empty otherwise).")
    open_alerts: int = Field(description="Alerts not yet actioned.")
    unseen_alerts: int = Field(description="Alerts nobody has marked as seen.")


class AlertOut(BaseModel):
    id: int
    patient_id: str
    kind: str = Field(description="emergency_stop, emergency_result or urgent_result.")
    level: Level
    findings: list[str]
    created_at: dt.datetime
    seen_at: dt.datetime | None
    seen_by: int | None = Field(description="User id of whoever marked it seen.")
    actioned_at: dt.datetime | None
    actioned_by: int | None


class PatientInvitation(BaseModel):
    patient: PatientSummary
    link_token: str = Field(description="Shown once; the patient's private link. Not stored.")
    link_path: str


class AssessmentOut(BaseModel):
    id: int
    created_at: dt.datetime
    level: Level
    engine_version: str
    knowledge_version: str
    assessment: Assessment


class ResponseIn(Strict):
    instrument: str = Field(max_length=40, examples=["odi"])
    answers: dict[str, Answer] = Field(max_length=100)
    taken_on: dt.date | None = Field(default=None, description="Defaults to today (UTC).")


class ResponseOut(BaseModel):
    id: int
    instrument: str
    taken_on: dt.date
    answers: dict[str, Any]
    score: ScoreResult


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    id: int
    created_at: dt.datetime
    author: str | None
    text: str


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor_kind: str
    actor_id: str | None
    action: str
    patient_id: str | None
    clinic_id: int | None
    route: str
    outcome: str
