"""Fixtures of the SMART launch tests: the simulated EHR on loopback, spinepath registered with it
as ``http://testserver`` (the test client's address), and a launch driven as a browser would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spinepath.settings import Settings, SmartEhr
from support.ehr_sim import CLIENT_ID, SimulatedEhr, running_ehr
from support.web import World, create_test_app, make_settings

from .flow import APP_URL


@pytest.fixture
def ehr() -> Iterator[SimulatedEhr]:
    with running_ehr(APP_URL) as found:
        yield found


@pytest.fixture
def smart_settings(database_url: str, tmp_path: Path, ehr: SimulatedEhr) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        smart_ehrs=[SmartEhr(iss=ehr.fhir_base, client_id=CLIENT_ID, clinic="Clinic A")],
    )


@pytest.fixture
def smart(smart_settings: Settings, world: World) -> Iterator[TestClient]:
    """spinepath with clinic A (the EHR's) and clinic B, and their people."""
    with TestClient(create_test_app(smart_settings)) as client:
        yield client
