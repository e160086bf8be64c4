"""SMART App Launch 2.0, EHR launch: spinepath against the simulated EHR, over loopback.

Discovery, the authorization request (PKCE S256, state, aud, launch), the code exchange, the
record read with the bearer token, the workspace, and every way a launch must fail clearly.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import json
from pathlib import Path

import httpx2
import pytest
import time_machine
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from spinepath.settings import CdsClient, SmartEhr
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent, Clinic, Patient
from spinepath.web.smart.client import granted
from support.ehr_sim import CLIENT_ID, SimulatedEhr, matching_answers, s256
from support.intakes import low_back_pain
from support.web import SESSION_COOKIE, World, create_test_app, make_settings, save_assessment

from .flow import APP_URL, authorize, callback_path, launch, query

LINKED = "ehr-123"
UNLINKED = "ehr-456"


def _link(database: Database, patient_id: str, fhir_id: str = LINKED) -> None:
    with database.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.reference = fhir_id


def _audit(database: Database, action: str) -> list[AuditEvent]:
    with database.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_launch_asks_the_discovered_authorize_endpoint_for_a_code_with_pkce_s256(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    step = authorize(smart, ehr, LINKED)
    request = step.request
    assert request["response_type"] == "code"
    assert request["client_id"] == CLIENT_ID
    assert request["redirect_uri"] == APP_URL + "/smart/callback"
    assert request["aud"] == ehr.fhir_base
    assert request["code_challenge_method"] == "S256"
    assert len(request["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(request["state"]) >= 22  # at least 122 bits
    assert {"launch", "openid", "fhirUser", "patient/Condition.rs"} <= set(request["scope"].split())
    assert "code" in query(step.callback)


def test_the_workspace_shows_the_linked_patients_assessment_and_the_record_facts(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    _link(database, world.patient_a.id)
    save_assessment(database, world.patient_a.id, matching_answers())
    page = smart.get(launch(smart, ehr, LINKED))
    assert page.status_code == 200
    text = page.text
    assert "Ana EXAMPLE" in text
    assert "Born 1971-03-02" in text
    assert "Urgency:" in text
    assert "From the record" in text
    for source in ("Condition/dm-1", "MedicationRequest/pred-1", "Observation/smoke-1"):
        assert f"<code>{source}</code>" in text
    assert "Diabetes mellitus (disorder)" in text
    assert "user Practitioner/dr-hale" in text
    assert "Check this is the same person" not in text
    assert page.headers["cache-control"] == "no-store"
    # The record was read with the token, for this patient only.
    assert ehr.fhir_requests[0] == f"/fhir/Patient/{LINKED}"
    assert all(f"patient={LINKED}" in r for r in ehr.fhir_requests[1:])
    for action in ("smart_launch", "smart_workspace"):
        [event] = _audit(database, action)
        assert event.actor_kind == "ehr_launch"
        assert event.actor_id == "Practitioner/dr-hale"
        assert event.patient_id == world.patient_a.id
        assert event.clinic_id == world.clinic_a


def test_answers_that_do_not_match_the_records_age_and_sex_are_flagged(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    _link(database, world.patient_a.id)
    save_assessment(database, world.patient_a.id, low_back_pain(age=30, sex="male"))
    text = html.unescape(smart.get(launch(smart, ehr, LINKED)).text)
    assert "Check this is the same person" in text
    assert "the answers 30 (source Patient/ehr-123)" in text
    assert "the record gives sex female, the answers male" in text


def test_an_unlinked_patient_is_offered_a_questionnaire_link_that_links_their_record(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    workspace = launch(smart, ehr, UNLINKED)
    page = smart.get(workspace)
    assert "has not sent this patient the spinepath questionnaire" in page.text
    assert "Bram SAMPLE" in page.text
    invited = smart.post(workspace + "/invite")
    assert invited.status_code == 200
    assert "/p/spl_" in invited.text
    with database.session() as session:
        [patient] = session.scalars(select(Patient).where(Patient.reference == UNLINKED))
        assert patient.clinic_id == world.clinic_a
    assert "has not sent their answers yet" in smart.get(workspace).text
    [event] = _audit(database, "invite")
    assert event.actor_kind == "ehr_launch"
    # A second invitation does not make a second patient.
    assert smart.post(workspace + "/invite", follow_redirects=False).status_code == 303


def test_an_unknown_iss_is_refused_without_contacting_it(smart: TestClient) -> None:
    response = smart.get("/smart/launch?iss=https://ehr.attacker.example/fhir&launch=abc")
    assert response.status_code == 400
    assert "is not registered with spinepath" in response.text
    assert "smart_pending" not in _session(smart)


def test_a_launch_without_iss_or_launch_is_a_clear_400(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    for path in ("/smart/launch", f"/smart/launch?iss={ehr.fhir_base}", "/smart/launch?launch=x"):
        response = smart.get(path)
        assert response.status_code == 400
        assert "needs the EHR's iss and launch" in html.unescape(response.text)


def test_a_callback_whose_state_does_not_match_is_refused(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    step = authorize(smart, ehr, LINKED)
    answer = query(step.callback)
    for wrong in ("not-the-state", "é" * 40):
        forged = smart.get("/smart/callback", params={"code": answer["code"], "state": wrong})
        assert forged.status_code == 400
        assert "does not belong to a launch started in this browser" in forged.text
    # Another browser (no cookie) with the right state is refused the same way.
    with TestClient(smart.app) as other:
        elsewhere = other.get(callback_path(step.callback), follow_redirects=False)
    assert elsewhere.status_code == 400
    assert ehr.fhir_requests == []
    # The state is good for one answer.
    assert smart.get(callback_path(step.callback), follow_redirects=False).status_code == 303
    assert smart.get(callback_path(step.callback), follow_redirects=False).status_code == 400


def test_a_wrong_code_verifier_is_refused_by_the_ehr_and_the_page_says_so(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    step = authorize(smart, ehr, LINKED)
    code = query(step.callback)["code"]
    # The code is bound to another challenge, as if it had been stolen and replayed.
    ehr.codes[code] = dataclasses.replace(ehr.codes[code], challenge=s256("another verifier" * 3))
    response = smart.get(callback_path(step.callback))
    assert response.status_code == 400
    assert "The EHR refused to issue an access token" in response.text
    assert "code_verifier does not match the challenge" in response.text
    assert "smart" not in _session(smart)


def test_the_simulated_ehr_refuses_a_code_without_its_verifier(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    code = query(authorize(smart, ehr, LINKED).callback)["code"]
    refused = httpx2.post(
        ehr.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP_URL + "/smart/callback",
            "client_id": CLIENT_ID,
            "code_verifier": "x" * 64,
        },
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_an_error_from_the_authorization_server_gets_a_clear_page(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    ehr.behaviour.deny = True
    step = authorize(smart, ehr, LINKED)
    response = smart.get(callback_path(step.callback))
    assert response.status_code == 400
    assert "The EHR did not authorise spinepath (access_denied: the user declined)" in response.text


def test_an_ehr_without_pkce_s256_is_refused(smart: TestClient, ehr: SimulatedEhr) -> None:
    ehr.behaviour.pkce_methods = ("plain",)
    response = smart.get(ehr.launch_url(LINKED), follow_redirects=False)
    assert response.status_code == 502
    assert "does not offer PKCE with S256" in response.text


def test_an_id_token_not_signed_by_the_ehr_stops_the_launch(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    ehr.behaviour.forged_id_token = True
    response = smart.get(callback_path(authorize(smart, ehr, LINKED).callback))
    assert response.status_code == 502
    assert "id_token is not valid" in response.text


def test_without_an_id_token_the_clinician_is_unidentified_but_audited(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    ehr.behaviour.id_token = False
    assert "user not identified by the EHR" in smart.get(launch(smart, ehr, LINKED)).text
    [event] = _audit(database, "smart_launch")
    assert event.actor_id == "unidentified"


def test_the_launch_session_reaches_only_the_launched_patient(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    _link(database, world.patient_a.id)
    workspace = launch(smart, ehr, LINKED)
    assert smart.get(workspace).status_code == 200
    # Not a spinepath sign-in: no clinic page, patient or API answers it.
    for path in (
        "/clinic",
        f"/clinic/patients/{world.patient_a.id}",
        f"/clinic/patients/{world.patient_b.id}",
    ):
        response = smart.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    assert smart.get("/api/v1/patients").status_code == 401
    assert smart.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 401
    # Another launch id is not this launch.
    assert smart.get("/smart/workspace/" + "x" * 22).status_code == 403
    # A new launch replaces the open one: the first tab does not show the new patient.
    second = launch(smart, ehr, UNLINKED)
    stale = smart.get(workspace)
    assert stale.status_code == 403
    assert "Ana" not in stale.text
    assert "Bram" not in stale.text
    assert "Bram SAMPLE" in smart.get(second).text
    # Without the cookie there is no launch at all.
    with TestClient(smart.app) as other:
        assert other.get(second).status_code == 401


def test_a_resource_about_another_patient_is_never_shown(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    stray = next(r for r in ehr.records[UNLINKED] if r["resourceType"] == "Condition")
    ehr.behaviour.stray = {**stray, "id": "stray-1", "code": {"text": "Stray condition"}}
    page = smart.get(launch(smart, ehr, LINKED))
    assert "stray-1" not in page.text
    assert "returned 1 resource about another patient" in page.text


def test_only_the_granted_resource_types_are_asked_for(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    ehr.behaviour.grant_scope = "launch openid fhirUser patient/Patient.r patient/Condition.rs"
    page = smart.get(launch(smart, ehr, LINKED))
    assert page.status_code == 200
    assert "Not shared with spinepath by this launch: MedicationRequest" in page.text
    assert [r.split("?")[0] for r in ehr.fhir_requests] == [
        f"/fhir/Patient/{LINKED}",
        "/fhir/Condition",
    ]


def test_an_expired_launch_ends_and_asks_for_a_new_launch(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    workspace = launch(smart, ehr, LINKED)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=True):
        response = smart.get(workspace)
    assert response.status_code == 403
    assert "has ended" in response.text


def test_ending_a_launch_closes_the_workspace(smart: TestClient, ehr: SimulatedEhr) -> None:
    workspace = launch(smart, ehr, LINKED)
    assert smart.post("/smart/end").status_code == 200
    assert smart.get(workspace).status_code == 401


def _session(client: TestClient) -> dict[str, object]:
    cookie = client.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return {}
    payload = cookie.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_the_access_token_is_never_readable_in_the_cookie(
    smart: TestClient, ehr: SimulatedEhr
) -> None:
    launch(smart, ehr, LINKED)
    [access_token] = ehr.tokens
    session = _session(smart)
    assert "smart" in session
    assert access_token not in json.dumps(session)


def test_a_confidential_client_authenticates_at_the_token_endpoint(
    ehr: SimulatedEhr, database_url: str, tmp_path: Path, world: World
) -> None:
    ehr.register(APP_URL, secret="s3cret-of-the-clinic")
    for secret, works in (("s3cret-of-the-clinic", True), ("wrong", False)):
        settings = make_settings(
            database_url,
            tmp_path,
            smart_ehrs=[
                SmartEhr(
                    iss=ehr.fhir_base,
                    client_id=CLIENT_ID,
                    clinic="Clinic A",
                    client_secret=SecretStr(secret),
                )
            ],
        )
        with TestClient(create_test_app(settings)) as client:
            step = authorize(client, ehr, LINKED)
            response = client.get(callback_path(step.callback), follow_redirects=False)
        if works:
            assert response.status_code == 303
        else:
            assert response.status_code == 400
            assert "invalid_client" in response.text


def test_a_clinic_missing_from_spinepath_is_a_configuration_error_page(
    ehr: SimulatedEhr, database_url: str, tmp_path: Path, world: World
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        smart_ehrs=[SmartEhr(iss=ehr.fhir_base, client_id=CLIENT_ID, clinic="No Such Clinic")],
    )
    with TestClient(create_test_app(settings)) as client:
        response = client.get(callback_path(authorize(client, ehr, LINKED).callback))
    assert response.status_code == 503
    assert "'No Such Clinic', which does not exist" in html.unescape(response.text)


def test_the_simulated_ehr_signs_cds_hooks_calls_that_spinepath_accepts(
    ehr: SimulatedEhr, database_url: str, tmp_path: Path, world: World
) -> None:
    from cds.ehr import ISSUER, SERVICE_BASE

    settings = make_settings(
        database_url,
        tmp_path,
        public_url=SERVICE_BASE,
        cds_clients=[CdsClient(iss=ISSUER, jwks_url=ehr.jwks_url, clinic="Clinic A")],
    )
    with TestClient(create_test_app(settings)) as client:
        token = ehr.cds.token("/cds-services")
        response = client.get("/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("patient/*.rs", {"*": {"r", "s"}}),
        ("patient/*.read", {"*": {"r", "s"}}),
        ("user/Observation.rs patient/Patient.r", {"Observation": {"r", "s"}, "Patient": {"r"}}),
        ("patient/Condition.crud", {"Condition": {"r"}}),
        ("patient/Observation.rs?category=laboratory", {"Observation": {"r", "s"}}),
        ("launch openid fhirUser patient/Patient.write", {}),
        ("system/*.rs launch/patient", {}),
    ],
)
def test_granted_scopes_are_read_as_smart_v1_and_v2(
    scope: str, expected: dict[str, set[str]]
) -> None:
    assert granted(scope) == expected


def test_a_linked_patient_of_another_clinic_is_not_shown(
    smart: TestClient, ehr: SimulatedEhr, world: World, database: Database
) -> None:
    _link(database, world.patient_b.id)  # clinic B's patient carries the EHR's id
    page = smart.get(launch(smart, ehr, LINKED))
    assert world.patient_b.id not in page.text
    assert "has not sent this patient the spinepath questionnaire" in page.text
    with database.session() as session:
        clinic = session.scalar(select(Clinic).where(Clinic.name == "Clinic A"))
        assert clinic is not None
