"""The patient-view card: what spinepath knows of the patient the clinician has open.

The card carries what a clinician acts on in the record: the urgency, alerts not yet actioned,
the STarT Back group, the follow-up questionnaires due and whether a surgical opinion is
warranted, with a link into spinepath (a SMART launch when the EHR is registered for one).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from spinepath.care import alerts, followups
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.models import Clinic, Patient
from spinepath.web.cds.models import Card, CdsResponse, HookRequest, Link, Source
from spinepath.web.pages.rendering import level_label
from spinepath.web.pages.shared import site_base

SOURCE = Source(label="spinepath back-pain pathway")


def _links(base: str, settings: Settings, clinic: Clinic, page: str, label: str) -> list[Link]:
    links = [Link(label=label, url=f"{base}{page}", type="absolute")]
    # The EHR launches a smart link itself, adding iss and launch: only offered when spinepath is
    # registered as a SMART app of an EHR serving this clinic.
    if any(ehr.clinic == clinic.name for ehr in settings.smart_ehrs):
        links.append(
            Link(label="Open spinepath for this patient", url=f"{base}/smart/launch", type="smart")
        )
    return links


def _details(assessment: dict[str, Any], due: followups.DueVisit | None) -> list[str]:
    startback = assessment.get("startback", {}).get("risk_group")
    surgical = assessment.get("surgical", {})
    lines = [
        str(assessment["triage"]["headline"]),
        f"- **STarT Back**: {f'{startback} risk' if startback else 'not completed'}",
    ]
    if surgical.get("summary"):
        lines.append(f"- **Surgical opinion**: {surgical['summary']}")
    if due is not None:
        lines.append(
            f"- **Follow-up due** ({due.label}): {', '.join(due.codes)}, since "
            f"{due.target:%d %b %Y}"
        )
    return lines


def patient_view(
    request: Request, session: Session, settings: Settings, clinic: Clinic, hook: HookRequest
) -> CdsResponse:
    patient_id = hook.context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise HTTPException(status_code=400, detail="context.patientId is required")
    # The clinic links a patient by using the record's patient id as its reference when inviting
    # them (or through a SMART launch, which does the same).
    patient = session.scalar(
        select(Patient).where(Patient.clinic_id == clinic.id, Patient.reference == patient_id)
    )
    base = site_base(request, settings)
    if patient is None:
        card = Card(
            uuid=str(uuid.uuid4()),
            summary="No spinepath back-pain assessment for this patient yet.",
            indicator="info",
            source=SOURCE,
            links=_links(base, settings, clinic, "/clinic/invite", "Invite the patient"),
        )
        return CdsResponse(cards=[card])
    record = repository.latest_assessment(session, patient)
    open_alerts = alerts.open_alerts_for_patient(session, patient.id)
    level = level_label(record.level) if record is not None else "no assessment sent yet"
    summary = f"spinepath: {level}"
    if open_alerts:
        summary += f"; {len(open_alerts)} alert(s) not yet actioned"
    lines: list[str] = []
    if record is not None:
        lines = [
            *_details(record.assessment, followups.due_visit(session, settings, patient)),
            f"Assessed {record.created_at:%d %b %Y}.",
        ]
    urgent = bool(open_alerts) or (record is not None and record.level in ("urgent", "emergency"))
    card = Card(
        uuid=str(uuid.uuid4()),
        summary=summary[:139],
        detail="\n".join(lines) or None,
        indicator="critical" if urgent else "info",
        source=SOURCE,
        links=_links(base, settings, clinic, f"/clinic/patients/{patient.id}", "Open in spinepath"),
    )
    return CdsResponse(cards=[card])
