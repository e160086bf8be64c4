"""The knowledge base loads, passes its own checks, and `kb check` names each kind of breakage."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import Result

from spinepath import knowledge as kb
from spinepath.pathway.assessment import Level
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.knowledge import copy_knowledge, edit_yaml

RUNNER = cli_runner(PLAIN_WIDE)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _invoke(app: typer.Typer, *args: str) -> Result:
    return RUNNER.invoke(app, list(args))


def test_it_has_a_knowledge_base_that_passes_its_own_checks() -> None:
    assert kb.check(kb.load()) == []


def test_it_reports_the_packaged_knowledge_base_valid_on_the_command_line(
    app: typer.Typer,
) -> None:
    result = _invoke(app, "kb", "check")
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output


# --- breaking a copy of the knowledge directory -------------------------------------------------


def _edit_red_flags(directory: Path, change: Callable[[list[dict[str, object]]], None]) -> None:
    path = directory / "red_flags.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(rules)
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")


def _set_field(name: str, value: object) -> Callable[[list[dict[str, object]]], None]:
    def change(rules: list[dict[str, object]]) -> None:
        rule = next(r for r in rules if r["id"] == "RF-FEVER")
        rule[name] = value

    return change


def _drop_field(name: str) -> Callable[[list[dict[str, object]]], None]:
    def change(rules: list[dict[str, object]]) -> None:
        del next(r for r in rules if r["id"] == "RF-FEVER")[name]

    return change


def _set_evidence(**fields: str) -> Callable[[list[dict[str, object]]], None]:
    def change(rules: list[dict[str, object]]) -> None:
        evidence = next(r for r in rules if r["id"] == "RF-FEVER")["evidence"]
        assert isinstance(evidence, dict)
        evidence.update(fields)

    return change


def _duplicate(rules: list[dict[str, object]]) -> None:
    rules.append(dict(next(r for r in rules if r["id"] == "RF-FEVER")))


BREAKAGES: dict[str, tuple[Callable[[list[dict[str, object]]], None], list[str]]] = {
    "duplicate id": (_duplicate, ["RF-FEVER", "duplicate"]),
    "rule with no sources": (_set_field("sources", []), ["RF-FEVER", "sources"]),
    "source id not in the registry": (
        _set_field("sources", ["NO-SUCH-SOURCE:section 1"]),
        ["RF-FEVER", "NO-SUCH-SOURCE"],
    ),
    "condition reading an unknown fact": (
        _set_field("when", "systemic.no_such_fact"),
        ["RF-FEVER", "systemic.no_such_fact"],
    ),
    "unknown concern code": (
        _set_field("concern", "no_such_concern"),
        ["RF-FEVER", "no_such_concern"],
    ),
    "unparseable condition": (
        _set_field("when", "systemic.fever =="),
        ["RF-FEVER", "systemic.fever =="],
    ),
    "unknown condition keyword": (
        _set_field("when", {"most_of": ["systemic.fever"]}),
        ["RF-FEVER", "most_of"],
    ),
    "unknown urgency level": (_set_field("level", "whenever"), ["RF-FEVER", "level"]),
    "red flag without diagnostic evidence": (_drop_field("evidence"), ["RF-FEVER", "evidence"]),
    "evidence source not in the registry": (
        _set_evidence(source="NO-SUCH-SOURCE"),
        ["RF-FEVER", "NO-SUCH-SOURCE"],
    ),
    # A post-test probability must come from a study, not from a guideline or a web page.
    "diagnostic figure sourced to a guideline": (
        _set_evidence(kind="post_test_probability", source="NICE-NG59"),
        ["RF-FEVER", "post_test_probability", "guideline"],
    ),
    "guideline evidence sourced to a web page": (
        _set_evidence(kind="guideline", source="PHYSIO-THORACIC-MIMICS"),
        ["RF-FEVER", "other"],
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_it_fails_kb_check_naming_the_broken_entry(
    breakage: str, app: typer.Typer, tmp_path: Path
) -> None:
    change, expected = BREAKAGES[breakage]
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, change)
    result = _invoke(app, "kb", "check", "--directory", str(directory))
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in _flat(result.output), result.output


def test_it_fails_kb_check_naming_the_file_with_bad_yaml(app: typer.Typer, tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    (directory / "imaging.yaml").write_text("- id: IM-X\n  when: [unclosed\n", encoding="utf-8")
    result = _invoke(app, "kb", "check", "--directory", str(directory))
    assert result.exit_code == 1
    assert "imaging.yaml" in result.output
    assert "not valid YAML" in _flat(result.output)


def test_it_fails_kb_check_on_a_missing_directory(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, "kb", "check", "--directory", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "not found" in _flat(result.output)


def test_it_fails_to_load_a_rule_without_sources_naming_the_rule(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, _set_field("sources", []))
    with pytest.raises(kb.KnowledgeError, match="RF-FEVER"):
        kb.load(directory)


def test_it_requires_an_otherwise_rule_last(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    path = directory / "imaging.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(rules[:-1], sort_keys=False), encoding="utf-8")
    problems = kb.check(kb.load(directory))
    assert "imaging: the last rule must be `when: otherwise`" in problems


def test_it_refuses_otherwise_before_the_last_rule(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    path = directory / "surgery.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["statuses"][0]
    first["when"] = "otherwise"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = kb.check(kb.load(directory))
    assert f"surgery.statuses {first['id']}: only the last rule may be `otherwise`" in problems


def test_it_refuses_otherwise_outside_a_rule_list(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, _set_field("when", "otherwise"))
    problems = kb.check(kb.load(directory))
    assert "red_flag RF-FEVER: `otherwise` is only for a rule list's last rule" in problems


def test_it_requires_an_emergency_route_for_emergency_rules(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    path = directory / "referrals.yaml"
    referrals = yaml.safe_load(path.read_text(encoding="utf-8"))
    for referral in referrals:
        referral.pop("emergency", None)
    path.write_text(yaml.safe_dump(referrals, sort_keys=False), encoding="utf-8")
    knowledge = kb.load(directory)
    problems = kb.check(knowledge)
    emergency_rules = [r for r in knowledge.red_flags if r.level.value == "emergency" and r.concern]
    assert emergency_rules
    for rule in emergency_rules:
        assert any(p.startswith(f"red_flag {rule.id}: an emergency rule") for p in problems)
    assert kb.check(kb.load(copy_knowledge(tmp_path / "again"))) == []


# --- kb show ------------------------------------------------------------------------------------


def test_it_shows_a_rule_with_its_finding_and_source_citation(app: typer.Typer) -> None:
    result = _invoke(app, "kb", "show", "RF-CES-NEW")
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    rule = next(r for r in kb.default().red_flags if r.id == "RF-CES-NEW")
    assert _flat(rule.finding) in text
    for ref in rule.sources:
        source = kb.default().sources[ref.split(":", 1)[0]]
        assert _flat(source.citation) in text


def test_it_refuses_to_show_an_unknown_entry(app: typer.Typer) -> None:
    result = _invoke(app, "kb", "show", "NOPE")
    assert result.exit_code == 1
    assert "NOPE" in result.output


def test_it_shows_an_entry_as_json_with_a_readable_condition(app: typer.Typer) -> None:
    import json

    result = _invoke(app, "kb", "show", "RF-FRAGILITY-FRACTURE", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "red_flag"
    assert data["when"] == {"all": ["history.trauma in [strain, minor]", "bone.fragility"]}


@pytest.mark.parametrize(
    ("fact", "rule_id"),
    [
        ("history.tuberculosis", "RF-INFECTION-RISK"),
        ("radiation.leg", "RF-CES-BILATERAL-RECENT"),
        ("mimics.chest_pain", "RF-CHEST-PAIN"),
    ],
)
def test_it_fails_kb_check_when_a_red_flag_answer_is_never_asked(
    fact: str, rule_id: str, app: typer.Typer, tmp_path: Path
) -> None:
    directory = copy_knowledge(tmp_path)
    path = directory / "questions.yaml"
    questions = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump([q for q in questions if q["fact"] != fact], sort_keys=False))
    result = _invoke(app, "kb", "check", "--directory", str(directory))
    assert result.exit_code == 1
    assert f"red_flag {rule_id}: reads '{fact}', which no question asks" in _flat(result.output)


# --- the red-flag questions ---------------------------------------------------------------------


def _edit_questions(directory: Path, change: Callable[[list[dict[str, object]]], None]) -> None:
    path = directory / "questions.yaml"
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(questions)
    path.write_text(yaml.safe_dump(questions, sort_keys=False), encoding="utf-8")


def _move_to_the_other_warning_signs(fact: str) -> Callable[[list[dict[str, object]]], None]:
    def change(questions: list[dict[str, object]]) -> None:
        question = next(q for q in questions if q["fact"] == fact)
        questions.remove(question)
        questions.append({**question, "screen": "red_flag"})

    return change


def test_every_answer_an_emergency_red_flag_reads_is_asked_on_the_emergency_screen() -> None:
    knowledge = kb.default()
    emergency = {q.fact for q in knowledge.questions if q.screen == "emergency"}
    asked = {q.fact for q in knowledge.questions}
    for rule in knowledge.red_flags:
        if rule.level is Level.EMERGENCY:
            assert kb.answers_read(knowledge, rule.when) & asked <= emergency, rule.id


@pytest.mark.parametrize(
    ("fact", "rule_id"),
    [
        ("mimics.breathlessness", "RF-THORACIC-BREATHLESS"),
        ("mimics.pulsating_abdominal_mass", "RF-PULSATILE-MASS"),
        # Read through a derived fact (neuro.any_symptom): it counts as well.
        ("radiation.arm", "RF-MSCC-NEURO"),
    ],
)
def test_it_fails_kb_check_when_an_emergency_red_flag_reads_a_question_off_the_emergency_screen(
    fact: str, rule_id: str, app: typer.Typer, tmp_path: Path
) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_questions(directory, _move_to_the_other_warning_signs(fact))
    result = _invoke(app, "kb", "check", "--directory", str(directory))
    assert result.exit_code == 1
    expected = f"red_flag {rule_id}: reads '{fact}', which the emergency screen does not ask"
    assert expected in _flat(result.output)


def test_it_fails_kb_check_when_a_question_branches_on_an_answer_asked_later(
    tmp_path: Path,
) -> None:
    def ask_tuberculosis_last(questions: list[dict[str, object]]) -> None:
        question = next(q for q in questions if q["fact"] == "history.tuberculosis")
        questions.remove(question)
        questions.append(question)

    directory = copy_knowledge(tmp_path)
    _edit_questions(directory, ask_tuberculosis_last)
    problems = kb.check(kb.load(directory))
    assert any(
        p.startswith("Q:systemic.feels_unwell: ask_if reads ['history.tuberculosis']")
        for p in problems
    ), problems


def test_it_fails_kb_check_when_an_emergency_question_comes_after_the_others(
    tmp_path: Path,
) -> None:
    def chest_pain_last(questions: list[dict[str, object]]) -> None:
        question = next(q for q in questions if q["fact"] == "mimics.chest_pain")
        questions.remove(question)
        questions.append(question)

    directory = copy_knowledge(tmp_path)
    _edit_questions(directory, chest_pain_last)
    assert any("emergency-screen question" in p for p in kb.check(kb.load(directory)))


@pytest.mark.parametrize(
    ("fact", "change", "expected"),
    [
        ("history.trauma", {"choices": {"none": "No", "major": "Yes"}}, "choices must give"),
        ("mimics.chest_pain", {"choices": {"yes": "Yes"}}, "only for answers with fixed"),
        ("mimics.chest_pain", {"unit": "days"}, "only for whole-number answers"),
        ("mimics.chest_pain", {"fact": "pain.max_intensity"}, "cannot be asked"),
    ],
)
def test_it_fails_kb_check_when_a_question_does_not_fit_the_intake(
    fact: str, change: dict[str, object], expected: str, tmp_path: Path
) -> None:
    def edit(questions: list[dict[str, object]]) -> None:
        next(q for q in questions if q["fact"] == fact).update(change)

    directory = copy_knowledge(tmp_path)
    _edit_questions(directory, edit)
    assert any(expected in p for p in kb.check(kb.load(directory)))


def test_it_reads_the_answer_format_from_the_intake_model() -> None:
    formats = {q.fact: q.answer for q in kb.default().questions}
    assert formats["mimics.chest_pain"].kind == "yes_no"
    assert formats["history.trauma"].values == ("none", "strain", "minor", "major")
    assert formats["radiation.leg"].values == ("none", "left", "right", "both")
    days = formats["cauda_equina.onset_days"]
    assert (days.kind, days.minimum, days.maximum) == ("whole_number", 0, 36500)


def test_it_refuses_a_repeated_referral_id_instead_of_keeping_the_last(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory, "referrals.yaml", lambda rows: rows.append(dict(rows[0])))
    expected = re.escape("referrals.yaml: duplicate id 'emergency_department'")
    with pytest.raises(kb.KnowledgeError, match=expected):
        kb.load(directory)


def test_it_checks_sources_of_entries_nested_outside_rule_lists(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)

    def change(care: dict[str, Any]) -> None:
        care["startback"]["sources"] = ["NO-SUCH-SOURCE"]

    edit_yaml(directory, "care.yaml", change)
    problems = kb.check(kb.load(directory))
    assert "knowledge.care.startback: source 'NO-SUCH-SOURCE' is not in the registry" in problems


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "neurology.leg_weakness === both",
            "neurology.leg_weakness is compared with ['= both'], which it cannot be",
        ),
        ("systemic.fever == maybe", "systemic.fever is compared with ['maybe']"),
        ("history.trauma in [minor, huge]", "history.trauma is compared with ['huge']"),
        ("age > old", "age is a number; it is compared with ['old']"),
        ("age", "age is not a yes/no answer; compare it with a value"),
    ],
)
def test_it_refuses_a_comparison_an_answer_can_never_satisfy(
    tmp_path: Path, when: str, expected: str
) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, _set_field("when", {"all": [when, "systemic.fever"]}))
    problems = kb.check(kb.load(directory))
    assert any(p.startswith("RF-FEVER: " + expected) for p in problems), problems


def test_it_refuses_none_true_in_a_red_flag(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, _set_field("when", {"none_true": ["systemic.fever"]}))
    problems = kb.check(kb.load(directory))
    assert any(p.startswith("red_flag RF-FEVER: none_true") for p in problems)


def test_it_refuses_otherwise_inside_a_condition(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    _edit_red_flags(directory, _set_field("when", {"any": ["systemic.fever", "otherwise"]}))
    problems = kb.check(kb.load(directory))
    assert "red_flag RF-FEVER: `otherwise` cannot be part of a condition" in problems


def test_an_emergency_rule_without_any_route_is_refused(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)

    def change(rules: list[dict[str, object]]) -> None:
        rule = next(r for r in rules if r["level"] == "emergency")
        rule["concern"] = None
        rule["referral"] = None
        rules[:] = [rule, *[r for r in rules if r is not rule]]

    _edit_red_flags(directory, change)
    knowledge = kb.load(directory)
    first = knowledge.red_flags[0]
    assert any(p.startswith(f"red_flag {first.id}: an emergency rule") for p in kb.check(knowledge))
