"""The CDS Hooks service: every call authenticated by the EHR's JWT as the 2.0 specification
requires; discovery, patient-view cards and feedback valid against models written from it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select

from spinepath.settings import CdsClient
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent, CdsFeedback, Patient
from spinepath.web.cds.models import CdsResponse, Discovery
from support.web import World, create_test_app, make_settings, save_assessment

from .ehr import ISSUER, SERVICE_BASE, SimulatedEhr, simulated_ehr

DISCOVERY = "/cds-services"
PATIENT_VIEW = "/cds-services/spinepath-patient-view"
FEEDBACK = PATIENT_VIEW + "/feedback"


@pytest.fixture
def ehr() -> Iterator[SimulatedEhr]:
    with simulated_ehr() as found:
        yield found


@pytest.fixture
def cds(ehr: SimulatedEhr, database_url: str, tmp_path: Path, world: World) -> Iterator[TestClient]:
    settings = make_settings(
        database_url,
        tmp_path,
        public_url=SERVICE_BASE,
        cds_clients=[CdsClient(iss=ISSUER, jwks_url=ehr.jwks_url, clinic="Clinic A")],
    )
    with TestClient(create_test_app(settings)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _hook(patient_id: str = "ehr-123", hook: str = "patient-view") -> dict[str, Any]:
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }


def test_discovery_answers_a_signed_call_with_valid_services(
    cds: TestClient, ehr: SimulatedEhr
) -> None:
    response = cds.get(DISCOVERY, headers=_bearer(ehr.token(DISCOVERY)))
    assert response.status_code == 200
    found = Discovery.model_validate(response.json())
    assert [s.id for s in found.services] == [
        "spinepath-patient-view",
        "spinepath-order-select",
        "spinepath-order-sign",
    ]
    rsa_signed = ehr.token(DISCOVERY, algorithm="RS384")
    assert cds.get(DISCOVERY, headers=_bearer(rsa_signed)).status_code == 200


def _unsigned(ehr: SimulatedEhr) -> str:
    """An "alg": "none" token, written by hand: libraries rightly make it hard to produce."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": SERVICE_BASE + DISCOVERY, "exp": now + 60, "iat": now}

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT", "kid": "ec-1"}
    return f"{part(header)}.{part({**claims, 'jti': 'x'})}."


