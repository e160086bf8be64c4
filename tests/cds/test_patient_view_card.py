"""What the patient-view card tells a clinician about a linked patient: the STarT Back group,
the surgical opinion, follow-ups due, and a SMART link when the EHR can launch spinepath."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.settings import CdsClient, SmartEhr
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.web.cds.models import Card, CdsResponse
from support.intakes import low_back_pain
from support.web import World, create_test_app, make_settings, save_assessment

from .ehr import ISSUER, SERVICE_BASE, SimulatedEhr, simulated_ehr

PATIENT_VIEW = "/cds-services/spinepath-patient-view"
HOOK = {
    "hook": "patient-view",
    "hookInstance": "0f3d1c9e-3c55-4b8e-9d3e-6f1f8f1f2a10",
    "context": {"userId": "Practitioner/example", "patientId": "ehr-123"},
}


@pytest.fixture
def ehr() -> Iterator[SimulatedEhr]:
    with simulated_ehr() as found:
        yield found


def _client(ehr: SimulatedEhr, database_url: str, tmp_path: Path, smart_clinic: str | None) -> Any:
    smart = (
        [SmartEhr(iss="https://ehr.example.org/fhir", client_id="spinepath", clinic=smart_clinic)]
        if smart_clinic
        else []
    )
    settings = make_settings(
        database_url,
        tmp_path,
        public_url=SERVICE_BASE,
        cds_clients=[CdsClient(iss=ISSUER, jwks_url=ehr.jwks_url, clinic="Clinic A")],
        smart_ehrs=smart,
    )
    return TestClient(create_test_app(settings))


def _card(client: TestClient, ehr: SimulatedEhr) -> Card:
    response = client.post(
        PATIENT_VIEW, json=HOOK, headers={"Authorization": f"Bearer {ehr.token(PATIENT_VIEW)}"}
    )
    assert response.status_code == 200, response.text
    [card] = CdsResponse.model_validate(response.json()).cards
    return card


def _linked(database: Database, world: World, intake: dict[str, Any]) -> str:
    with database.session() as session:
        patient, _link = repository.create_patient(session, world.clinic_a, reference="ehr-123")
    save_assessment(database, patient.id, intake)
    return patient.id


def test_the_card_gives_the_startback_group_and_the_surgical_opinion(
    ehr: SimulatedEhr, database: Database, database_url: str, tmp_path: Path, world: World
) -> None:
    intake = low_back_pain()
    _linked(database, world, intake)
    expected = assess(Intake.model_validate(intake))
    with _client(ehr, database_url, tmp_path, None) as client:
        card = _card(client, ehr)
    assert card.detail is not None
    group = expected.startback.risk_group
    assert f"**STarT Back**: {f'{group} risk' if group else 'not completed'}" in card.detail
    assert f"**Surgical opinion**: {expected.surgical.summary}" in card.detail
    assert expected.triage.headline in card.detail
    assert card.links is not None
    assert [link.type for link in card.links] == ["absolute"]


@pytest.mark.parametrize(
    ("smart_clinic", "smart_link"),
    [("Clinic A", True), ("Clinic B", False), (None, False)],
    ids=["SMART app of this clinic's EHR", "SMART app of another clinic", "no SMART app"],
)
def test_a_smart_link_is_offered_only_when_this_clinics_ehr_can_launch_spinepath(
    ehr: SimulatedEhr,
    database: Database,
    database_url: str,
    tmp_path: Path,
    world: World,
    smart_clinic: str | None,
    smart_link: bool,
) -> None:
    _linked(database, world, low_back_pain())
    with _client(ehr, database_url, tmp_path, smart_clinic) as client:
        card = _card(client, ehr)
    assert card.links is not None
    smart = [link for link in card.links if link.type == "smart"]
    assert bool(smart) is smart_link
    if smart:
        assert str(smart[0].url) == f"{SERVICE_BASE}/smart/launch"
