"""Pre-filling from the patient's record: what is filled, what differs, what cannot be used, the
record and request Bundles refused with the element at fault, and the FHIR Bundle's provenance
(one entity per record resource, one Provenance per record resource narrowed to the response
items it filled), valid against the R4 schema and HL7's invariants."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategies import intake_data
from spinepath.interop.assessment_bundle import (
    RECORD_ITEM_ID,
    RECORD_RESOURCE_IDENTIFIER,
    TARGET_ELEMENT,
    assessment_bundle,
)
from spinepath.interop.intake_response import intake_from_response
from spinepath.interop.record import IMAGING_FIELD, RecordFact, record_facts
from spinepath.interop.record_prefill import (
    TO_CONFIRM,
    Prefilled,
    RecordError,
    apply_record,
    intake_with_record,
    parse_record,
    read_record,
    read_request,
    split_request,
)
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.fhir_checks import resources_in, undefined_local_codes, unresolved_references
from support.fhir_record import (
    ATC,
    bundle,
    condition,
    medication,
    patient,
    report,
)
from support.fhir_schema import schema_errors
from support.fhirpath_invariants import assert_invariants
from support.intake_responses import response_json

Json = dict[str, Any]
TODAY = date(2026, 3, 2)
RECORDED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

RECORD = bundle(
    patient("1968-05-01", "female"),
    condition("C50.9", display="Malignant neoplasm of breast", id="cancer-1"),
    condition("E11.9", display="Type 2 diabetes", id="dm-1"),
    medication("H02AB06", ATC, display="prednisolone", id="pred-1"),
    {**report("24968-0", effective="2026-02-02", conclusion="M51.1"), "id": "mri-1"},
)
FACTS = record_facts(RECORD, TODAY)


def _intake(**changes: Any) -> Intake:
    data: Json = {
        "age": 57,
        "regions": [{"region": "low_back", "duration_weeks": 3, "intensity": 6}],
        **changes,
    }
    return Intake.model_validate(data)


def _json(bundle_model: Any) -> Json:
    dumped: Json = bundle_model.model_dump(mode="json", exclude_none=True)
    return dumped


def _of_type(found: Json, kind: str) -> list[Json]:
    return [r for r in resources_in(found) if r["resourceType"] == kind]


def _get(answers: Mapping[str, Any], field: str) -> object:
    node: object = answers
    for part in field.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


# --- What is filled, what differs --------------------------------------------------------------


def test_unanswered_questions_are_filled_and_an_answer_that_differs_is_kept() -> None:
    intake, prefilled = intake_with_record(_intake(history={"cancer": False}), FACTS)
    assert intake.history.cancer is False
    assert intake.health.diabetes is True
    assert intake.history.long_term_steroids is True
    assert intake.sex == "female"
    assert intake.age == 57  # the patient's, though the record's birth date says so too
    assert [s.modality for s in intake.imaging] == ["mri"]
    assert {f.source for f in prefilled.applied} == {
        "Patient/pat-1",
        "Condition/dm-1",
        "MedicationStatement/pred-1",
        "DiagnosticReport/mri-1",
    }
    [differs] = prefilled.differs
    assert differs.field == "history.cancer"
    assert differs.answer is False
    assert differs.fact.source == "Condition/cancer-1"
    assert str(differs).startswith("record differs: history.cancer: the patient answered no;")
    assert "Malignant neoplasm of breast" in str(differs)


def test_the_json_report_names_each_source_and_asks_for_confirmation() -> None:
    _, prefilled = intake_with_record(_intake(history={"cancer": False}), FACTS)
    report_json = prefilled.as_json()
    assert {e["field"] for e in report_json["from_record"]} >= {"health.diabetes", "imaging"}
    for entry in report_json["from_record"]:
        assert set(entry) == {"field", "value", "source", "display", "note"}
        assert entry["note"] == TO_CONFIRM
        assert "/" in entry["source"]
    [differs] = report_json["record_differs"]
    assert differs["answer"] is False
    assert differs["value"] is True
    assert differs["message"].startswith("record differs: ")
    json.dumps(report_json)  # every value is JSON


def test_a_scan_without_a_coded_finding_is_not_used_but_reported() -> None:
    scan = {**report("24968-0", effective="2026-02-02"), "id": "mri-2"}
    _, prefilled = intake_with_record(_intake(), record_facts(bundle(scan), TODAY))
    assert prefilled.applied == ()
    [unused] = prefilled.not_applied
    assert unused.fact.source == "DiagnosticReport/mri-2"
    assert "no coded finding" in str(unused)


@pytest.mark.parametrize(
    ("listed", "differs"),
    [([], True), ([{"modality": "xray", "finding": "normal"}], True)],
)
def test_a_scan_the_patient_did_not_list_is_a_difference(listed: list[Json], differs: bool) -> None:
    _, prefilled = intake_with_record(_intake(imaging=listed), FACTS)
    assert [d.field for d in prefilled.differs] == ([IMAGING_FIELD] if differs else [])
    assert IMAGING_FIELD not in {f.field for f in prefilled.applied}


def test_a_scan_the_patient_listed_is_no_difference() -> None:
    listed = [{"modality": "mri", "finding": "disc_herniation"}]
    _, prefilled = intake_with_record(_intake(imaging=listed), FACTS)
    assert prefilled.differs == ()


def test_a_value_from_the_record_that_makes_the_intake_invalid_names_the_field_and_source() -> None:
    ancient = {**report("24968-0", effective="1900-01-01", conclusion="M51.1"), "id": "old-1"}
    with pytest.raises(RecordError) as caught:
        intake_with_record(_intake(), record_facts(bundle(ancient), TODAY))
    [problem] = caught.value.problems
    assert problem.link_id == "imaging.0.weeks_ago"
    assert "from the record: DiagnosticReport/old-1" in problem.message


def test_a_record_that_disagrees_with_the_age_given_does_not_change_it() -> None:
    request = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": response_json(_intake())}, *bundle(patient("2015-01-01"))["entry"]],
    }
    intake, prefilled = read_request(json.dumps(request), TODAY)
    assert intake.age == 57
    assert prefilled is not None
    assert [d.field for d in prefilled.differs] == ["age"]


# --- Never overwritten: properties -------------------------------------------------------------

_FIELDS = [
    "age",
    "sex",
    "history.cancer",
    "history.osteoporosis",
    "history.long_term_steroids",
    "health.diabetes",
    "health.smoking",
]
_VALUES: st.SearchStrategy[object] = st.one_of(
    st.booleans(),
    st.none(),
    st.sampled_from(["never", "former", "current", "male", "female"]),
    st.integers(16, 100),
)


@st.composite
def _facts(draw: st.DrawFn) -> list[RecordFact]:
    count = draw(st.integers(0, 8))
    return [
        RecordFact(
            draw(st.sampled_from(_FIELDS)),
            draw(_VALUES.filter(lambda v: v is not None)),
            f"Condition/c{n}",
            f"display {n}",
            f"urn:test|{n}",
        )
        for n in range(count)
    ]


def _nest(flat: Mapping[str, object]) -> Json:
    nested: Json = {}
    for path, value in flat.items():
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


@settings(max_examples=300, deadline=None, database=None)
@given(
    answered=st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=len(_FIELDS)),
    facts=_facts(),
)
def test_an_answer_is_never_overwritten_and_every_disagreement_is_reported(
    answered: dict[str, object], facts: list[RecordFact]
) -> None:
    answers = _nest(answered)
    filled, prefilled = apply_record(answers, facts)
    given_answers = {k: v for k, v in answered.items() if v is not None}
    for field, value in given_answers.items():
        assert _get(filled, field) == value
    assert not {f.field for f in prefilled.applied} & set(given_answers)
    assert all(f in facts for f in prefilled.applied)
    reported = {(d.field, d.fact) for d in prefilled.differs}
    for fact in facts:
        answer = given_answers.get(fact.field)
        if answer is None:
            assert (fact.field, fact) not in reported
        elif answer != fact.value or type(answer) is not type(fact.value):
            assert (fact.field, fact) in reported
        else:
            assert (fact.field, fact) not in reported
    # Every field left open that a fact speaks to is filled from one of those facts.
    for field in {f.field for f in facts} - set(given_answers):
        assert _get(filled, field) in [f.value for f in facts if f.field == field]
    assert answers == _nest(answered)  # the patient's answers are not changed in place


@settings(max_examples=25, deadline=None, database=None)
@given(data=intake_data())
def test_any_intake_keeps_every_answer_it_gives(data: Json) -> None:
    intake = Intake.model_validate(data)
    filled, prefilled = intake_with_record(intake, FACTS)
    given_answers = intake.model_dump(mode="json", exclude_unset=True)
    after = filled.model_dump(mode="json")

    def contained(mine: object, theirs: object) -> bool:
        if isinstance(mine, dict) and isinstance(theirs, dict):
            return all(contained(v, theirs.get(k)) for k, v in mine.items())
        if isinstance(mine, list) and isinstance(theirs, list):
            return len(mine) == len(theirs) and all(map(contained, mine, theirs))
        return mine == theirs or mine is None

    assert contained(given_answers, after)
    assert not {f.field for f in prefilled.applied} & {
        f.field for f in FACTS if _get(given_answers, f.field) is not None
    }


# --- Bad records and requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("{", None, "malformed JSON"),
        ("[]", None, "must be a FHIR Bundle"),
        ('{"resourceType": "Patient", "id": "p"}', "resourceType", "expected Bundle"),
        ('{"resourceType": "Bundle", "type": "batch"}', "type", "searchset or collection"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": {}}', "entry", "list"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": [3]}', "entry[0]", "object"),
        (
            '{"resourceType": "Bundle", "type": "searchset", "entry": [{"fullUrl": "x"}]}',
            "entry[0].resource",
            "must hold a resource",
        ),
        (
            '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"id": "a"}}]}',
            "entry[0].resource.resourceType",
            "its type",
        ),
        (
            '{"resourceType": "Bundle", "type": "searchset", "entry": '
            '[{"resource": {"resourceType": "Condition"}}]}',
            "entry[0].resource.id",
            "must have an id",
        ),
        (
            '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": '
            '{"resourceType": "Observation", "id": "o", "status": [], "code": {}}}]}',
            "entry[0].resource.status",
            "valid string",
        ),
        (
            '{"resourceType": "Bundle", "type": "searchset", "entry": '
            '[{"resource": {"resourceType": "Sandwich", "id": "s"}}]}',
            "entry[0].resource.resourceType",
            "not a FHIR resource type",
        ),
    ],
)
def test_a_bad_record_is_refused_naming_the_problem(
    text: str, where: str | None, words: str
) -> None:
    with pytest.raises(RecordError) as caught:
        parse_record(text)
    [problem] = caught.value.problems
    assert problem.link_id == where
    assert words in problem.message


def test_bundles_nested_too_deep_are_refused() -> None:
    nested: Json = {"resourceType": "Bundle", "type": "collection", "entry": []}
    for _ in range(10):
        nested = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": nested}]}
    with pytest.raises(RecordError, match="nested"):
        read_record(nested)


def _request(*resources: Json, kind: str = "collection") -> Json:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


@pytest.mark.parametrize(
    ("build", "where", "words"),
    [
        (lambda r: _request(r, kind="searchset"), "type", "collection"),
        (lambda r: _request(patient()), "entry", "got 0"),
        (lambda r: _request(r, r), "entry", "got 2"),
        (
            lambda r: _request(patient(), r, {"resourceType": "Condition"}),
            "entry[2].resource.id",
            "must have an id",
        ),
    ],
    ids=["not a collection", "no response", "two responses", "a record resource without an id"],
)
def test_a_bad_request_bundle_is_refused_naming_the_problem(
    build: Any, where: str, words: str
) -> None:
    with pytest.raises(RecordError) as caught:
        split_request(build(response_json(_intake())))
    [problem] = caught.value.problems
    assert problem.link_id == where
    assert words in problem.message


def test_a_request_without_a_record_is_read_as_the_response_alone() -> None:
    intake, prefilled = read_request(json.dumps(response_json(_intake())), TODAY)
    assert intake == _intake()
    assert prefilled is None


# --- The FHIR Bundle ---------------------------------------------------------------------------


def _prefilled_bundle() -> tuple[Intake, Prefilled, Json]:
    intake, prefilled = intake_with_record(_intake(history={"cancer": False}), FACTS)
    found = _json(assessment_bundle(intake, assess(intake), recorded=RECORDED, record=prefilled))
    return intake, prefilled, found


def test_the_bundle_is_valid_r4_and_passes_the_invariants() -> None:
    _, _, found = _prefilled_bundle()
    assert schema_errors(found) == []
    assert unresolved_references(found) == []
    assert undefined_local_codes(found) == []
    assert_invariants(found)


def test_the_assessment_provenance_names_each_record_resource_used() -> None:
    _, prefilled, found = _prefilled_bundle()
    [main] = [p for p in _of_type(found, "Provenance") if len(p["target"]) > 1]
    record_entities = [e for e in main["entity"] if "identifier" in e["what"]]
    named = {
        e["what"]["identifier"]["value"]
        for e in record_entities
        if e["what"]["identifier"]["system"] == RECORD_RESOURCE_IDENTIFIER
    }
    assert named == set(prefilled.sources())
    for entity in record_entities:
        if entity["what"]["identifier"]["system"] == RECORD_RESOURCE_IDENTIFIER:
            assert entity["role"] == "source"
            assert entity["what"]["type"] == entity["what"]["identifier"]["value"].split("/")[0]
            assert entity["what"]["display"].startswith(entity["what"]["identifier"]["value"])
    # The record that differs is not a source of anything.
    assert "Condition/cancer-1" not in named


def test_each_item_filled_from_the_record_is_the_target_of_its_sources_provenance() -> None:
    intake, prefilled, found = _prefilled_bundle()
    [response] = _of_type(found, "QuestionnaireResponse")
    stack = list(response["item"])
    by_id: dict[str, Json] = {}
    while stack:
        item = stack.pop()
        if "id" in item:
            by_id[item["id"]] = item
        stack += item.get("item", [])
    [response_url] = [
        e["fullUrl"]
        for e in found["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    record_provenances = [
        p for p in _of_type(found, "Provenance") if any("extension" in t for t in p["target"])
    ]
    assert len(record_provenances) == len(prefilled.sources())
    targeted: dict[str, str] = {}
    for provenance in record_provenances:
        [entity] = provenance["entity"]
        assert entity["role"] == "source"
        assert TO_CONFIRM in provenance["activity"]["text"]
        assert provenance["agent"][0]["type"]["coding"][0]["code"] == "assembler"
        for target in provenance["target"]:
            assert target["reference"] == response_url
            [extension] = target["extension"]
            assert extension["url"] == TARGET_ELEMENT
            targeted[extension["valueUri"]] = entity["what"]["identifier"]["value"]
    assert set(targeted) == set(by_id)
    for element, source in targeted.items():
        item = by_id[element]
        assert element.startswith(RECORD_ITEM_ID)
        fields = {f.field for f in prefilled.applied if f.source == source}
        assert item["linkId"] in fields
    # The patient's own answer carries no mark, and the response still reads as the intake.
    assert all(item["linkId"] != "history.cancer" for item in by_id.values())
    assert intake_from_response(response) == intake


def test_the_risk_assessment_lists_the_answers_from_the_record_and_the_differences() -> None:
    _, prefilled, found = _prefilled_bundle()
    [risk] = _of_type(found, "RiskAssessment")
    notes = [n["text"] for n in risk["note"]]
    from_record = [n for n in notes if n.startswith("From the patient's record: ")]
    assert len(from_record) == len(prefilled.applied)
    assert all(TO_CONFIRM in n for n in from_record)
    [differs] = [n for n in notes if n.startswith("Record differs: ")]
    assert "history.cancer" in differs
    assert "Condition/cancer-1" in differs


def test_without_a_record_the_bundle_has_one_provenance_and_no_marks() -> None:
    intake = _intake()
    found = _json(assessment_bundle(intake, assess(intake), recorded=RECORDED))
    [provenance] = _of_type(found, "Provenance")
    assert all("identifier" not in e["what"] or e["role"] != "source" for e in provenance["entity"])
    assert RECORD_ITEM_ID not in json.dumps(_of_type(found, "QuestionnaireResponse"))
