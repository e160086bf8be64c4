"""`spinepath assess FILE --record RECORD.json`: the record fills the unanswered questions, each
output (text, json, fhir) says which answers came from it and where it differs from the patient,
an answer given is never changed, and a bad record exits 2 naming the problem, writing nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from spinepath.interop.assessment_bundle import RECORD_RESOURCE_IDENTIFIER, TARGET_ELEMENT
from spinepath.interop.intake_response import intake_from_response
from spinepath.interop.record_prefill import TO_CONFIRM
from spinepath.pathway.intake import Intake
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.fhir_checks import resources_in, unresolved_references
from support.fhir_record import RECORD_FOR_YES_NO, bundle, patient
from support.fhir_schema import schema_errors
from support.fhirpath_invariants import assert_invariants
from support.files import EXAMPLES_DIR
from support.intake_responses import response_json

RUNNER = cli_runner(PLAIN_WIDE)
Json = dict[str, Any]
EXAMPLE = EXAMPLES_DIR / "fhir" / "record"
INTAKE = EXAMPLE / "intake.json"
RECORD = EXAMPLE / "record.json"
# The example's dates (the MRI's weeks ago) are read as of this day.
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _invoke(app: typer.Typer, *args: str | Path) -> Result:
    with time_machine.travel(NOON, tick=False):
        return RUNNER.invoke(app, ["assess", *map(str, args)])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _write(tmp_path: Path, data: object, name: str) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _of_type(found: Json, kind: str) -> list[Json]:
    return [r for r in resources_in(found) if r["resourceType"] == kind]


def test_the_text_report_lists_the_answers_from_the_record_and_the_differences(
    app: typer.Typer,
) -> None:
    result = _invoke(app, INTAKE, "--record", RECORD)
    assert result.exit_code == 0, result.output
    text = _flat(result.stdout)
    assert f"From the patient's record ({TO_CONFIRM})" in text
    assert (
        "health.diabetes: yes — Condition/rec-diabetes (Type 2 diabetes mellitus without "
        "complications (ICD-10 E11.9))" in text
    )
    assert "history.long_term_steroids: yes — MedicationStatement/rec-pred" in text
    assert "imaging: MRI, 14 weeks ago, disc herniation — DiagnosticReport/rec-mri" in text
    assert "Record differs (the patient's answers were kept and assessed)" in text
    assert (
        "record differs: history.cancer: the patient answered no; the record has yes "
        "(Condition/rec-cancer: Malignant neoplasm of breast, unspecified (ICD-10 C50.9))" in text
    )


def test_the_json_output_adds_from_record_and_record_differs(app: typer.Typer) -> None:
    result = _invoke(app, INTAKE, "--record", RECORD, "-f", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert "triage" in found
    by_field = {e["field"]: e for e in found["from_record"]}
    assert set(by_field) == {"sex", "health.diabetes", "history.long_term_steroids", "imaging"}
    assert by_field["sex"] == {
        "field": "sex",
        "value": "female",
        "source": "Patient/rec-1",
        "display": "Administrative gender: female",
        "note": TO_CONFIRM,
    }
    [differs] = found["record_differs"]
    assert differs["field"] == "history.cancer"
    assert (differs["answer"], differs["value"]) == (False, True)
    assert differs["source"] == "Condition/rec-cancer"
    assert found["record_not_applied"] == []


def test_the_fhir_output_marks_provenance_and_keeps_the_patients_answer(
    app: typer.Typer,
) -> None:
    result = _invoke(app, INTAKE, "--record", RECORD, "-f", "fhir")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert schema_errors(found) == []
    assert unresolved_references(found) == []
    assert_invariants(found)
    [response] = _of_type(found, "QuestionnaireResponse")
    intake = intake_from_response(response)
    assert intake.history.cancer is False
    assert intake.health.diabetes is True
    provenances = _of_type(found, "Provenance")
    sources = {
        e["what"]["identifier"]["value"]
        for p in provenances
        for e in p["entity"]
        if e["what"].get("identifier", {}).get("system") == RECORD_RESOURCE_IDENTIFIER
    }
    assert sources == {
        "Patient/rec-1",
        "Condition/rec-diabetes",
        "MedicationStatement/rec-pred",
        "DiagnosticReport/rec-mri",
    }
    elements = {
        ext["valueUri"]
        for p in provenances
        for target in p["target"]
        for ext in target.get("extension", [])
        if ext["url"] == TARGET_ELEMENT
    }
    assert len(elements) == 4
    [risk] = _of_type(found, "RiskAssessment")
    assert any(n["text"].startswith("Record differs: history.cancer") for n in risk["note"])


def test_a_questionnaire_response_is_pre_filled_too(app: typer.Typer, tmp_path: Path) -> None:
    intake = Intake.model_validate_json(INTAKE.read_text(encoding="utf-8"))
    response = _write(tmp_path, response_json(intake), "response.json")
    result = _invoke(app, response, "--record", RECORD, "-f", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert {e["field"] for e in found["from_record"]} >= {"health.diabetes", "sex"}
    assert [d["field"] for d in found["record_differs"]] == ["history.cancer"]


def test_an_age_left_out_comes_from_the_record(app: typer.Typer, tmp_path: Path) -> None:
    intake = _write(
        tmp_path,
        {"regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 4}]},
        "intake.json",
    )
    record = _write(tmp_path, bundle(patient("1960-03-02", None)), "record.json")
    result = _invoke(app, intake, "--record", record, "-f", "json")
    assert result.exit_code == 0, result.output
    [age] = json.loads(result.stdout)["from_record"]
    assert (age["field"], age["value"], age["source"]) == ("age", 66, "Patient/pat-1")


def test_a_record_value_that_makes_the_intake_invalid_exits_2_naming_it(
    app: typer.Typer, tmp_path: Path
) -> None:
    intake = _write(
        tmp_path,
        {"regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 4}]},
        "intake.json",
    )
    record = _write(tmp_path, bundle(patient("2015-01-01", None)), "record.json")
    result = _invoke(app, intake, "--record", record)
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = _flat(result.stderr)
    assert "age:" in errors
    assert "age: 11 — from Patient/pat-1" in errors


def test_a_record_that_agrees_is_no_difference(app: typer.Typer, tmp_path: Path) -> None:
    intake = json.loads(INTAKE.read_text(encoding="utf-8"))
    intake["history"]["cancer"] = True
    path = _write(tmp_path, intake, "intake.json")
    result = _invoke(app, path, "--record", RECORD, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["record_differs"] == []


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ("{", "malformed JSON"),
        ("[1, 2]", "must be a FHIR Bundle (a JSON object), got a list"),
        ('{"resourceType": "Patient", "id": "x"}', "resourceType: expected Bundle, got 'Patient'"),
        ('{"resourceType": "Bundle", "type": "transaction"}', "type: must be searchset or"),
        (
            '{"resourceType": "Bundle", "type": "collection", "entry": '
            '[{"resource": {"resourceType": "Condition"}}]}',
            "entry[0].resource.id: missing",
        ),
        (
            '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
            '{"resourceType": "Patient", "id": "p", "birthDate": "1970-13-45"}}]}',
            "entry[0].resource.birthDate:",
        ),
    ],
    ids=[
        "malformed JSON",
        "a list",
        "a Patient",
        "a transaction",
        "a resource without an id",
        "a malformed birth date",
    ],
)
def test_a_bad_record_exits_2_naming_the_problem_and_writes_nothing(
    app: typer.Typer, tmp_path: Path, record: str, words: str
) -> None:
    path = _write(tmp_path, record, "record.json")
    for fmt in ("text", "json", "fhir"):
        result = _invoke(app, INTAKE, "--record", path, "-f", fmt)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        errors = _flat(result.stderr)
        assert f"{path}: the record cannot be used:" in errors
        assert words in errors


def test_an_unreadable_record_exits_2_naming_it(app: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = _invoke(app, INTAKE, "--record", missing)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(missing) in _flat(result.stderr)
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"resourceType": "Bundle", "x": "\xe9"}')
    result = _invoke(app, INTAKE, "--record", not_utf8)
    assert result.exit_code == 2
    assert "not valid UTF-8" in _flat(result.stderr)


def test_record_with_batch_is_refused(app: typer.Typer) -> None:
    result = _invoke(app, "--batch", EXAMPLES_DIR / "batch.ndjson", "--record", RECORD)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--record goes with one FILE" in _flat(result.stderr)


_YES_NO = ["history.cancer", "history.osteoporosis", "health.diabetes", "health.anticoagulants"]
_RECORD_FOR = RECORD_FOR_YES_NO


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    answered=st.dictionaries(st.sampled_from(_YES_NO), st.booleans()),
    in_record=st.sets(st.sampled_from(sorted(_RECORD_FOR))),
)
def test_an_answer_given_is_never_changed_in_any_output(
    app: typer.Typer, tmp_path: Path, answered: dict[str, bool], in_record: set[str]
) -> None:
    intake: Json = {
        "age": 50,
        "regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 4}],
    }
    for field, value in answered.items():
        group, name = field.split(".")
        intake.setdefault(group, {})[name] = value
    intake_path = _write(tmp_path, intake, "intake.json")
    record_path = _write(tmp_path, bundle(*(_RECORD_FOR[f] for f in in_record)), "record.json")
    result = _invoke(app, intake_path, "--record", record_path, "-f", "fhir")
    assert result.exit_code == 0, result.output
    [response] = _of_type(json.loads(result.stdout), "QuestionnaireResponse")
    read = intake_from_response(response).model_dump(mode="json")
    for field, value in answered.items():
        group, name = field.split(".")
        assert read[group][name] is value
    for field in in_record - set(answered):
        group, name = field.split(".")
        assert read[group][name] is True
    result = _invoke(app, intake_path, "--record", record_path, "-f", "json")
    found = json.loads(result.stdout)
    assert {e["field"] for e in found["from_record"]} == in_record - set(answered)
    assert {d["field"] for d in found["record_differs"]} == {
        f for f in in_record if answered.get(f) is False
    }
