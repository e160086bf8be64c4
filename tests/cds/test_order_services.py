"""order-select and order-sign: the imaging card for acute low back pain without red flags, the
opioid card for chronic low back pain, no card whenever the record shows a reason to image or
cannot tell, the record read from the EHR's FHIR server when not prefetched, 412 when it cannot
be read, and browser EHRs allowed by CORS without weakening CSRF elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from spinepath.interop.record import record_facts
from spinepath.store.db import Database
from spinepath.store.models import AuditEvent, CdsFeedback
from spinepath.web.cds import imaging_orders
from spinepath.web.cds.models import CdsResponse, Discovery
from support.fhir_record import (
    ICD10,
    ICD10_CM,
    RXNORM,
    SNOMED,
    bundle,
    concept,
    condition,
    medication,
    patient,
    procedure,
    service_request,
)

from .conftest import EHR_ORIGIN
from .ehr import SimulatedEhr
from .fhir_server import FhirServer
from .orders import (
    ORDER_SELECT,
    ORDER_SIGN,
    TODAY,
    born_aged,
    days_ago,
    low_back_pain,
    lumbar_mri,
    opioid,
    order_request,
)


def _call(
    client: TestClient, ehr: SimulatedEhr, endpoint: str, body: dict[str, Any], **headers: str
) -> Any:
    return client.post(
        endpoint, json=body, headers={"Authorization": f"Bearer {ehr.token(endpoint)}", **headers}
    )


def _cards(response: Any) -> CdsResponse:
    assert response.status_code == 200, response.text
    return CdsResponse.model_validate(response.json())


def test_acute_uncomplicated_low_back_pain_gets_a_warning_with_a_delete_suggestion(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    body = order_request([low_back_pain(onset_days=10)])
    [card] = _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards
    assert card.indicator == "warning"
    assert len(card.summary) < 140
    assert card.suggestions is not None
    [suggestion] = card.suggestions
    assert suggestion.actions is not None
    [action] = suggestion.actions
    assert (action.type, action.resourceId) == ("delete", "ServiceRequest/img-1")
    assert card.overrideReasons is not None
    assert {r.code for r in card.overrideReasons} >= {"red-flag-present", "surgical-planning"}
    assert card.links is not None
    urls = " ".join(str(link.url) for link in card.links)
    assert "nice.org.uk/guidance/ng59" in urls
    assert "CMS166v7" in urls
    assert "aafp.org" in urls
    assert card.detail is not None
    assert "NICE NG59 1.1.4" in card.detail
    assert "1 week ago" in card.detail
    # Nothing the specification forbids: no nulls, empty strings, lists or objects.
    raw = _call(order_cds, signing_ehr, ORDER_SELECT, body).text
    assert "null" not in raw
    assert '""' not in raw
    assert "[]" not in raw.replace('"cards":[]', "")


def test_order_sign_checks_every_draft_order(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    orders = [lumbar_mri("img-1"), lumbar_mri("img-2", code="24970-6")]
    body = order_request([low_back_pain()], orders, hook="order-sign")
    [card] = _cards(_call(order_cds, signing_ehr, ORDER_SIGN, body)).cards
    assert card.suggestions is not None
    assert card.suggestions[0].actions is not None
    assert [a.resourceId for a in card.suggestions[0].actions] == [
        "ServiceRequest/img-1",
        "ServiceRequest/img-2",
    ]


def test_order_select_checks_only_the_orders_just_selected(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    orders = [lumbar_mri("img-1"), opioid("rx-1", code="M01AE01")]
    body = order_request([low_back_pain()], orders, selections=["MedicationRequest/rx-1"])
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


# One row per red-flag class: a resource unlike the examples' (other codes, other systems).
RED_FLAG_CASES: list[tuple[str, dict[str, Any]]] = [
    ("cancer: personal history code", condition("Z85.3")),
    ("cancer: SNOMED, in remission", condition("363346000", SNOMED, clinical="remission")),
    ("steroids: RxNorm prednisolone request", medication("8638", RXNORM, kind="MedicationRequest")),
    ("steroids: dexamethasone, ATC", medication("H02AB02")),
    ("immunosuppressant: methotrexate", medication("L04AX03")),
    ("kidney transplant", condition("Z94.0")),
    ("HIV, ICD-10-CM", condition("B20", ICD10_CM)),
    ("immunodeficiency", condition("D84.9")),
    ("injecting drug use", condition("228388006", SNOMED)),
    ("opioid dependence", condition("F11.20", ICD10_CM)),
    ("osteoporosis, SNOMED", condition("64859006", SNOMED)),
    ("collapsed vertebra", condition("M48.56", ICD10_CM)),
    ("TB of the spine", condition("M49.06", ICD10_CM)),
    ("epidural abscess", condition("G06.1")),
    ("vertebral osteomyelitis", condition("M46.26", ICD10_CM)),
    ("AAA, ruptured", condition("I71.3")),
    ("ankylosing spondylitis", condition("M45.6", ICD10_CM)),
    ("cauda equina, SNOMED", condition("192970008", SNOMED)),
    ("paraplegia", condition("G82.20", ICD10_CM)),
    ("lumbar disc with myelopathy", condition("M51.06", ICD10_CM)),
    ("trauma: L2 fracture", condition("S32.02", ICD10_CM, clinical="resolved")),
    ("trauma: thoracic fracture", condition("S22.0")),
    ("trauma: back strain last week", condition("S39.012A", ICD10_CM, onset=days_ago(7))),
    ("surgical work-up: neurosurgery referral", service_request("183556009")),
    ("prior surgery: fusion", procedure("55705006", performed="2012-01-01")),
    ("prior surgery: arthrodesis status", condition("Z98.1")),
    ("anticoagulant: enoxaparin", medication("B01AB05")),
]


@pytest.mark.parametrize("resource", [pytest.param(r, id=n) for n, r in RED_FLAG_CASES])
def test_any_red_flag_in_the_record_means_no_card(
    order_cds: TestClient, signing_ehr: SimulatedEhr, resource: dict[str, Any]
) -> None:
    body = order_request([low_back_pain(), resource])
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


NO_CARD_CASES: list[tuple[str, dict[str, Any]]] = [
    ("six weeks exactly", order_request([low_back_pain(onset_days=42)])),
    ("onset unknown", order_request([low_back_pain(onset_days=None)])),
    ("onset in the future", order_request([low_back_pain(onset_days=-3)])),
    ("no back pain recorded", order_request([condition("J45.9")])),
    (
        "an older episode too",
        order_request([low_back_pain(onset_days=10), low_back_pain(onset_days=120)]),
    ),
    ("aged 51", order_request([low_back_pain()], age=51)),
    ("aged 15", order_request([low_back_pain()], age=15)),
    (
        "no birth date",
        order_request([low_back_pain(), patient(birth_date=None)]),
    ),
    ("thoracic spine MRI", order_request([low_back_pain()], [lumbar_mri(code="24980-5")])),
    (
        "reason on the order: cauda equina",
        order_request(
            [low_back_pain()],
            [lumbar_mri(reasonCode=[concept(ICD10, "G83.4")])],
        ),
    ),
    ("not an imaging order", order_request([low_back_pain()], [lumbar_mri(code="2160-0")])),
]


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in NO_CARD_CASES])
def test_no_card_when_imaging_may_be_indicated_or_the_record_cannot_tell(
    order_cds: TestClient, signing_ehr: SimulatedEhr, body: dict[str, Any]
) -> None:
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


def test_an_opioid_for_chronic_low_back_pain_gets_a_nice_ng59_card(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    body = order_request([low_back_pain(onset_days=200)], [opioid("rx-9", "7804", RXNORM)])
    [card] = _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards
    assert card.indicator == "warning"
    assert len(card.summary) < 140
    assert card.detail is not None
    assert "do not offer opioids for managing chronic low back pain" in card.detail
    assert card.suggestions is not None
    assert card.suggestions[0].actions is not None
    assert card.suggestions[0].actions[0].resourceId == "MedicationRequest/rx-9"


@pytest.mark.parametrize(
    ("record", "order"),
    [
        pytest.param([low_back_pain(onset_days=30)], opioid(), id="subacute"),
        pytest.param([low_back_pain(onset_days=None)], opioid(), id="onset unknown"),
        pytest.param([low_back_pain(onset_days=200), condition("C79.5")], opioid(), id="cancer"),
        pytest.param([low_back_pain(onset_days=200)], opioid(code="M01AE01"), id="ibuprofen"),
    ],
)
def test_no_opioid_card_unless_chronic_non_specific_pain(
    order_cds: TestClient,
    signing_ehr: SimulatedEhr,
    record: list[dict[str, Any]],
    order: dict[str, Any],
) -> None:
    body = order_request(record, [order])
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


# --- the record from the FHIR server ------------------------------------------------------------


def _serve(server: FhirServer, record: list[dict[str, Any]], age: int = 35) -> None:
    def of(kind: str) -> dict[str, Any]:
        return bundle(*[r for r in record if r["resourceType"] == kind])

    server.answers.update(
        {
            "Patient/pat-1": patient(born_aged(age)),
            "Condition?patient=pat-1": of("Condition"),
            "MedicationRequest?patient=pat-1&status=active": of("MedicationRequest"),
            "MedicationStatement?patient=pat-1&status=active": of("MedicationStatement"),
            "Procedure?patient=pat-1": of("Procedure"),
            "ServiceRequest?patient=pat-1&status=active": of("ServiceRequest"),
        }
    )


def _without_prefetch(server: FhirServer, **extra: Any) -> dict[str, Any]:
    return order_request(
        [],
        with_prefetch=False,
        fhirServer=server.base,
        fhirAuthorization=server.authorization(),
        **extra,
    )


def test_without_prefetch_the_record_is_read_from_the_fhir_server_with_the_bearer_token(
    order_cds: TestClient, signing_ehr: SimulatedEhr, ehr_fhir: FhirServer
) -> None:
    _serve(ehr_fhir, [low_back_pain()])
    [card] = _cards(_call(order_cds, signing_ehr, ORDER_SELECT, _without_prefetch(ehr_fhir))).cards
    assert card.summary == imaging_orders.SUMMARY
    assert len(ehr_fhir.requests) == 6
    assert {auth for _, auth in ehr_fhir.requests} == {"Bearer ehr-issued-access-token"}
    # The same record with a red flag, fetched, gives no card.
    _serve(ehr_fhir, [low_back_pain(), condition("C61")])
    body = _without_prefetch(ehr_fhir)
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


def test_only_the_missing_prefetch_keys_are_fetched_and_pages_are_followed(
    order_cds: TestClient, signing_ehr: SimulatedEhr, ehr_fhir: FhirServer
) -> None:
    body = order_request(
        [low_back_pain()], fhirServer=ehr_fhir.base, fhirAuthorization=ehr_fhir.authorization()
    )
    del body["prefetch"]["medicationStatements"]
    first_page = bundle(low_back_pain()) | {
        "link": [{"relation": "next", "url": f"{ehr_fhir.base}/Condition?page=2"}]
    }
    body["prefetch"]["conditions"] = first_page
    ehr_fhir.answers["MedicationStatement?patient=pat-1&status=active"] = bundle(
        medication("H02AB06")
    )
    ehr_fhir.answers["Condition?page=2"] = bundle()
    response = _call(order_cds, signing_ehr, ORDER_SELECT, body)
    # The fetched statement shows steroid use: no card.
    assert _cards(response).cards == []
    assert sorted(path for path, _ in ehr_fhir.requests) == [
        "Condition?page=2",
        "MedicationStatement?patient=pat-1&status=active",
    ]


def _closed_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir"


@pytest.mark.parametrize(
    "case", ["unreachable", "no fhirServer", "server error", "token refused", "error prefetched"]
)
def test_a_record_that_cannot_be_read_is_412(
    order_cds: TestClient, signing_ehr: SimulatedEhr, ehr_fhir: FhirServer, case: str
) -> None:
    _serve(ehr_fhir, [low_back_pain()])
    body = _without_prefetch(ehr_fhir)
    if case == "unreachable":
        body["fhirServer"] = _closed_port()
    elif case == "no fhirServer":
        del body["fhirServer"], body["fhirAuthorization"]
    elif case == "server error":
        ehr_fhir.answers["Condition?patient=pat-1"] = 500
    elif case == "token refused":
        body["fhirAuthorization"]["access_token"] = "expired"
    else:
        body = order_request([low_back_pain()])
        body["prefetch"]["conditions"] = {"resourceType": "OperationOutcome", "issue": []}
    response = _call(order_cds, signing_ehr, ORDER_SELECT, body)
    assert response.status_code == 412, response.text


def test_orders_the_services_do_not_watch_need_no_record(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    body = order_request([], [lumbar_mri(code="2160-0")], with_prefetch=False)
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["context"].pop("draftOrders"), "draftOrders"),
        (lambda b: b["context"].pop("selections"), "selections"),
        (lambda b: b["context"].pop("patientId"), "patientId"),
        (lambda b: b["context"].update(draftOrders={"resourceType": "List"}), "Bundle"),
        (lambda b: b.update(hook="order-sign"), "order-select"),
    ],
)
def test_a_malformed_order_context_is_400(
    order_cds: TestClient, signing_ehr: SimulatedEhr, change: Any, message: str
) -> None:
    body = order_request([low_back_pain()])
    change(body)
    response = _call(order_cds, signing_ehr, ORDER_SELECT, body)
    assert response.status_code == 400
    assert message in response.text


# --- discovery, feedback, audit ----------------------------------------------------------------


def test_discovery_declares_the_prefetch_templates(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    response = order_cds.get(
        "/cds-services", headers={"Authorization": f"Bearer {signing_ehr.token('/cds-services')}"}
    )
    services = {s.id: s for s in Discovery.model_validate(response.json()).services}
    for service_id, hook in [
        ("spinepath-order-select", "order-select"),
        ("spinepath-order-sign", "order-sign"),
    ]:
        service = services[service_id]
        assert service.hook == hook
        assert service.prefetch is not None
        assert service.prefetch["patient"] == "Patient/{{context.patientId}}"
        assert service.prefetch["conditions"] == "Condition?patient={{context.patientId}}"


def test_feedback_on_an_order_card_is_stored_and_the_call_audited(
    order_cds: TestClient, signing_ehr: SimulatedEhr, database: Database
) -> None:
    [card] = _cards(
        _call(order_cds, signing_ehr, ORDER_SELECT, order_request([low_back_pain()]))
    ).cards
    assert card.uuid is not None
    assert card.overrideReasons is not None
    reason = card.overrideReasons[0].model_dump(exclude_none=True)
    feedback = {
        "feedback": [
            {
                "card": card.uuid,
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "Saddle numbness today"},
                "outcomeTimestamp": "2026-03-02T10:00:00Z",
            }
        ]
    }
    endpoint = ORDER_SELECT + "/feedback"
    assert _call(order_cds, signing_ehr, endpoint, feedback).status_code == 200
    with database.session() as session:
        stored = session.scalars(select(CdsFeedback)).one()
        assert stored.service_id == "spinepath-order-select"
        assert stored.override_reason["reason"]["code"] == "red-flag-present"
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "cds_order-select" in actions
        assert "cds_feedback" in actions


# --- CORS for browser EHRs ---------------------------------------------------------------------


def test_a_browser_ehr_preflight_succeeds_and_its_call_is_answered_with_cors_headers(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    preflight = order_cds.options(
        ORDER_SELECT,
        headers={
            "Origin": EHR_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == EHR_ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    call = _call(
        order_cds,
        signing_ehr,
        ORDER_SELECT,
        order_request([low_back_pain()]),
        Origin=EHR_ORIGIN,
        **{"Sec-Fetch-Site": "cross-site"},
    )
    assert len(_cards(call).cards) == 1
    assert call.headers["access-control-allow-origin"] == EHR_ORIGIN


def test_cors_does_not_open_the_rest_of_the_site_or_other_origins(
    order_cds: TestClient, signing_ehr: SimulatedEhr
) -> None:
    cross_site = {"Origin": EHR_ORIGIN, "Sec-Fetch-Site": "cross-site"}
    # The same EHR origin gets no exemption from the CSRF guard outside /cds-services.
    assert order_cds.post("/api/v1/assessments", json={}, headers=cross_site).status_code == 403
    assert order_cds.post("/cds-servicesX", headers=cross_site).status_code == 403
    # Another origin is refused by the CSRF guard on /cds-services too, and gets no CORS grant.
    other = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    body = order_request([low_back_pain()])
    assert _call(order_cds, signing_ehr, ORDER_SELECT, body, **other).status_code == 403
    preflight = order_cds.options(
        ORDER_SELECT,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


# --- the safety property -----------------------------------------------------------------------

RED_FLAG_RESOURCES = [r for _, r in RED_FLAG_CASES]


def _imaging_card(record: list[dict[str, Any]], orders: list[dict[str, Any]]) -> bool:
    facts = record_facts(bundle(*record), TODAY)
    return imaging_orders.card(imaging_orders.watched(orders), facts) is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    onset=st.integers(0, 41),
    age=st.integers(16, 50),
    order_code=st.sampled_from(["30679-5", "24968-0", "24963-1", "24972-2", "24665-2"]),
    flags=st.lists(st.sampled_from(RED_FLAG_RESOURCES), min_size=1, max_size=3),
)
def test_adding_any_red_flag_to_a_card_producing_record_never_yields_a_card(
    onset: int, age: int, order_code: str, flags: list[dict[str, Any]]
) -> None:
    record = [patient(born_aged(age)), low_back_pain(onset_days=onset)]
    orders = [lumbar_mri(code=order_code)]
    assert _imaging_card(record, orders)
    assert not _imaging_card([*record, *flags], orders)


def test_the_red_flag_cases_cover_every_red_flag_field() -> None:
    today = TODAY
    covered = {f.field for r in RED_FLAG_RESOURCES for f in record_facts(bundle(r), today)} & set(
        imaging_orders.RED_FLAGS
    )
    assert covered == set(imaging_orders.RED_FLAGS) - {"history.recent_spinal_procedure"}
    recent = procedure("42515009", performed=days_ago(20))
    assert "history.recent_spinal_procedure" in {
        f.field for f in record_facts(bundle(recent), today)
    }


@pytest.mark.parametrize(
    "broken",
    [
        {"clinicalStatus": []},
        {"code": "C79.5"},
        {"onsetDateTime": {"year": 2026}},
        {"verificationStatus": {"coding": "confirmed"}},
    ],
    ids=["status a list", "code a string", "onset an object", "coding not a list"],
)
def test_a_record_resource_that_cannot_be_read_gives_no_card_and_no_error(
    order_cds: TestClient, signing_ehr: SimulatedEhr, broken: dict[str, Any]
) -> None:
    # The malformed Condition could be the cancer diagnosis: no "imaging not indicated" card.
    cancer = {**low_back_pain(onset_days=10), "id": "ca-1", **broken}
    body = order_request([low_back_pain(onset_days=10), cancer])
    assert _cards(_call(order_cds, signing_ehr, ORDER_SELECT, body)).cards == []
