"""`spinepath decision-aid`: formats, output files, values, schema and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spinepath.cli import decision_aid as cli_decision_aid
from spinepath.decision_aid.models import DecisionAid
from support.cli import command_app
from support.files import EXAMPLES_DIR

EXAMPLE = EXAMPLES_DIR / "sciatica-refer-surgical-opinion.json"


@pytest.fixture
def app() -> typer.Typer:
    return command_app(cli_decision_aid.app)


def test_it_writes_json_that_is_a_valid_decision_aid(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    aid = DecisionAid.model_validate_json(result.stdout)
    assert aid.conditions[0].id == "lumbar_disc_herniation"


def test_it_writes_an_html_page_by_default(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")


def test_it_writes_a_fragment_on_request(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--fragment"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('<article class="da"')


def test_it_reads_standard_input(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["decision-aid", "-", "-f", "json"], input=EXAMPLE.read_text(encoding="utf-8")
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["decision_aid_version"] == "1"


def test_it_records_the_values_exercise(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"importance": {"fast_relief": 4}, "leaning": "unsure"}))
    result = runner.invoke(
        app, ["decision-aid", str(EXAMPLE), "-f", "json", "--values", str(values)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["values"]["leaning"] == "unsure"


def test_it_prints_the_json_schema(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", "--schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "DecisionAid"
    assert "decision_aid_version" in schema["properties"]


def test_it_writes_an_output_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "aid.html"
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["aid.html"]


def test_it_rejects_a_bad_field_by_name_and_writes_nothing(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    bad = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bad["age"] = "forty"
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(bad))
    out = tmp_path / "aid.html"
    result = runner.invoke(app, ["decision-aid", str(source), "-o", str(out)])
    assert result.exit_code == 2
    assert "age" in result.output
    assert not out.exists()


def test_it_rejects_a_child(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    child = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    child["age"] = 12
    source = tmp_path / "child.json"
    source.write_text(json.dumps(child))
    result = runner.invoke(app, ["decision-aid", str(source)])
    assert result.exit_code == 2
    assert "age" in result.output


def test_it_rejects_text_that_is_not_json(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", "-"], input="{not json")
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_it_rejects_a_missing_file(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", "no-such-file.json"])
    assert result.exit_code == 2
    assert "no-such-file.json: cannot be read (no such file" in result.output


def test_it_rejects_an_unknown_format(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--format", "docx"])
    assert result.exit_code == 2
    assert "format" in result.output


def test_it_rejects_bad_values_by_field(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"importance": {}, "leaning": "maybe"}))
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--values", str(values)])
    assert result.exit_code == 2
    assert "leaning" in result.output
    values.write_text(json.dumps({"importance": {"cheapest": 1}, "leaning": "unsure"}))
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--values", str(values)])
    assert result.exit_code == 2
    assert "unknown values item 'cheapest'" in result.output


def test_it_needs_a_file_or_schema(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid"])
    assert result.exit_code == 2
    assert "give an intake FILE" in result.output


def test_it_refuses_to_write_into_a_missing_directory(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "aid.html"
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_it_prints_the_ipdas_checklist(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--checklist"])
    assert result.exit_code == 0, result.output
    assert "IPDAS checklist" in result.stdout
    assert result.stdout.count("met") >= 22
    assert "not met" not in result.stdout
