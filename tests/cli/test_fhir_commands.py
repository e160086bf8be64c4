"""FHIR on the command line: `questionnaire --fhir`, `assess` of a QuestionnaireResponse and
`assess --format fhir`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import Result

from spinepath.interop import intake_questionnaire
from spinepath.pathway.engine import assess
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.fhir_checks import resources_in, unresolved_references
from support.fhir_schema import schema_errors
from support.files import EXAMPLES_DIR
from support.intake_responses import example_intake, response_item, response_json

RUNNER = cli_runner(PLAIN_WIDE)
Json = dict[str, Any]
EXAMPLE = "sciatica-refer-surgical-opinion.json"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _invoke(app: typer.Typer, args: list[str], stdin: str | None = None) -> Result:
    return RUNNER.invoke(app, args, input=stdin)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _write(tmp_path: Path, data: object, name: str = "response.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_questionnaire_fhir_prints_the_intake_questionnaire(app: typer.Typer) -> None:
    result = _invoke(app, ["questionnaire", "--fhir"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert schema_errors(printed) == []
    expected = intake_questionnaire.questionnaire().model_dump(mode="json", exclude_none=True)
    assert printed == expected


def test_questionnaire_without_a_format_says_which_to_choose(app: typer.Typer) -> None:
    result = _invoke(app, ["questionnaire"])
    assert result.exit_code == 2
    assert "--fhir" in result.output
    assert result.stdout == ""


def test_a_questionnaire_response_is_assessed_as_its_intake_is(
    app: typer.Typer, tmp_path: Path
) -> None:
    intake = example_intake(EXAMPLE)
    path = _write(tmp_path, response_json(intake))
    result = _invoke(app, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == assess(intake).model_dump(mode="json")


def test_a_questionnaire_response_on_standard_input_gives_the_text_report(
    app: typer.Typer,
) -> None:
    result = _invoke(app, ["assess", "-"], stdin=json.dumps(response_json(example_intake(EXAMPLE))))
    assert result.exit_code == 0, result.output
    assert "spinepath assessment" in result.stdout


def test_format_fhir_prints_a_valid_assessment_bundle(app: typer.Typer, tmp_path: Path) -> None:
    intake = example_intake("cauda-equina-emergency.json")
    for path in (
        EXAMPLES_DIR / "cauda-equina-emergency.json",
        _write(tmp_path, response_json(intake)),
    ):
        result = _invoke(app, ["assess", str(path), "--format", "fhir"])
        assert result.exit_code == 0, result.output
        bundle = json.loads(result.stdout)
        assert schema_errors(bundle) == []
        assert unresolved_references(bundle) == []
        [risk] = [r for r in resources_in(bundle) if r["resourceType"] == "RiskAssessment"]
        assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == "emergency"


def test_format_fhir_is_for_one_file_not_a_batch(app: typer.Typer) -> None:
    batch = EXAMPLES_DIR / "batch.ndjson"
    result = _invoke(app, ["assess", "--batch", str(batch), "--format", "fhir"])
    assert result.exit_code == 2
    assert "--batch" in result.output
    assert result.stdout == ""


def _bad_responses() -> dict[str, tuple[Json | str, str]]:
    """Each bad response, and what the message must name."""
    unknown = response_json(example_intake(EXAMPLE))
    response_item(unknown, "group-about")["item"].append(
        {"linkId": "favourite_colour", "answer": [{"valueString": "blue"}]}
    )
    text_for_number = response_json(example_intake(EXAMPLE))
    response_item(text_for_number, "regions.low_back.intensity")["answer"] = [{"valueString": "7"}]
    child = response_json(example_intake(EXAMPLE))
    response_item(child, "age")["answer"] = [{"valueInteger": 12}]
    return {
        "unknown linkId": (unknown, "favourite_colour: unknown linkId"),
        "text for a number": (
            text_for_number,
            "regions.low_back.intensity: expected valueInteger",
        ),
        "age 12": (child, "age: spinepath is for people aged 16 and over"),
        "malformed JSON": ('{"resourceType": "QuestionnaireResponse", "item": [', "not valid JSON"),
    }


@pytest.mark.parametrize("case", list(_bad_responses()))
def test_a_bad_response_exits_2_naming_the_item_and_prints_nothing(
    app: typer.Typer, tmp_path: Path, case: str
) -> None:
    data, named = _bad_responses()[case]
    path = tmp_path / "response.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    for fmt in ("text", "fhir"):
        result = _invoke(app, ["assess", str(path), "--format", fmt])
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert named in _flat(result.stderr)
        assert str(path) in _flat(result.stderr)


def test_another_fhir_resource_is_refused_naming_its_type(app: typer.Typer) -> None:
    result = _invoke(app, ["assess", "-"], stdin=json.dumps({"resourceType": "Patient"}))
    assert result.exit_code == 2
    assert "resourceType: expected QuestionnaireResponse, got 'Patient'" in _flat(result.stderr)
