"""`POST /api/v1/assessments` with a FHIR Bundle of one QuestionnaireResponse and the patient's
record: the record fills the unanswered questions only, the answer says which came from it
(`from_record`) and where it differs (`record_differs`), the FHIR Bundle carries the provenance,
and a bad Bundle is a 422 naming the problem, with nothing stored."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinepath.interop.assessment_bundle import RECORD_RESOURCE_IDENTIFIER, TARGET_ELEMENT
from spinepath.interop.intake_response import intake_from_response
from spinepath.interop.record import record_facts
from spinepath.interop.record_prefill import TO_CONFIRM, intake_with_record
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.store.db import Database
from spinepath.store.models import AssessmentRecord
from support.fhir_checks import resources_in, unresolved_references
from support.fhir_record import RECORD_FOR_YES_NO
from support.fhir_schema import schema_errors
from support.fhirpath_invariants import assert_invariants
from support.files import EXAMPLES_DIR
from support.intake_responses import response_item, response_json
from support.web import World

URL = "/api/v1/assessments"
FHIR_JSON = "application/fhir+json"
Json = dict[str, Any]
REQUEST = EXAMPLES_DIR / "fhir" / "record" / "request.json"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _request() -> Json:
    loaded: Json = json.loads(REQUEST.read_text(encoding="utf-8"))
    return loaded


def _response_of(request: Json) -> Json:
    [found] = [
        e["resource"]
        for e in request["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    resource: Json = found
    return resource


def _post(client: TestClient, body: Json | str, url: str = URL, **headers: str) -> Any:
    content = body if isinstance(body, str) else json.dumps(body)
    with time_machine.travel(NOON, tick=False):
        return client.post(url, content=content, headers={"content-type": FHIR_JSON, **headers})


def _stored(database: Database) -> int:
    with database.session() as session:
        return session.query(AssessmentRecord).count()


def test_the_record_fills_the_unanswered_questions_and_the_answer_says_so(
    client: TestClient,
) -> None:
    request = _request()
    response = _post(client, request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    found = response.json()
    by_field = {e["field"]: e for e in found["from_record"]}
    assert set(by_field) == {"sex", "health.diabetes", "history.long_term_steroids", "imaging"}
    assert by_field["health.diabetes"] == {
        "field": "health.diabetes",
        "value": True,
        "source": "Condition/rec-diabetes",
        "display": "Type 2 diabetes mellitus without complications (ICD-10 E11.9)",
        "note": TO_CONFIRM,
    }
    [differs] = found["record_differs"]
    assert differs["field"] == "history.cancer"
    assert (differs["answer"], differs["value"], differs["source"]) == (
        False,
        True,
        "Condition/rec-cancer",
    )
    assert differs["message"].startswith("record differs: history.cancer")
    # The assessment is that of the answers with the record's facts, the patient's kept.
    intake = intake_from_response(_response_of(request))
    with_record, _ = intake_with_record(intake, record_facts(request, NOON.date()))
    assert with_record.history.cancer is False
    expected = assess(with_record).model_dump(mode="json")
    assert {k: v for k, v in found.items() if k in expected} == expected


def test_the_fhir_answer_carries_the_provenance(client: TestClient) -> None:
    response = _post(client, _request(), accept=FHIR_JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FHIR_JSON
    bundle = response.json()
    assert schema_errors(bundle) == []
    assert unresolved_references(bundle) == []
    assert_invariants(bundle)
    resources = resources_in(bundle)
    [qr] = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    assert intake_from_response(qr).history.cancer is False
    provenances = [r for r in resources if r["resourceType"] == "Provenance"]
    named = {
        e["what"]["identifier"]["value"]
        for p in provenances
        for e in p["entity"]
        if e["what"].get("identifier", {}).get("system") == RECORD_RESOURCE_IDENTIFIER
    }
    assert "Condition/rec-diabetes" in named
    assert "Condition/rec-cancer" not in named
    assert any(
        ext["url"] == TARGET_ELEMENT
        for p in provenances
        for t in p["target"]
        for ext in t.get("extension", [])
    )


def test_a_response_alone_gets_no_record_lists(client: TestClient) -> None:
    response = _post(client, _response_of(_request()))
    assert response.status_code == 200, response.text
    assert "from_record" not in response.json()


def _without_ids(request: Json) -> Json:
    broken = copy.deepcopy(request)
    del broken["entry"][2]["resource"]["id"]
    return broken


def _two_responses(request: Json) -> Json:
    broken = copy.deepcopy(request)
    broken["entry"].append(copy.deepcopy(broken["entry"][0]))
    return broken


def _bad_answer(request: Json) -> Json:
    broken = copy.deepcopy(request)
    response_item(_response_of(broken), "age")["answer"] = [{"valueString": "61"}]
    return broken


@pytest.mark.parametrize(
    ("breaks", "field", "words"),
    [
        (lambda r: {**r, "type": "searchset"}, "type", "must be collection"),
        (lambda r: {**r, "entry": r["entry"][1:]}, "entry", "got 0"),
        (_two_responses, "entry", "got 2"),
        (_without_ids, "entry[2].resource.id", "must have an id"),
        (lambda r: {**r, "entry": [*r["entry"], "x"]}, "entry[6]", "must be an object"),
        (_bad_answer, "age", "expected valueInteger"),
    ],
    ids=[
        "not a collection",
        "no response",
        "two responses",
        "a record resource without an id",
        "an entry that is not an object",
        "a bad answer",
    ],
)
def test_a_bad_bundle_is_refused_naming_the_problem_and_stores_nothing(
    client: TestClient, database: Database, breaks: Any, field: str, words: str
) -> None:
    response = _post(client, breaks(_request()))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert words in error["message"]
    assert _stored(database) == 0


def test_malformed_json_is_refused(client: TestClient) -> None:
    response = _post(client, '{"resourceType": "Bundle",')
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message"].startswith("malformed JSON")


def test_a_patients_assessment_does_not_take_a_record_and_stores_nothing(
    client: TestClient, world: World, database: Database
) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/assessments"
    response = _post(client, _request(), url, Authorization=f"Bearer {world.token_a}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "resourceType"
    assert _stored(database) == 0


def test_the_openapi_schema_documents_the_record_bundle(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    body = spec["paths"][URL]["post"]["requestBody"]["content"][FHIR_JSON]["schema"]
    assert [s["title"] for s in body["oneOf"]] == ["QuestionnaireResponse", "Bundle"]
    assert "from_record" in spec["paths"][URL]["post"]["description"]


_YES_NO = ["history.cancer", "history.osteoporosis", "health.diabetes"]
_RECORD_FOR = RECORD_FOR_YES_NO


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    answered=st.dictionaries(st.sampled_from(_YES_NO), st.booleans()),
    in_record=st.sets(st.sampled_from(_YES_NO)),
)
def test_an_answer_given_is_never_changed(
    client: TestClient, answered: dict[str, bool], in_record: set[str]
) -> None:
    data: Json = {
        "age": 50,
        "regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 4}],
    }
    for field, value in answered.items():
        group, name = field.split(".")
        data.setdefault(group, {})[name] = value
    qr = response_json(Intake.model_validate(data))
    request = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": qr}, *({"resource": _RECORD_FOR[f]} for f in sorted(in_record))],
    }
    found = _post(client, request).json()
    assert {e["field"] for e in found["from_record"]} == in_record - set(answered)
    assert {d["field"] for d in found["record_differs"]} == {
        f for f in in_record if answered.get(f) is False
    }
    bundle = _post(client, request, accept=FHIR_JSON).json()
    [read] = [r for r in resources_in(bundle) if r["resourceType"] == "QuestionnaireResponse"]
    dumped = intake_from_response(read).model_dump(mode="json")
    for field, value in answered.items():
        group, name = field.split(".")
        assert dumped[group][name] is value
