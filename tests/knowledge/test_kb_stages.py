"""kb check refuses a rule that reads a fact before the engine has worked it out.

Such a rule would otherwise see the fact as unanswered (a silent unknown) or stop the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spinepath import knowledge as kb
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.knowledge import copy_knowledge, edit_yaml


def _set_when(section: str | None, index: int, when: object) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        rules = data[section] if section else data
        rules[index]["when"] = when

    return change


def test_the_packaged_knowledge_base_reads_every_fact_in_time() -> None:
    assert kb.check(kb.default()) == []


@pytest.mark.parametrize(
    ("file", "section", "index", "when", "expected"),
    [
        # A level rule runs with the red flags: a concern's rank is compiled in, the concern
        # itself (and the triage level it decides) are not known yet.
        ("levels.yaml", "rules", 0, "concern.fracture", "level "),
        ("levels.yaml", "rules", 0, "triage.rank >= 2", "level "),
        # Derived facts run in order: the first cannot read a later one.
        ("derived.yaml", None, 0, "legs.bilateral_symptoms", "derived "),
        # Candidacy criteria run before the triage level is set.
        ("surgery.yaml", "criteria", 0, "triage.rank >= 1", "surgical_criterion "),
        # Imaging runs before imaging.indicated exists.
        ("imaging.yaml", None, 0, "imaging.indicated", "imaging "),
    ],
)
def test_it_refuses_a_fact_read_before_its_stage(
    tmp_path: Path, file: str, section: str | None, index: int, when: str, expected: str
) -> None:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory, file, _set_when(section, index, when))
    problems = kb.check(kb.load(directory))
    assert any(p.startswith(expected) and "before the engine" in p for p in problems), problems


def test_an_emergency_red_flag_may_not_read_a_pain_pattern(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)

    def change(rules: list[dict[str, Any]]) -> None:
        rule = next(r for r in rules if r["level"] == "emergency")
        rule["when"] = {"all": [rule["when"], "pattern.radicular"]}

    edit_yaml(directory, "red_flags.yaml", change)
    problems = kb.check(kb.load(directory))
    assert any("pattern.radicular" in p and "before the engine" in p for p in problems)


def test_the_refused_level_rule_would_otherwise_stop_the_engine(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory, "levels.yaml", _set_when("rules", 0, "concern.fracture"))
    knowledge = kb.load(directory)
    intake = Intake.model_validate(
        {"age": 40, "regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 5}]}
    )
    with pytest.raises(KeyError):
        assess(intake, knowledge)
