"""docs/instruments.md stays true to the shipped definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinepath.instruments import catalogue

DOCS = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"


@pytest.mark.parametrize("code", sorted(catalogue.definitions()))
def test_every_instrument_is_documented(code: str) -> None:
    assert f"`{code}`" in DOCS.read_text(encoding="utf-8")


def test_the_documented_wording_environment_variable_is_the_one_used() -> None:
    from spinepath.instruments.wording import WORDING_DIR_ENV

    assert WORDING_DIR_ENV in DOCS.read_text(encoding="utf-8")
