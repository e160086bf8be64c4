"""The order-select and order-sign services: draft orders checked against the patient's record.

Both hooks carry the draft orders in ``context.draftOrders``; order-select also names the orders
just chosen (``context.selections``, e.g. ``ServiceRequest/123``), and only those are checked, so
a card is raised once, when the order is chosen, not again for every other order in the basket.
order-sign checks every draft order before signing.

The record is needed only when a watched order is present (a spinal imaging order or an opioid):
any other order gets an empty answer straight away, without reading the record, so the service
never holds up or fails (412) an order it has nothing to say about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spinepath.interop.record import UnreadableRecordError, record_facts, resources
from spinepath.interop.record_prefill import RecordError, read_record
from spinepath.web.cds import imaging_orders, opioid_orders, prefetch
from spinepath.web.cds.cards import WatchedOrder
from spinepath.web.cds.models import Card, CdsResponse, HookRequest

OrderHook = Literal["order-select", "order-sign"]


class OrderContextError(ValueError):
    """The hook's context lacks what the order hooks define (a 400, saying what is missing)."""


class _OrderContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    patientId: str = Field(min_length=1)  # noqa: N815 - the hook's field names
    draftOrders: dict[str, Any]  # noqa: N815
    selections: list[str] | None = None


def draft_orders(hook: HookRequest, kind: OrderHook) -> list[Any]:
    """The draft orders to check: the selected ones for order-select, all for order-sign."""
    try:
        context = _OrderContext.model_validate(hook.context)
    except ValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]}))
        raise OrderContextError(f"context needs {fields} for {kind}") from error
    if context.draftOrders.get("resourceType") != "Bundle":
        raise OrderContextError("context.draftOrders must be a FHIR Bundle")
    drafts = resources(context.draftOrders)
    if kind == "order-sign":
        return drafts
    if context.selections is None:
        raise OrderContextError("context needs selections for order-select")
    chosen = set(context.selections)
    return [d for d in drafts if f"{d.get('resourceType')}/{d.get('id')}" in chosen]


def _reasons(orders: Sequence[WatchedOrder]) -> list[dict[str, Any]]:
    """The orders' coded reasons as conditions, so an indication written on the order (a
    suspected fracture, cauda equina syndrome) counts like one in the record."""
    found: list[dict[str, Any]] = []
    for order in orders:
        for index, reason in enumerate(order.resource.get("reasonCode") or []):
            found.append(
                {
                    "resourceType": "Condition",
                    "id": f"{order.resource.get('id')}-reason-{index}",
                    "code": reason,
                }
            )
    return found


async def evaluate(hook: HookRequest, kind: OrderHook, today: dt.date) -> CdsResponse:
    """The cards for the draft orders of one order-select or order-sign call."""
    drafts = draft_orders(hook, kind)
    imaging = imaging_orders.watched(drafts)
    opioids = opioid_orders.watched(drafts)
    if not imaging and not opioids:
        return CdsResponse(cards=[])
    record = await prefetch.gather(hook, prefetch.TEMPLATES)
    bundle = record.bundle()
    try:
        # A resource that is not valid FHIR might be the red flag, misread or unread: no
        # advice beats false comfort.
        read_record(bundle)
        bundle["entry"].extend({"resource": r} for r in _reasons([*imaging, *opioids]))
        facts = record_facts(bundle, today)
    except (RecordError, UnreadableRecordError):
        return CdsResponse(cards=[])
    cards: list[Card] = []
    if imaging:
        card = imaging_orders.card(imaging, facts)
        if card is not None:
            cards.append(card)
    if opioids:
        card = opioid_orders.card(opioids, facts)
        if card is not None:
            cards.append(card)
    return CdsResponse(cards=cards)
