"""QuestionnaireResponses to the intake Questionnaire, as JSON, for the tests that send one in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spinepath.interop import intake_response
from spinepath.pathway.intake import Intake
from support.files import EXAMPLES_DIR

Json = dict[str, Any]
AUTHORED = datetime(2026, 1, 5, tzinfo=UTC)


def example_intake(name: str) -> Intake:
    """One of the example intakes, ``examples/<name>``."""
    return Intake.model_validate_json((EXAMPLES_DIR / name).read_text(encoding="utf-8"))


def response_json(intake: Intake) -> Json:
    """The intake as a QuestionnaireResponse, dumped as it is sent."""
    resource = intake_response.questionnaire_response(intake, authored=AUTHORED)
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


def response_item(resource: Json, link_id: str) -> Json:
    """The response item with this linkId, at any depth, to change in place."""
    stack = list(resource["item"])
    while stack:
        item: Json = stack.pop()
        if item["linkId"] == link_id:
            return item
        stack += item.get("item", [])
    raise KeyError(link_id)
