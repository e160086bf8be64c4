"""Fixtures for the decision-aid tests."""

from __future__ import annotations

import pytest

from spinepath.decision_aid import DecisionAid, build_decision_aid
from support.intakes import sciatica_intake

from .helpers import make_assessment


@pytest.fixture
def sciatica_aid() -> DecisionAid:
    return build_decision_aid(sciatica_intake(), make_assessment())
