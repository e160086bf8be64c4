"""Fixtures of the order-service tests: an EHR that signs its calls and may call from a browser,
and the app trusting it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spinepath.settings import CdsClient
from support.web import World, create_test_app, make_settings

from .ehr import ISSUER, SERVICE_BASE, SimulatedEhr, simulated_ehr
from .fhir_server import FhirServer, fhir_server

EHR_ORIGIN = "https://ehr-web.example.org"


@pytest.fixture
def signing_ehr() -> Iterator[SimulatedEhr]:
    with simulated_ehr() as found:
        yield found


@pytest.fixture
def order_cds(
    signing_ehr: SimulatedEhr, database_url: str, tmp_path: Path, world: World
) -> Iterator[TestClient]:
    client = CdsClient(
        iss=ISSUER, jwks_url=signing_ehr.jwks_url, clinic="Clinic A", origins=[EHR_ORIGIN]
    )
    settings = make_settings(database_url, tmp_path, public_url=SERVICE_BASE, cds_clients=[client])
    with TestClient(create_test_app(settings)) as found:
        yield found


@pytest.fixture
def ehr_fhir() -> Iterator[FhirServer]:
    with fhir_server() as found:
        yield found
