"""Shared helpers for the instrument tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spinepath.cli import instruments as cli_instruments

FIXTURES = Path(__file__).parent / "fixtures"
ODI_SECTIONS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
)
NDI_ITEMS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "reading",
    "headaches",
    "concentration",
    "work",
    "driving",
    "sleeping",
    "recreation",
)


def spread(codes: tuple[str, ...], total: int, maximum: int = 5) -> dict[str, int]:
    """Answers over ``codes`` that add up to ``total`` (filled item by item)."""
    answers = {}
    remaining = total
    for code in codes:
        value = min(maximum, remaining)
        answers[code] = value
        remaining -= value
    assert remaining == 0, "total too large for these items"
    return answers


@pytest.fixture
def wording_dir() -> Path:
    return FIXTURES / "wording"


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    cli_instruments.register(app)
    return app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
