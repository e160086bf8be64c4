"""Authorisation matrix: every route of the app × every persona.

The policy table must name every route ``create_app()`` serves, so a new route cannot ship
without a decision about who may use it. Personas act on patient A of clinic A:

- anonymous: no session; a link that does not exist;
- patient_own: patient A's private link; patient_other: patient B's link (their own data);
- clinician_a / clinician_b: signed in at clinic A / clinic B; admin: signed in, no clinic.

Beyond the status, nobody but patient A, clinic A (and administrators, on the audit log) may
receive a response that mentions patient A.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx2 import Response

from spinepath import clock
from spinepath.instruments.scoring import score
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.models import Alert, AlertChannel, ClinicJoinCode
from support.intakes import low_back_pain
from support.web import SESSION_COOKIE, World, session_cookie

Access = Literal[
    "public", "link", "clinic_list", "clinic_patient", "admin", "ehr_jwt", "ehr_launch"
]
Persona = Literal[
    "anonymous", "patient_own", "patient_other", "clinician_b", "admin", "clinician_a"
]
# Owners last: a destructive request they are allowed must not spoil the others' attempts.
PERSONAS: tuple[Persona, ...] = (
    "anonymous",
    "patient_other",
    "clinician_b",
    "admin",
    "patient_own",
    "clinician_a",
)
ALLOWED: dict[Access, frozenset[Persona]] = {
    "public": frozenset(PERSONAS),
    "link": frozenset({"patient_own", "patient_other"}),
    "clinic_list": frozenset({"clinician_a", "clinician_b"}),
    "clinic_patient": frozenset({"clinician_a"}),
    "admin": frozenset({"admin"}),
    # CDS Hooks: only an EHR's signed JWT, never a session or a patient's link.
    "ehr_jwt": frozenset(),
    # SMART EHR launch: only the browser the EHR launched, never a sign-in or a patient's link.
    "ehr_launch": frozenset(),
}
UNKNOWN_LINK = "spl_" + "x" * 43

POLICY: dict[tuple[str, str], Access] = {
    # REST API (WEB-CORE)
    ("GET", "/api/v1/openapi.json"): "public",
    ("POST", "/api/v1/assessments"): "public",
    ("GET", "/api/v1/instruments"): "public",
    ("POST", "/api/v1/scores"): "public",
    ("POST", "/api/v1/decision-aids"): "public",
    ("GET", "/api/v1/patients"): "clinic_list",
    ("POST", "/api/v1/patients"): "clinic_list",
    ("GET", "/api/v1/patients/{patient_id}"): "clinic_patient",
    ("DELETE", "/api/v1/patients/{patient_id}"): "clinic_patient",
    ("GET", "/api/v1/patients/{patient_id}/export"): "clinic_patient",
    ("GET", "/api/v1/patients/{patient_id}/assessments"): "clinic_patient",
    ("POST", "/api/v1/patients/{patient_id}/assessments"): "clinic_patient",
    ("GET", "/api/v1/patients/{patient_id}/responses"): "clinic_patient",
    ("POST", "/api/v1/patients/{patient_id}/responses"): "clinic_patient",
    ("GET", "/api/v1/patients/{patient_id}/notes"): "clinic_patient",
    ("POST", "/api/v1/patients/{patient_id}/notes"): "clinic_patient",
    ("GET", "/api/v1/patients/{patient_id}/decision-aid"): "clinic_patient",
    ("POST", "/api/v1/patients/{patient_id}/decision-aid/values"): "clinic_patient",
    ("GET", "/api/v1/audit"): "admin",
    ("GET", "/docs"): "public",
    ("GET", "/docs/docs.css"): "public",
    # Pages (WEB-PAGES)
    ("GET", "/static"): "public",
    ("GET", "/"): "public",
    ("POST", "/start"): "public",
    ("GET", "/deleted"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/p/{link_token}"): "link",
    ("GET", "/p/{link_token}/step/{slug}"): "link",
    ("POST", "/p/{link_token}/step/{slug}"): "link",
    ("GET", "/p/{link_token}/saved"): "link",
    ("GET", "/p/{link_token}/emergency"): "link",
    ("GET", "/p/{link_token}/review"): "link",
    ("POST", "/p/{link_token}/review"): "link",
    ("POST", "/p/{link_token}/again"): "link",
    ("GET", "/p/{link_token}/result"): "link",
    ("GET", "/p/{link_token}/result/print"): "link",
    ("GET", "/p/{link_token}/result.pdf"): "link",
    ("GET", "/p/{link_token}/my-decision.pdf"): "link",
    ("GET", "/p/{link_token}/data.json"): "link",
    ("GET", "/p/{link_token}/delete"): "link",
    ("POST", "/p/{link_token}/delete"): "link",
    ("GET", "/p/{link_token}/follow-up/{code}"): "link",
    ("POST", "/p/{link_token}/follow-up/{code}"): "link",
    ("GET", "/p/{link_token}/progress.svg"): "link",
    ("POST", "/p/{link_token}/decision-aid"): "link",
    ("GET", "/decision-aid.css"): "public",
    ("GET", "/clinic"): "clinic_list",
    ("GET", "/clinic/invite"): "clinic_list",
    ("POST", "/clinic/invite"): "clinic_list",
    ("GET", "/clinic/patients/{patient_id}"): "clinic_patient",
    ("POST", "/clinic/patients/{patient_id}/notes"): "clinic_patient",
    ("GET", "/clinic/patients/{patient_id}/progress.svg"): "clinic_patient",
    ("GET", "/admin/audit"): "admin",
    # Administration: accounts, clinics, API tokens, questionnaire wording
    ("GET", "/admin"): "admin",
    ("GET", "/admin/users"): "admin",
    ("POST", "/admin/users"): "admin",
    ("GET", "/admin/users/{user_id}"): "admin",
    ("POST", "/admin/users/{user_id}/disable"): "admin",
    ("POST", "/admin/users/{user_id}/enable"): "admin",
    ("POST", "/admin/users/{user_id}/end-sessions"): "admin",
    ("POST", "/admin/users/{user_id}/password"): "admin",
    ("GET", "/admin/clinics"): "admin",
    ("POST", "/admin/clinics"): "admin",
    ("GET", "/admin/tokens"): "admin",
    ("POST", "/admin/tokens"): "admin",
    ("POST", "/admin/tokens/{token_id}/revoke"): "admin",
    ("GET", "/admin/wording"): "admin",
    ("POST", "/admin/wording/preview"): "admin",
    ("POST", "/admin/wording/enable"): "admin",
    ("POST", "/admin/wording/{code}/remove"): "admin",
    ("GET", "/admin/alerts"): "admin",
    ("POST", "/admin/alerts"): "admin",
    ("POST", "/admin/alerts/{channel_id}/disable"): "admin",
    # Enrolment: clinic join codes, re-issued and revoked links
    ("GET", "/join"): "public",
    ("POST", "/join"): "public",
    ("GET", "/join/{join_code}"): "public",
    ("POST", "/join/{join_code}"): "public",
    ("GET", "/p/{link_token}/join"): "link",
    ("POST", "/p/{link_token}/join"): "link",
    ("GET", "/clinic/enrol"): "clinic_list",
    ("POST", "/clinic/enrol/new"): "clinic_list",
    ("POST", "/clinic/enrol/revoke"): "clinic_list",
    ("POST", "/clinic/patients/{patient_id}/link"): "clinic_patient",
    ("POST", "/clinic/patients/{patient_id}/link/revoke"): "clinic_patient",
    # Care loop: alerts for the clinic, reminders for the patient
    ("GET", "/api/v1/alerts"): "clinic_list",
    ("POST", "/api/v1/alerts/{alert_id}/seen"): "clinic_patient",
    ("POST", "/api/v1/alerts/{alert_id}/actioned"): "clinic_patient",
    ("POST", "/clinic/alerts/{alert_id}/seen"): "clinic_patient",
    ("POST", "/clinic/alerts/{alert_id}/actioned"): "clinic_patient",
    ("GET", "/p/{link_token}/reminders"): "link",
    ("POST", "/p/{link_token}/reminders"): "link",
    ("POST", "/p/{link_token}/reminders/stop"): "link",
    ("GET", "/cds-services"): "ehr_jwt",
    ("POST", "/cds-services/{service_id}"): "ehr_jwt",
    ("POST", "/cds-services/{service_id}/feedback"): "ehr_jwt",
    # SMART App Launch: starting a launch and ending one's own are open; the workspace is not.
    ("GET", "/smart/launch"): "public",
    ("GET", "/smart/callback"): "public",
    ("POST", "/smart/end"): "public",
    ("GET", "/smart/workspace/{launch_id}"): "ehr_launch",
    ("POST", "/smart/workspace/{launch_id}/invite"): "ehr_launch",
}
# Values for path parameters other than the persona-dependent link token and patient id.
PATH_VALUES = {
    "slug": "emergency",
    "code": "nrs_back",
    "path": "site.css",
    "join_code": "ABCD2345",
    # Clinician B's account and clinic B's token (ids in the order make_world creates them).
    "user_id": "2",
    "token_id": "2",
    # The alert _seed raises for patient A (the first alert).
    "alert_id": "1",
    "channel_id": "1",
    "service_id": "spinepath-patient-view",
    "launch_id": "launch-that-is-not-open",
}


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    for route in iter_route_contexts(app.routes):
        path = route.path
        assert isinstance(path, str)
        methods = route.methods or {"GET"}  # a mount (static files) answers GET
        for method in sorted(methods - {"HEAD"}):
            yield method, path


def _app_routes() -> list[tuple[str, str]]:
    from spinepath.web.app import create_app

    settings = Settings(environment="test", secret_key="x" * 40, database_url="sqlite://")
    return sorted(set(_routes(create_app(settings))))


ROUTES = _app_routes()


def test_every_route_has_a_policy() -> None:
    assert sorted(set(ROUTES) - POLICY.keys()) == []
    assert sorted(POLICY.keys() - set(ROUTES)) == []


def _seed(database: Database, world: World) -> None:
    intake = Intake.model_validate(low_back_pain())
    with database.session() as session:
        # Clinic A's join code, so that the public join pages have a clinic to open.
        session.add(ClinicJoinCode(clinic_id=world.clinic_a, code=PATH_VALUES["join_code"]))
        # Clinic A's alert channel, so that disabling one has something to act on.
        session.add(
            AlertChannel(clinic_id=world.clinic_a, kind="email", target="desk@clinic-a.example")
        )
        session.add(
            Alert(
                clinic_id=world.clinic_a,
                patient_id=world.patient_a.id,
                kind="emergency_stop",
                level="emergency",
                findings={"findings": ["Chest pain with back pain"]},
            )
        )
        for patient_id in (world.patient_a.id, world.patient_b.id):
            patient = repository.patient_by_id(session, patient_id)
            assert patient is not None
            repository.save_assessment(session, patient, intake, assess(intake))
            repository.add_note(session, patient, None, "seen")
            for day, intensity in ((1, 6), (20, 4)):
                result = score("nrs_back", {"intensity": intensity})
                repository.record_response(
                    session,
                    patient,
                    instrument="nrs_back",
                    answers={"intensity": intensity},
                    score=result.model_dump(mode="json"),
                    taken_on=clock.today() - dt.timedelta(days=30 - day),
                )


def _request(
    client: TestClient,
    settings: Settings,
    database: Database,
    world: World,
    persona: Persona,
    method: str,
    path: str,
) -> Response:
    links = {"patient_own": world.patient_a.link_token, "patient_other": world.patient_b.link_token}
    people = {
        "clinician_a": world.clinician_a,
        "clinician_b": world.clinician_b,
        "admin": world.admin,
    }
    values = {
        **PATH_VALUES,
        "link_token": links.get(persona, UNKNOWN_LINK),
        "patient_id": world.patient_a.id,
    }
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    if path == "/static":
        url = "/static/site.css"
    client.cookies.clear()
    if persona in people:
        client.cookies.set(SESSION_COOKIE, session_cookie(database, settings, people[persona].id))
    if method not in ("POST", "PUT", "PATCH"):
        return client.request(method, url, follow_redirects=False)
    if path.startswith("/api/"):
        return client.request(method, url, json={}, follow_redirects=False)
    return client.request(method, url, data={}, follow_redirects=False)


def _denied(response: Response, access: Access) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    # Signing out sends everyone to the sign-in page; elsewhere that redirect means "sign in".
    location = response.headers.get("location", "")
    return access != "public" and response.is_redirect and location.startswith("/login")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_access_where_none_is_due(
    client: TestClient,
    settings: Settings,
    database: Database,
    world: World,
    method: str,
    path: str,
) -> None:
    _seed(database, world)
    access = POLICY[(method, path)]
    outcomes: dict[Persona, str] = {}
    for persona in PERSONAS:
        response = _request(client, settings, database, world, persona, method, path)
        assert response.status_code < 500, (persona, response.text[:500])
        expected = persona in ALLOWED[access]
        outcomes[persona] = (
            f"{response.status_code} {'denied' if _denied(response, access) else 'allowed'}"
        )
        assert _denied(response, access) is not expected, (persona, outcomes)
        sees_patient_a = persona in ("patient_own", "clinician_a") or (
            persona == "admin" and access == "admin"
        )
        if not sees_patient_a:
            assert world.patient_a.id not in response.text, persona
            assert world.patient_a.link_token not in response.text, persona
