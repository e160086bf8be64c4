"""Every request in examples/fhir/ runs through the service and gives the outcome it states in
its ``extension.spinepath-example.expect``: an imaging card, an opioid card, no card, or 412.

Each example is dated: ``asOf`` is the day it is read on, so the onsets in it keep their meaning
(a two-week-old episode stays two weeks old) however long the file is kept.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from spinepath.web.cds import imaging_orders, opioid_orders
from spinepath.web.cds.models import CdsResponse, HookRequest
from support.fhir_schema import schema_errors

from .ehr import SimulatedEhr

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
SERVICE = {"order-select": "spinepath-order-select", "order-sign": "spinepath-order-sign"}
SUMMARIES = {"imaging-card": imaging_orders.SUMMARY, "opioid-card": opioid_orders.SUMMARY}


def _examples() -> list[Path]:
    found = sorted(EXAMPLES.glob("*.json"))
    assert len(found) >= 20, f"the examples are missing from {EXAMPLES}"
    return found


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_each_example_gives_the_outcome_it_states(
    order_cds: TestClient, signing_ehr: SimulatedEhr, path: Path
) -> None:
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    HookRequest.model_validate(body)
    example = body["extension"]["spinepath-example"]
    expect = example["expect"]
    assert path.stem.endswith({"no-card": "no-card", "412": "412"}.get(expect, "card"))
    endpoint = f"/cds-services/{SERVICE[body['hook']]}"
    noon = dt.datetime.fromisoformat(example["asOf"]).replace(hour=12, tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=True):
        response = order_cds.post(
            endpoint, json=body, headers={"Authorization": f"Bearer {signing_ehr.token(endpoint)}"}
        )
    if expect == "412":
        assert response.status_code == 412, response.text
        return
    assert response.status_code == 200, response.text
    cards = CdsResponse.model_validate(response.json()).cards
    if expect == "no-card":
        assert cards == [], example["why"]
        return
    [card] = cards
    assert card.summary == SUMMARIES[expect] == example["summary"]
    assert len(card.summary) < 140


def test_the_readme_lists_every_example() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in _examples():
        assert f"`{path.name}`" in readme, path.name


def _resources(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e["resource"] for e in body["context"]["draftOrders"]["entry"]]
    for value in (body.get("prefetch") or {}).values():
        if value is None:
            continue
        found.extend(
            [e["resource"] for e in value["entry"]]
            if value["resourceType"] == "Bundle"
            else [value]
        )
    return found


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_the_examples_resources_are_valid_fhir_r4(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    for resource in _resources(body):
        assert schema_errors(resource) == [], (resource["resourceType"], resource.get("id"))
