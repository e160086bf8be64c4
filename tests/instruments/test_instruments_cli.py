"""The `instruments`, `score` and `progress` commands, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import time_machine
import typer
from typer.testing import CliRunner

from .answers import FIXTURES, ODI_SECTIONS, spread

SERIES = FIXTURES / "series.json"


def _answers_file(tmp_path: Path, payload: object) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


def test_list_shows_every_instrument_with_its_licence(cli: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "list"])
    assert result.exit_code == 0
    for code in ("odi", "ndi", "rmdq", "startback", "nrs_back", "peg3", "global_change"):
        assert f"\n{code} " in f"\n{result.stdout}"
    assert result.stdout.count("Licence:") == 10
    assert "Keele University" in result.stdout


def test_list_as_json_includes_licence_notices(cli: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "list", "--format", "json"])
    listed = {i["code"]: i for i in json.loads(result.stdout)}
    assert listed["odi"]["mcid"]["absolute"] == 10
    assert all(i["licence_notice"] for i in listed.values())


def test_show_without_wording_lists_item_codes_and_says_the_file_is_required(
    cli: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(
        cli, ["instruments", "show", "odi"], env={"SPINEPATH_INSTRUMENT_WORDING_DIR": ""}
    )
    assert result.exit_code == 0
    assert "[lifting] Lifting" in result.stdout
    assert "wording is not shipped" in result.stdout
    assert "Licence: Oswestry Disability Index" in result.stdout


def test_show_uses_the_wording_directory_from_the_environment(
    cli: typer.Typer, runner: CliRunner, wording_dir: Path
) -> None:
    result = runner.invoke(
        cli,
        ["instruments", "show", "odi"],
        env={"SPINEPATH_INSTRUMENT_WORDING_DIR": str(wording_dir)},
    )
    assert result.exit_code == 0
    assert "PLACEHOLDER section 3 heading (synthetic)" in result.stdout
    assert "Licence:" in result.stdout


def test_show_reports_a_bad_wording_directory(
    cli: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli, ["instruments", "show", "odi", "--wording-dir", str(tmp_path / "no")]
    )
    assert result.exit_code == 2
    assert "not a directory" in result.stderr


def test_export_fhir_prints_a_bundle_of_questionnaires(cli: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "export", "--fhir"])
    assert result.exit_code == 0
    bundle = json.loads(result.stdout)
    assert bundle["resourceType"] == "Bundle"
    resources = [e["resource"] for e in bundle["entry"]]
    assert {r["id"] for r in resources} >= {"odi", "ndi", "rmdq", "startback", "nrs-back", "peg3"}
    assert all(r["copyright"] for r in resources)


def test_export_fhir_writes_one_file_per_instrument(
    cli: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["instruments", "export", "--fhir", "--out", str(tmp_path)])
    assert result.exit_code == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "Questionnaire-odi.json" in written
    assert "Questionnaire-global-change.json" in written
    assert len(written) == 10


def test_export_without_a_format_fails(cli: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "export"])
    assert result.exit_code == 2
    assert "--fhir" in result.stderr


def test_score_prints_the_published_worked_example(
    cli: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = _answers_file(
        tmp_path, {"answers": {**spread(ODI_SECTIONS[:9], 16), "travelling": None}}
    )
    result = runner.invoke(cli, ["score", "odi", path])
    assert result.exit_code == 0
    assert "Score: 35.6% (16 of 45 points; 9 of 10 items answered)" in result.stdout
    assert "Band: Moderate disability (21-40%)" in result.stdout
    assert "Licence: Oswestry Disability Index" in result.stdout


def test_score_reads_stdin_and_prints_json(cli: typer.Typer, runner: CliRunner) -> None:
    payload = json.dumps({"answers": spread(ODI_SECTIONS, 16)})
    result = runner.invoke(cli, ["score", "ODI", "-", "--format", "json"], input=payload)
    assert result.exit_code == 0
    scored = json.loads(result.stdout)
    assert (scored["percent"], scored["band"]["code"], scored["valid"]) == (32.0, "moderate", True)
    assert "Mapi" in scored["licence_notice"]


def test_score_as_fhir_gives_a_response_and_an_observation(
    cli: typer.Typer, runner: CliRunner
) -> None:
    payload = json.dumps({"answers": {"intensity": 6}})
    result = runner.invoke(
        cli, ["score", "nrs_back", "-", "--format", "fhir", "--date", "2026-03-01"], input=payload
    )
    assert result.exit_code == 0
    types = [e["resource"]["resourceType"] for e in json.loads(result.stdout)["entry"]]
    assert types == ["QuestionnaireResponse", "Observation"]


def test_score_reports_an_invalid_response_without_failing(
    cli: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(
        cli, ["score", "odi", "-"], input=json.dumps({"answers": {"lifting": 2}})
    )
    assert result.exit_code == 0
    assert "Not scorable: 9 of 10 items not answered" in result.stdout


@pytest.mark.parametrize(
    ("instrument", "payload", "message"),
    [
        ("odi", {"answers": {"lifting": 6}}, "odi: item 'lifting': 6 is out of range 0-5"),
        ("odi", {"answers": {"lifting": "2"}}, "item 'lifting': expected a whole number"),
        ("odi", {"answers": {"lifts": 2}}, "item 'lifts': unknown item"),
        ("rmdq", {"answers": {"item_1": "yes"}}, "item 'item_1': expected true"),
        ("odi", {"answer": {}}, "stdin: answers: Field required"),
        ("odi", {"answers": {}, "date": "x"}, "stdin: date: Extra inputs are not permitted"),
        ("odi", [1, 2], "stdin: "),
        ("sf36", {"answers": {}}, "unknown instrument 'sf36'"),
    ],
)
def test_score_rejects_bad_input_naming_the_field(
    cli: typer.Typer, runner: CliRunner, instrument: str, payload: object, message: str
) -> None:
    result = runner.invoke(cli, ["score", instrument, "-"], input=json.dumps(payload))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_score_rejects_malformed_json(cli: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["score", "odi", "-"], input='{"answers": ')
    assert result.exit_code == 2
    assert "stdin: not valid JSON" in result.stderr


def test_score_reports_a_missing_file(cli: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["score", "odi", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "absent.json: cannot be read" in result.stderr


def test_progress_prints_change_responders_and_schedule(
    cli: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(cli, ["progress", str(SERIES), "--today", "2026-04-01"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # Baseline 22/45 = 48.9%; 30% at 6 weeks: -18.9 points, 38.6% improvement.
    assert "baseline" in out
    assert "MCID absolute yes, relative yes; responder yes" in out
    assert "3 months   2026-04-05  due" in out
    assert "Licence: Oswestry Disability Index" in out
    assert "Responder: both" in out


def test_progress_json_carries_both_flags_and_the_definition(
    cli: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(
        cli, ["progress", str(SERIES), "--today", "2026-04-01", "--format", "json"]
    )
    report = json.loads(result.stdout)
    odi = report["series"][0]
    assert odi["baseline_score"] == pytest.approx(2200 / 45)
    assert odi["points"][1]["absolute_mcid_met"] is True
    assert odi["points"][1]["relative_mcid_met"] is True
    assert odi["mcid"]["sources"] == ["OSTELO-2008"]


def test_progress_uses_the_real_date_when_no_today_is_given(
    cli: typer.Typer, runner: CliRunner
) -> None:
    with time_machine.travel("2026-06-30 12:00:00+00:00", tick=False):
        result = runner.invoke(cli, ["progress", str(SERIES), "--format", "json"])
    report = json.loads(result.stdout)
    assert report["today"] == "2026-06-30"
    statuses = [v["status"] for v in report["series"][0]["schedule"]]
    assert statuses == ["completed", "completed", "completed", "due", "upcoming", "upcoming"]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_progress_writes_the_plot(
    cli: typer.Typer, runner: CliRunner, tmp_path: Path, suffix: str
) -> None:
    plot = tmp_path / f"trajectory{suffix}"
    result = runner.invoke(
        cli, ["progress", str(SERIES), "--today", "2026-04-01", "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.stderr
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("payload", "args", "message"),
    [
        ([{"date": "2026-13-01", "instrument": "odi", "score": 3}], [], "stdin: 0.date:"),
        ([{"date": "2026-01-01", "instrument": "odi"}], [], "exactly one of 'answers' or 'score'"),
        ([{"date": "2026-01-01", "instrument": "odi", "score": 120}], [], "out of range 0-100"),
        ([{"date": "2026-01-01", "instrument": "xyz", "score": 1}], [], "unknown instrument 'xyz'"),
        (
            [{"date": "2026-01-01", "instrument": "nrs_leg", "answers": {"pain": 3}}],
            [],
            "item 'pain': unknown item",
        ),
        ({"date": "2026-01-01"}, [], "stdin: "),
        (
            [{"date": "2026-01-01", "instrument": "odi", "score": 3}],
            ["--schedule", "6 weeks"],
            "schedule",
        ),
        ([{"date": "2026-01-01", "instrument": "odi", "score": 3}], ["--today", "soon"], "--today"),
        (
            [{"date": "2026-01-01", "instrument": "odi", "score": 3}],
            ["--plot", "x.gif"],
            ".png or .svg",
        ),
    ],
)
def test_progress_rejects_bad_input_naming_the_field(
    cli: typer.Typer, runner: CliRunner, payload: object, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["progress", "-", *args], input=json.dumps(payload))
    assert result.exit_code == 2
    assert message in result.stderr
