"""Property-based requests generated from the app's own OpenAPI schema: no server errors.

Runs in-process (ASGI), with a clinic API token so the patient endpoints are reached too.
Each operation gets a bounded number of generated requests.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


def _nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = {"x": value}
    return value


EDGE_VALUES: list[object] = [
    "\ud800",  # a lone surrogate: no database can store it
    "a\x00b",  # NUL: PostgreSQL text refuses it
    2**63,  # just beyond a 64-bit integer
    -(2**63) - 1,
    2**31,  # just beyond PostgreSQL's int4 keys
    10**100,
    _nested(200),
    "x" * 20_000,
    [None] * 1000,
]


def test_edge_values_in_any_field_never_make_the_server_fail(app: FastAPI, world: World) -> None:
    """The generated bodies again, each with one field (or one new key) set to a value that has
    broken JSON APIs before: lone surrogates, NUL, integers beyond the column types, deep
    nesting, very long text."""
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    headers = {"Authorization": f"Bearer {world.token_a}"}
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    with_bodies = [o for o in operations if o.method.upper() in ("POST", "PUT", "PATCH")]
    assert with_bodies

    for operation in with_bodies:

        @given(
            case=operation.as_strategy(),
            edge=st.sampled_from(EDGE_VALUES),
            pick=st.integers(min_value=0, max_value=1000),
            as_key=st.booleans(),
        )
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(
            case: schemathesis.Case[Any], edge: Any, pick: int, as_key: bool
        ) -> None:
            if isinstance(case.body, dict):
                if as_key and isinstance(edge, str):
                    case.body[edge] = 1
                elif case.body:
                    keys = sorted(case.body)
                    case.body[keys[pick % len(keys)]] = edge
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()
