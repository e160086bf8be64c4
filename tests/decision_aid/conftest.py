"""Fixtures for the decision-aid tests."""

from __future__ import annotations

import pytest

from spinepath.decision_aid import DecisionAid, build_decision_aid

from .helpers import make_assessment, make_intake


@pytest.fixture
def sciatica_aid() -> DecisionAid:
    return build_decision_aid(make_intake(), make_assessment())
