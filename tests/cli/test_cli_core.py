"""The core command line: assess, batch, schema and interview, driven through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import typer
from typer.testing import CliRunner, Result

from spinepath import cli
from spinepath.engine import assess
from spinepath.intake import Intake

RUNNER = CliRunner(env={"COLUMNS": "240", "NO_COLOR": "1"})
EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    # _register_commands adds every command to the shared app: do it once per process.
    if not any(command.name == "assess" for command in cli.app.registered_commands):
        cli._register_commands()
    return cli.app


def _flat(text: str) -> str:
    return " ".join(text.split())


def _invoke(app: typer.Typer, args: list[str], stdin: str | None = None) -> Result:
    return RUNNER.invoke(app, args, input=stdin)


def sciatica() -> dict[str, Any]:
    return {
        "age": 38,
        "sex": "female",
        "regions": [{"region": "low_back", "duration_weeks": 4, "intensity": 6}],
        "radiation": {"leg": "right", "leg_below_knee": True},
        "history": {"cancer": False, "trauma": "none"},
    }


def _write(tmp_path: Path, data: object, name: str = "intake.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- assess -------------------------------------------------------------------------------------


def test_it_assesses_a_file_as_a_text_report(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, ["assess", str(_write(tmp_path, sciatica()))])
    assert result.exit_code == 0, result.output
    assert "spinepath assessment" in result.stdout
    assert "Surgical candidacy" in result.stdout


def test_it_assesses_a_file_as_json_equal_to_the_engine_output(
    app: typer.Typer, tmp_path: Path
) -> None:
    result = _invoke(app, ["assess", str(_write(tmp_path, sciatica())), "--format", "json"])
    assert result.exit_code == 0, result.output
    expected = assess(Intake.model_validate(sciatica())).model_dump(mode="json")
    assert json.loads(result.stdout) == expected


def test_it_assesses_an_intake_from_standard_input(app: typer.Typer) -> None:
    result = _invoke(app, ["assess", "-", "-f", "json"], stdin=json.dumps(sciatica()))
    assert result.exit_code == 0, result.output
    # Emergency-screen questions are left unanswered, so the floor for them applies.
    assert json.loads(result.stdout)["triage"]["level"] == "soon"


def test_it_rejects_input_that_is_not_json(app: typer.Typer) -> None:
    result = _invoke(app, ["assess", "-"], stdin="{not json")
    assert result.exit_code == 2
    assert "not valid JSON" in _flat(result.output)


def test_it_rejects_an_unknown_field_naming_its_path(app: typer.Typer) -> None:
    data = sciatica()
    data["history"]["smoker"] = True
    result = _invoke(app, ["assess", "-"], stdin=json.dumps(data))
    assert result.exit_code == 2
    assert "history.smoker" in _flat(result.output)


def test_it_rejects_an_out_of_range_intensity_naming_its_path(app: typer.Typer) -> None:
    data = sciatica()
    data["regions"][0]["intensity"] = 11
    result = _invoke(app, ["assess", "-"], stdin=json.dumps(data))
    assert result.exit_code == 2
    assert "regions.0.intensity" in _flat(result.output)


def test_it_refuses_a_child_naming_the_age_field(app: typer.Typer) -> None:
    data = sciatica()
    data["age"] = 12
    result = _invoke(app, ["assess", "-"], stdin=json.dumps(data))
    assert result.exit_code == 2
    assert "age:" in _flat(result.output)
    assert "16" in _flat(result.output)


def test_it_reports_a_missing_file(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, ["assess", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert "no such file" in _flat(result.output)


def test_it_asks_for_a_file_when_given_none(app: typer.Typer) -> None:
    assert _invoke(app, ["assess"]).exit_code == 2


# --- batch --------------------------------------------------------------------------------------


def test_it_assesses_a_batch_and_records_a_bad_line_as_an_error(
    app: typer.Typer, tmp_path: Path
) -> None:
    good = json.dumps(sciatica())
    bad = sciatica()
    bad["regions"][0]["intensity"] = 12
    source = tmp_path / "intakes.ndjson"
    source.write_text("\n".join([good, good, json.dumps(bad), good]) + "\n", encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = _invoke(app, ["assess", "--batch", str(source), "-o", str(out)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 4
    assert records[2]["line"] == 3
    assert any("regions.0.intensity" in error for error in records[2]["errors"])
    for index in (0, 1, 3):
        assert records[index]["triage"]["level"] == "soon"
    assert "assessed 3" in result.stderr
    assert "failed 1" in result.stderr


def test_it_exits_0_when_every_batch_line_is_good(app: typer.Typer, tmp_path: Path) -> None:
    source = tmp_path / "intakes.ndjson"
    source.write_text(json.dumps(sciatica()) + "\n\n" + json.dumps(sciatica()) + "\n")
    out = tmp_path / "out.ndjson"
    result = _invoke(app, ["assess", "--batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_it_reports_a_missing_batch_file(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, ["assess", "--batch", str(tmp_path / "none.ndjson")])
    assert result.exit_code == 2


# --- schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["intake", "assessment"])
def test_it_prints_a_valid_json_schema(app: typer.Typer, name: str) -> None:
    result = _invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)


def test_it_prints_an_intake_schema_that_accepts_an_example_and_rejects_a_bad_intake(
    app: typer.Typer,
) -> None:
    schema = json.loads(_invoke(app, ["schema", "intake"]).stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(EXAMPLES.glob("*.json"))[:5]:
        validator.validate(json.loads(path.read_text(encoding="utf-8")))
    validator.validate(sciatica())
    bad = sciatica()
    bad["regions"][0]["intensity"] = 11
    assert not validator.is_valid(bad)


def test_it_prints_an_assessment_schema_that_accepts_an_assessment(app: typer.Typer) -> None:
    schema = json.loads(_invoke(app, ["schema", "assessment"]).stdout)
    output = assess(Intake.model_validate(sciatica())).model_dump(mode="json")
    jsonschema.Draft202012Validator(schema).validate(output)


# --- interview ----------------------------------------------------------------------------------

# Emergency screen, in questions.yaml order (questions with ask_if come later).
EMERGENCY_NO = [
    "n",  # chest pain
    "n",  # tearing pain
    "n",  # collapse
    "n",  # breathlessness
    "n",  # pulsating mass
    "none",  # trauma
    "n",  # urinary difficulty
    "n",  # bladder sensation
    "n",  # urinary incontinence
    "n",  # bowel incontinence
    "n",  # saddle numbness
    "n",  # sexual dysfunction
    "none",  # leg weakness
    "none",  # leg numbness
    "none",  # leg radiation
]


def _lines(answers: list[str]) -> str:
    return "\n".join(answers) + "\n"


def test_it_stops_the_interview_at_the_first_emergency_yes(app: typer.Typer) -> None:
    result = _invoke(app, ["interview"], stdin=_lines(["y"]))
    assert result.exit_code == 3
    assert "999" in result.output
    assert "How old are you" not in result.output


def test_it_stops_the_interview_on_major_trauma(app: typer.Typer) -> None:
    result = _invoke(app, ["interview"], stdin=_lines([*EMERGENCY_NO[:5], "major"]))
    assert result.exit_code == 3
    assert "999" in result.output


def test_it_refuses_a_child_in_the_interview(app: typer.Typer) -> None:
    result = _invoke(app, ["interview"], stdin=_lines([*EMERGENCY_NO, "15"]))
    assert result.exit_code == 2
    assert "aged 16 and over" in _flat(result.output)


def test_it_runs_a_full_interview_to_an_assessment(app: typer.Typer, tmp_path: Path) -> None:
    answers = [
        *EMERGENCY_NO,
        "40",  # age
        "female",  # sex
        "3",  # low back
        "2",  # weeks
        "4",  # intensity
        "n",  # progressing (asked: arm weakness is not known yet)
        "n",  # cancer
        "n",  # fever
        "n",  # weight loss
        "n",  # night sweats
        "none",  # arm weakness
        "none",  # arm numbness
        "none",  # arm radiation
        "n",  # foot drop
        "n",  # gait change
        # hand clumsiness and electric shocks are not asked for low back pain alone
        *["n"] * 3,  # not eased by rest, worse at night, worse on straining
        "n",  # lump or shape change
        *["n"] * 6,  # steroids, immunosuppression, drugs, infection, procedure, osteoporosis
        "n",  # abdominal pain
        "n",  # loin pain with urinary symptoms
        "n",  # previous fragility fracture (asked from age or injury; onset not known yet)
        "n",  # feels unwell (asked while TB is not yet known)
        "n",  # tuberculosis
        *["n"] * 10,  # room for yes/no questions added to questions.yaml later
    ]
    saved = tmp_path / "answers.json"
    result = _invoke(
        app, ["interview", "--format", "json", "--save", str(saved)], stdin=_lines(answers)
    )
    assert result.exit_code == 0, result.output
    start = result.stdout.index('{\n  "assessment_version"')
    assessment = json.loads(result.stdout[start:])
    intake = Intake.model_validate_json(saved.read_text(encoding="utf-8"))
    assert intake.age == 40
    assert assessment == assess(intake).model_dump(mode="json")
    assert assessment["triage"]["still_to_ask"] == []
    assert assessment["triage"]["level"] == "self_care"
