"""The interview never crashes on bad input, keeps the answers when stopped, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from rich.prompt import Prompt
from typer.testing import Result

from spinepath import knowledge as kb
from spinepath.cli import interview
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway.intake import Intake
from spinepath.pathway.questionnaire import LEG_FOLLOW_UPS
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app

KNOWLEDGE = kb.default()
BELOW_KNEE = LEG_FOLLOW_UPS[0].question


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _no(question: QuestionDef) -> str:
    return {"yes_no": "n", "choice": "none"}[question.answer.kind]


def _screen(screen: str, **answers: str) -> list[str]:
    """An answer to each question of a screen asked whatever the answers: no, unless given."""
    return [
        answers.get(q.fact, _no(q))
        for q in KNOWLEDGE.questions
        if q.screen == screen and q.ask_if is None
    ]


ABOUT = ["40", "female", "n", "3", "2", "4"]  # age, sex, no spine operation, low back 2 weeks, 4
EVERYTHING = [*_screen("emergency"), *ABOUT, *_screen("red_flag")]


def _lines(answers: list[str]) -> str:
    return "\n".join(answers) + "\n"


def _run(app: typer.Typer, args: list[str], answers: list[str], cache: Path) -> Result:
    runner = cli_runner({**PLAIN_WIDE, "SPINEPATH_CACHE_DIR": str(cache)})
    return runner.invoke(app, ["interview", "--format", "json", *args], input=_lines(answers))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_running_out_of_input_saves_the_answers_so_far_and_says_where(
    app: typer.Typer, tmp_path: Path
) -> None:
    draft = tmp_path / "draft.json"
    given = [*_screen("emergency"), "40"]
    result = _run(app, ["--draft", str(draft)], given, tmp_path / "cache")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no traceback
    said = _flat(result.output)
    assert f"saved in {draft}" in said
    assert f"spinepath interview --resume {draft}" in said
    saved = json.loads(draft.read_text(encoding="utf-8"))["answers"]
    assert saved["age"] == 40
    assert saved["mimics.chest_pain"] is False
    assert len(saved) == len(given)
    assert draft.stat().st_mode & 0o077 == 0  # health data: for the user's eyes only


def test_a_resumed_interview_asks_only_the_rest_and_ends_as_an_uninterrupted_one(
    app: typer.Typer, tmp_path: Path
) -> None:
    whole, resumed, draft = tmp_path / "whole.json", tmp_path / "resumed.json", tmp_path / "d.json"
    assert _run(app, ["--save", str(whole)], EVERYTHING, tmp_path).exit_code == 0
    cut = len(_screen("emergency")) + 2  # stopped at the spine-operation question
    first = _run(app, ["--draft", str(draft)], EVERYTHING[:cut], tmp_path)
    assert first.exit_code == 2
    second = _run(app, ["--resume", str(draft), "--save", str(resumed)], EVERYTHING[cut:], tmp_path)
    assert second.exit_code == 0, second.output
    assert f"Carrying on from {cut} answers" in second.output
    assert "Do you have chest pain" not in second.output  # not asked again
    assert Intake.model_validate_json(resumed.read_text()) == Intake.model_validate_json(
        whole.read_text()
    )


def test_without_a_draft_option_the_answers_go_to_the_user_cache_directory(
    app: typer.Typer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    result = _run(app, [], _screen("emergency")[:3], cache)
    assert result.exit_code == 2
    expected = cache / interview.DRAFT_NAME
    assert f"saved in {expected}" in _flat(result.output)
    assert len(json.loads(expected.read_text())["answers"]) == 3


def test_ctrl_c_saves_the_answers_so_far(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter(["n", "n"])

    def ask(*args: object, **kwargs: object) -> str:
        answer = next(typed, None)
        if answer is None:
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(Prompt, "ask", ask)
    draft = tmp_path / "draft.json"
    result = _run(app, ["--draft", str(draft)], [], tmp_path)
    assert result.exit_code == interview.EXIT_INTERRUPTED
    assert json.loads(draft.read_text())["answers"] == {
        "mimics.chest_pain": False,
        "mimics.tearing_pain": False,
    }


def test_stopping_before_any_answer_saves_nothing(app: typer.Typer, tmp_path: Path) -> None:
    draft = tmp_path / "draft.json"
    result = _run(app, ["--draft", str(draft)], [], tmp_path)
    assert result.exit_code == 2
    assert "nothing was saved" in result.output
    assert not draft.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not an interview draft (not JSON"),
        ('{"answers": {}}', "not an interview draft"),
        ("[1, 2]", "not an interview draft"),
        (f'{{"format": "{interview.DRAFT_FORMAT}", "answers": []}}', "has no answers"),
    ],
)
def test_a_file_that_is_not_a_draft_is_refused_by_name(
    app: typer.Typer, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = _run(app, ["--resume", str(bad)], EVERYTHING, tmp_path)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert f"{bad}: " in result.output
    assert message in result.output


def test_an_edited_draft_answer_that_does_not_fit_is_asked_again(
    app: typer.Typer, tmp_path: Path
) -> None:
    draft = tmp_path / "draft.json"
    answers = {"mimics.chest_pain": False, "age": "forty", "sex": "robot"}
    draft.write_text(json.dumps({"format": interview.DRAFT_FORMAT, "answers": answers}))
    saved = tmp_path / "intake.json"
    rest = [*_screen("emergency")[1:], *ABOUT, *_screen("red_flag")]
    result = _run(app, ["--resume", str(draft), "--save", str(saved)], rest, tmp_path)
    assert result.exit_code == 0, result.output
    assert "How old are you" in result.output
    intake = Intake.model_validate_json(saved.read_text())
    assert (intake.age, intake.sex) == (40, "female")


def test_wrong_answers_are_asked_again_with_a_clear_message(
    app: typer.Typer, tmp_path: Path
) -> None:
    emergency = _screen("emergency")
    answers = [
        "maybe",  # not y, n or s
        *emergency[:13],
        "sideways",  # leg weakness: not a choice
        *emergency[13:],
        "forty",
        "1000",
        "40",
        "robot",
        "female",
        "n",
        "9",
        "3",
        "two",
        "12 fortnights",
        "3 days",
        "11",
        "4",
        *_screen("red_flag"),
    ]
    assert KNOWLEDGE.questions[13].fact == "neurology.leg_weakness"
    result = _run(app, [], answers, tmp_path)
    assert result.exit_code == 0, result.output
    said = _flat(result.output)
    assert said.count("Please select one of the available options") == 3
    assert said.count("Enter a whole number from 0 to 120.") == 2
    assert "Enter 1, 2 or 3" in said
    assert said.count("Enter a number of weeks (up to 5200) or of days, like '3 days'") == 2
    assert "Enter a whole number from 0 to 10." in said


@pytest.mark.parametrize(
    ("leg", "asked"),
    [("left", True), ("skip", True), ("none", False)],  # skipped: unknown is not no
)
def test_the_leg_pain_details_are_asked_as_the_web_asks_them(
    app: typer.Typer, tmp_path: Path, leg: str, asked: bool
) -> None:
    emergency = _screen("emergency", **{"radiation.leg": leg})
    # Not knowing about leg pain also asks whether it came on suddenly in both legs, and when.
    both_legs = ["n", "30"] if leg == "skip" else []
    follow_ups = ["n", "n", "n"] if asked else []
    answers = [*emergency, *both_legs, *ABOUT, *follow_ups, *_screen("red_flag")]
    result = _run(app, [], answers, tmp_path)
    assert result.exit_code == 0, result.output
    assert (BELOW_KNEE in result.output) is asked


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3 days", (3, "days")),
        ("3d", (3, "days")),
        ("1 day", (1, "days")),
        ("2", (2, "weeks")),
        ("2w", (2, "weeks")),
        ("2 WEEKS", (2, "weeks")),
        ("5200", (5200, "weeks")),
        ("36400 days", (36400, "days")),
        ("5201", None),
        ("36401 days", None),
        ("-3 days", None),
        ("3 months", None),
        ("", None),
    ],
)
def test_durations_are_read_in_days_or_weeks(typed: str, expected: tuple[int, str] | None) -> None:
    assert interview.read_duration(typed, 5200) == expected


def test_an_interview_answer_in_days_reaches_the_intake_as_completed_weeks(
    app: typer.Typer, tmp_path: Path
) -> None:
    saved = tmp_path / "intake.json"
    answers = [
        *_screen("emergency"),
        "40",
        "female",
        "n",
        "3",
        "41 days",
        "4",
        *_screen("red_flag"),
    ]
    result = _run(app, ["--save", str(saved)], answers, tmp_path)
    assert result.exit_code == 0, result.output
    intake = json.loads(saved.read_text(encoding="utf-8"))
    assert intake["regions"][0]["duration_weeks"] == 5, "41 days is under 6 weeks"
