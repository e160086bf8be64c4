"""Property-based requests generated from the app's own OpenAPI schema: no server errors.

Runs in-process (ASGI), with a clinic API token so the patient endpoints are reached too.
Each operation gets a bounded number of generated requests.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from spinepath.web.app import OPENAPI_URL
from support.web import World

EXAMPLES_PER_OPERATION = 30


def test_no_generated_request_makes_the_server_fail(app: FastAPI, world: World) -> None:
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    headers = {"Authorization": f"Bearer {world.token_a}"}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()
