"""The core command line: assess, batch, schema and interview, driven through Typer's runner."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import typer
from rich.console import Console
from typer.testing import Result

from spinepath import knowledge as kb
from spinepath.cli.interview import EmergencyStop, run_interview
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.pathway.kleene import FactValue
from spinepath.pathway.questionnaire import DurationUnit
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.files import example_paths
from support.intakes import low_back_pain

RUNNER = cli_runner(PLAIN_WIDE)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _invoke(app: typer.Typer, args: list[str], stdin: str | None = None) -> Result:
    return RUNNER.invoke(app, args, input=stdin)


def sciatica() -> dict[str, Any]:
    """Four weeks of low back pain with right leg pain below the knee, partly answered."""
    return low_back_pain(
        age=38,
        sex="female",
        weeks=4,
        intensity=6,
        radiation={"leg": "right", "leg_below_knee": True},
        history={"cancer": False, "trauma": "none"},
    )


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
    for path in example_paths()[:5]:
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

KNOWLEDGE = kb.default()
SEX_AND_NO_SPINE_OPERATION = ["female", "n"]


def _no(question: QuestionDef) -> str:
    """The console answer for no (no injury, nothing on either side)."""
    return {"yes_no": "n", "choice": "none"}[question.answer.kind]


def _no_to_every(screen: str, before: str | None = None) -> list[str]:
    """No to each question of a screen that is asked whatever the answers (up to ``before``)."""
    answers = []
    for question in KNOWLEDGE.questions:
        if question.fact == before:
            break
        if question.screen == screen and question.ask_if is None:
            answers.append(_no(question))
    return answers


EMERGENCY_NO = _no_to_every("emergency")


def _lines(answers: list[str]) -> str:
    return "\n".join(answers) + "\n"


def test_it_stops_the_interview_at_the_first_emergency_yes(app: typer.Typer) -> None:
    assert KNOWLEDGE.questions[0].fact == "mimics.chest_pain"
    result = _invoke(app, ["interview"], stdin=_lines(["y"]))
    assert result.exit_code == 3
    assert "999" in result.output
    assert "Chest pain with back pain" in _flat(result.output)
    assert "How old are you" not in result.output


def test_it_stops_the_interview_on_major_trauma(app: typer.Typer) -> None:
    before = _no_to_every("emergency", before="history.trauma")
    result = _invoke(app, ["interview"], stdin=_lines([*before, "major"]))
    assert result.exit_code == 3
    assert "999" in result.output


def test_a_pulsating_lump_in_the_tummy_stops_the_interview(app: typer.Typer) -> None:
    before = _no_to_every("emergency", before="mimics.pulsating_abdominal_mass")
    result = _invoke(app, ["interview"], stdin=_lines([*before, "y"]))
    assert result.exit_code == 3
    assert "A pulsing lump in the tummy with back pain" in _flat(result.output)


def test_breathlessness_with_upper_back_pain_stops_the_interview_once_the_pain_is_placed(
    app: typer.Typer,
) -> None:
    answers = [
        "y" if a == "mimics.breathlessness" else _no(q)
        for q in KNOWLEDGE.questions
        if q.screen == "emergency" and q.ask_if is None
        for a in [q.fact]
    ]
    after_screen = ["n", "40", *SEX_AND_NO_SPINE_OPERATION, "2", "1", "5"]  # not sweating
    result = _invoke(app, ["interview"], stdin=_lines([*answers, *after_screen]))
    assert result.exit_code == 3, result.output
    assert "Upper-back pain with breathlessness" in _flat(result.output)


def test_it_refuses_a_child_in_the_interview(app: typer.Typer) -> None:
    result = _invoke(app, ["interview"], stdin=_lines([*EMERGENCY_NO, "15"]))
    assert result.exit_code == 2
    assert "aged 16 and over" in _flat(result.output)


def test_an_out_of_range_number_is_asked_again_never_a_crash(app: typer.Typer) -> None:
    answers = [*EMERGENCY_NO, "130", "forty", "40", *SEX_AND_NO_SPINE_OPERATION, "3", "-1", "2"]
    answers += ["11", "4", *_no_to_every("red_flag")]
    result = _invoke(app, ["interview", "--format", "json"], stdin=_lines(answers))
    assert result.exit_code == 0, result.output
    assert _flat(result.output).count("Enter a whole number from 0 to 120.") == 2
    assert "Enter a whole number from 0 to 10." in result.output


def test_it_runs_a_full_interview_to_an_assessment(app: typer.Typer, tmp_path: Path) -> None:
    answers = [
        *EMERGENCY_NO,
        "40",  # age
        *SEX_AND_NO_SPINE_OPERATION,
        "3",  # low back
        "2",  # weeks
        "4",  # intensity
        # With every answer no, no follow-up question applies.
        *_no_to_every("red_flag"),
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
    assert intake.history.prior_spine_surgery is False
    assert assessment == assess(intake).model_dump(mode="json")
    assert assessment["triage"]["still_to_ask"] == []


class ScriptedAsker:
    """Answers by fact, and records which red-flag questions were asked, in order."""

    def __init__(self, answers: dict[str, FactValue], regions: list[str]) -> None:
        self.by_text = {q.question: q.fact for q in KNOWLEDGE.questions}
        self.answers = answers
        self.region_answer = regions
        self.asked: list[str] = []

    def _answer(self, text: str, default: FactValue) -> FactValue:
        fact = self.by_text.get(text)
        if fact is None:
            return default
        self.asked.append(fact)
        return self.answers.get(fact, default)

    def say(self, text: str) -> None:
        pass

    def yes_no(self, text: str, hint: str | None = None) -> bool | None:
        answer = self._answer(text, False)
        assert answer is None or isinstance(answer, bool)
        return answer

    def choice(
        self, text: str, choices: Sequence[tuple[str, str]], *, skippable: bool = True
    ) -> str | None:
        answer = self._answer(text, choices[0][0])
        assert answer is None or isinstance(answer, str)
        return answer

    def number(
        self, text: str, minimum: int, maximum: int, *, unit: str | None = None, skippable: bool
    ) -> int | None:
        answer = self._answer(text, 60 if "old" in text else 10 if "weeks" in text else 5)
        assert answer is None or isinstance(answer, int)
        return answer

    def duration(self, text: str, max_weeks: int) -> tuple[int, DurationUnit]:
        return 10, "weeks"

    def regions(self, text: str) -> list[str]:
        return self.region_answer


# Answers that make every follow-up question apply without an emergency.
EVERY_BRANCH: dict[str, FactValue] = {
    "mimics.breathlessness": True,  # -> sweating
    "cauda_equina.saddle_numbness": True,  # -> how many days ago
    "cauda_equina.onset_days": 30,  # began weeks ago: urgent, not an emergency
    "radiation.leg": "both",  # -> sudden onset, since when in both legs
    "radiation.both_legs_since_days": 30,
    "neurology.leg_numbness_or_tingling": "left",  # -> getting worse?
    "neurology.arm_weakness": "left",  # -> clumsy hands
    "pain.sudden_onset": True,  # -> previous fragility fracture
    "history.recent_spinal_procedure": True,  # -> wound; infection risk -> feels unwell
}


def test_the_interview_asks_every_question_once_in_knowledge_base_order() -> None:
    asker = ScriptedAsker(EVERY_BRANCH, regions=["neck"])  # neck -> electric shocks
    run_interview(Console(file=io.StringIO()), KNOWLEDGE, asker)
    assert asker.asked == [q.fact for q in KNOWLEDGE.questions]


def test_the_interview_asks_how_many_days_ago_only_after_a_yes_to_a_bladder_question() -> None:
    quiet = Console(file=io.StringIO())
    no_bladder = ScriptedAsker({}, regions=["low_back"])
    run_interview(quiet, KNOWLEDGE, no_bladder)
    assert "cauda_equina.onset_days" not in no_bladder.asked
    bladder = ScriptedAsker({"cauda_equina.urinary_difficulty": True}, regions=["low_back"])
    with pytest.raises(EmergencyStop) as stop:
        run_interview(quiet, KNOWLEDGE, bladder)  # days ago left unanswered: unknown is recent
    assert bladder.asked[-1] == "cauda_equina.onset_days"
    assert stop.value.findings == [
        next(r.finding for r in KNOWLEDGE.red_flags if r.id == "RF-CES-NEW")
    ]


@pytest.mark.parametrize(
    ("fact", "rule_id"),
    [
        ("mimics.chest_pain", "RF-CHEST-PAIN"),
        ("mimics.pulsating_abdominal_mass", "RF-PULSATILE-MASS"),
    ],
)
def test_a_yes_that_is_an_emergency_stops_the_interview_at_once(fact: str, rule_id: str) -> None:
    asker = ScriptedAsker({fact: True}, regions=["low_back"])
    with pytest.raises(EmergencyStop) as stop:
        run_interview(Console(file=io.StringIO()), KNOWLEDGE, asker)
    assert asker.asked[-1] == fact
    assert stop.value.findings == [next(r.finding for r in KNOWLEDGE.red_flags if r.id == rule_id)]