REFUSALS: dict[str, Any] = {
    "expired": lambda e: e.token(DISCOVERY, lifetime=-120),
    "wrong audience": lambda e: e.token(PATIENT_VIEW),
    "unknown issuer": lambda e: e.token(DISCOVERY, issuer="https://evil.example"),
    "HMAC": lambda e: e.token(DISCOVERY, algorithm="HS256", key="a shared secret" * 3),
    "none": _unsigned,
    "unknown kid": lambda e: e.token(DISCOVERY, kid="other"),
    "another key": lambda e: e.token(DISCOVERY, key=ec.generate_private_key(ec.SECP384R1())),
    "no jti": lambda e: e.token(DISCOVERY, drop=("jti",)),
    "no exp": lambda e: e.token(DISCOVERY, drop=("exp",)),
    "not a JWT typ": lambda e: e.token(DISCOVERY, typ="at+jwt"),
    "garbage": lambda e: "not.a.token",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_call_without_a_valid_token_is_refused(
    cds: TestClient, ehr: SimulatedEhr, case: str
) -> None:
    response = cds.get(DISCOVERY, headers=_bearer(REFUSALS[case](ehr)))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_no_token_and_a_replayed_token_are_refused(cds: TestClient, ehr: SimulatedEhr) -> None:
    assert cds.get(DISCOVERY).status_code == 401
    token = ehr.token(DISCOVERY, jti="once-only")
    assert cds.get(DISCOVERY, headers=_bearer(token)).status_code == 200
    replay = cds.get(DISCOVERY, headers=_bearer(token))
    assert replay.status_code == 401
    assert "used before" in replay.text


def test_patient_view_invites_a_patient_spinepath_does_not_know(
    cds: TestClient, ehr: SimulatedEhr
) -> None:
    response = cds.post(PATIENT_VIEW, json=_hook(), headers=_bearer(ehr.token(PATIENT_VIEW)))
    assert response.status_code == 200
    [card] = CdsResponse.model_validate(response.json()).cards
    assert card.indicator == "info"
    assert card.links is not None
    assert str(card.links[0].url) == SERVICE_BASE + "/clinic/invite"
    assert None not in response.json()["cards"][0].values()


def test_patient_view_summarises_the_linked_patients_assessment_and_alerts(
    cds: TestClient, ehr: SimulatedEhr, database: Database, world: World
) -> None:
    from support.intakes import low_back_pain

    with database.session() as session:
        patient, _link = repository.create_patient(session, world.clinic_a, reference="ehr-123")
        other, _ = repository.create_patient(session, world.clinic_b, reference="ehr-999")
    save_assessment(database, patient.id, {**low_back_pain(), "systemic": {"fever": True}})
    response = cds.post(PATIENT_VIEW, json=_hook(), headers=_bearer(ehr.token(PATIENT_VIEW)))
    [card] = CdsResponse.model_validate(response.json()).cards
    assert card.indicator == "critical"
    assert len(card.summary) < 140
    assert card.links is not None
    assert str(card.links[0].url) == f"{SERVICE_BASE}/clinic/patients/{patient.id}"
    # Clinic B's patient is not this EHR's to see, whatever id is asked for.
    other_view = cds.post(
        PATIENT_VIEW, json=_hook("ehr-999"), headers=_bearer(ehr.token(PATIENT_VIEW))
    )
    assert other.id not in other_view.text
    with database.session() as session:
        audited = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "cds_patient-view")
        ).all()
        assert len(audited) == 2
        assert session.get(Patient, patient.id) is not None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"hook": "patient-view"}, 400),
        ({**_hook(), "context": {}}, 400),
        (_hook(hook="order-select"), 400),
        (
            {
                **_hook(),
                "fhirAuthorization": {
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "patient/*.read",
                    "subject": "spinepath",
                },
            },
            400,
        ),
    ],
)
def test_bad_hook_requests_are_refused_with_400(
    cds: TestClient, ehr: SimulatedEhr, body: dict[str, Any], status: int
) -> None:
    response = cds.post(PATIENT_VIEW, json=body, headers=_bearer(ehr.token(PATIENT_VIEW)))
    assert response.status_code == status, response.text


def test_an_unknown_service_is_404_after_authentication(cds: TestClient, ehr: SimulatedEhr) -> None:
    endpoint = "/cds-services/nothing-here"
    assert cds.post(endpoint, json=_hook()).status_code == 401
    assert cds.post(endpoint, json=_hook(), headers=_bearer(ehr.token(endpoint))).status_code == 404


def test_feedback_is_stored_and_audited(
    cds: TestClient, ehr: SimulatedEhr, database: Database
) -> None:
    body = {
        "feedback": [
            {
                "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2026-11-29T10:00:00Z",
            },
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "red-flag", "system": "https://x.example", "display": "x"},
                    "userComment": "Saddle numbness on examination.",
                },
                "outcomeTimestamp": "2026-11-29T10:01:00Z",
            },
        ]
    }
    response = cds.post(FEEDBACK, json=body, headers=_bearer(ehr.token(FEEDBACK)))
    assert response.status_code == 200, response.text
    with database.session() as session:
        rows = session.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
        assert [(r.outcome, r.card_uuid[:8]) for r in rows] == [
            ("accepted", "4e0a3a1e"),
            ("overridden", "9368d37b"),
        ]
        assert rows[0].accepted_suggestions == {"ids": ["e56e1945-20b3-4393-8503-a1a20fd73152"]}
        assert rows[1].override_reason["userComment"] == "Saddle numbness on examination."
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "cds_feedback")).one()


@pytest.mark.parametrize(
    "item",
    [
        {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-29T10:00:00Z"},
        {"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-11-29T10:00:00Z"},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:00:00"},
        {"card": "", "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:00:00Z"},
    ],
    ids=["accepted without suggestions", "unknown outcome", "time without offset", "no card"],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(
    cds: TestClient, ehr: SimulatedEhr, database: Database, item: dict[str, str]
) -> None:
    response = cds.post(FEEDBACK, json={"feedback": [item]}, headers=_bearer(ehr.token(FEEDBACK)))
    assert response.status_code == 400
    with database.session() as session:
        assert session.scalars(select(CdsFeedback)).all() == []
