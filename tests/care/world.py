"""A clinic with alert channels and a patient, for the care-loop tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import AlertChannel, AssessmentRecord, Patient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WEBHOOK_SECRET = "webhook-secret-for-tests"
BASE = "https://spine.example.org"


def example(name: str) -> Intake:
    return Intake.model_validate(json.loads((EXAMPLES / f"{name}.json").read_text("utf-8")))


@dataclass(frozen=True)
class CareWorld:
    clinic_id: int
    patient_id: str
    link: str


def care_world(
    database: Database,
    *,
    email: str | None = "team@clinic.example",
    webhook: str | None = None,
    include_reference: bool = False,
) -> CareWorld:
    with database.session() as session:
        clinic = repository.create_clinic(session, "Riverside Spine Clinic")
        patient, link = repository.create_patient(session, clinic.id, reference="JB-0042")
        if email is not None:
            session.add(
                AlertChannel(
                    clinic_id=clinic.id,
                    kind="email",
                    target=email,
                    include_reference=include_reference,
                )
            )
        if webhook is not None:
            session.add(
                AlertChannel(
                    clinic_id=clinic.id,
                    kind="webhook",
                    target=webhook,
                    secret=WEBHOOK_SECRET,
                    include_reference=include_reference,
                )
            )
        return CareWorld(clinic.id, patient.id, link)


def store_assessment(database: Database, patient_id: str, intake: Intake) -> AssessmentRecord:
    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return repository.save_assessment(session, patient, intake, assess(intake))
