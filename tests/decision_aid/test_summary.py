"""The printable "my decision" summary: one page with the decision, the options and their key
numbers, what matters to the person, their leaning and the questions for the surgeon.

Read back with pdftotext (poppler), a tool the project did not write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spinepath.cli import decision_aid as cli_decision_aid
from spinepath.decision_aid.catalogue import load_catalogue
from support.cli import command_app
from support.files import EXAMPLES_DIR

EXAMPLE = EXAMPLES_DIR / "sciatica-refer-surgical-opinion.json"
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")


@pytest.fixture
def app() -> typer.Typer:
    return command_app(cli_decision_aid.app)


def _text(pdf: Path) -> str:
    assert PDFTOTEXT is not None, "pdftotext is needed: install poppler-utils (.ci/run does)"
    out = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, check=True, text=True)
    return " ".join(out.stdout.split())


def _pages(pdf: Path) -> int:
    assert PDFINFO is not None, "pdfinfo is needed: install poppler-utils (.ci/run does)"
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, check=True, text=True)
    return int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )


def _summary(app: typer.Typer, runner: CliRunner, tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "my-decision.pdf"
    args = ["decision-aid", str(EXAMPLE), "--summary", "--format", "pdf", "-o", str(out), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_the_summary_carries_the_persons_values_leaning_and_questions_on_one_page(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    values = tmp_path / "values.json"
    values.write_text(
        json.dumps(
            {
                "importance": {"fast_relief": 4, "avoid_operation_risks": 1},
                "leaning": "leaning_non_surgical",
                "note": "I care for my mother and cannot be off my feet for long.",
            }
        )
    )
    pdf = _summary(app, runner, tmp_path, "--values", str(values))
    text = _text(pdf)
    assert _pages(pdf) == 1
    assert "Getting relief from leg or arm pain as quickly as possible: extremely" in text
    assert "Avoiding the risks of an operation and anaesthetic: a little" in text
    assert "I am leaning towards non-surgical care for now" in text
    assert "I care for my mother and cannot be off my feet for long." in text
    questions = load_catalogue().content.questions_for_surgeon
    for question in questions:
        assert question in text, question
    assert "Should I have an operation to remove the disc bulge now" in text
    assert "95 in 100" in text  # the key comparison, for every option that has it


def test_a_summary_before_any_answers_says_they_are_not_recorded(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    text = _text(_summary(app, runner, tmp_path))
    assert "Not recorded yet" in text
    assert "leaning towards surgery" not in text


def test_the_summary_is_a_page_to_print_not_json(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["decision-aid", str(EXAMPLE), "--summary", "--format", "json"])
    assert result.exit_code != 0
    assert "--summary is a page to print" in result.output
