"""docs/decision-aid.md stays true: every output field, criterion and CLI option is documented."""

from __future__ import annotations

from spinepath.decision_aid.ipdas import CRITERIA
from spinepath.decision_aid.models import DecisionAid
from support.files import ROOT

DOC = (ROOT / "docs" / "decision-aid.md").read_text(encoding="utf-8")


def test_every_top_level_field_is_documented() -> None:
    for field in DecisionAid.model_fields:
        assert f"| `{field}` |" in DOC, field


def test_every_checklist_criterion_is_documented() -> None:
    for criterion in CRITERIA:
        assert f"| {criterion.code} |" in DOC, criterion.code


def test_every_command_option_is_documented() -> None:
    for option in ("--format", "--output", "--values", "--fragment", "--schema", "--checklist"):
        assert f"`{option}`" in DOC, option
