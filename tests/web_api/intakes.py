"""Example intakes for the API tests."""

from __future__ import annotations

from typing import Any


def low_back_pain(**changes: Any) -> dict[str, Any]:
    """An adult with two weeks of low back pain and every red-flag question answered no."""
    intake: dict[str, Any] = {
        "age": 40,
        "regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 5}],
    }
    intake.update(changes)
    return intake


def cauda_equina_symptoms() -> dict[str, Any]:
    return low_back_pain(cauda_equina={"saddle_numbness": True, "urinary_difficulty": True})
