"""The public API: exactly these names, each importable from ``spinepath`` with a stable shape.

A change here is a change to every program that uses spinepath as a library: update the list and
the changelog together, on purpose.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import spinepath

EXPECTED = [
    "Assessment",
    "CandidacyStatus",
    "DecisionAid",
    "Intake",
    "KnowledgeBase",
    "KnowledgeError",
    "Level",
    "ScoreResult",
    "__version__",
    "assess",
    "assess_frame",
    "build_decision_aid",
    "check_knowledge",
    "default_knowledge",
    "load_knowledge",
    "render_html",
    "score",
]
EXAMPLE = Path(__file__).parents[1] / "examples" / "sciatica-refer-surgical-opinion.json"


def test_the_public_names_are_exactly_these() -> None:
    assert spinepath.__all__ == EXPECTED


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in spinepath.__all__:
        assert getattr(spinepath, name) is not None, name
    assert set(spinepath.__all__) <= set(dir(spinepath))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="not_a_name"):
        spinepath.not_a_name  # noqa: B018


def test_the_entry_points_keep_their_signatures() -> None:
    assert str(inspect.signature(spinepath.assess)) == (
        "(intake: 'Intake', knowledge: 'KnowledgeBase | None' = None) -> 'Assessment'"
    )
    assert list(inspect.signature(spinepath.score).parameters) == ["instrument", "answers"]
    assert list(inspect.signature(spinepath.build_decision_aid).parameters)[:2] == [
        "intake",
        "assessment",
    ]


def test_the_facade_assesses_an_example() -> None:
    intake = spinepath.Intake.model_validate(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    assessment = spinepath.assess(intake)
    assert isinstance(assessment, spinepath.Assessment)
    assert assessment.triage.level in set(spinepath.Level)


def test_importing_spinepath_loads_no_heavy_library() -> None:
    code = (
        "import sys, spinepath; "
        "print(sorted(m for m in ('polars', 'pydantic', 'fastapi', 'sqlalchemy', 'yaml') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
