from __future__ import annotations

import pytest

from spinepath.pathway.engine import assess as engine_assess

from .cases import Assess


@pytest.fixture(scope="session")
def assess() -> Assess:
    """The engine's `assess`."""
    function: Assess = engine_assess
    return function
