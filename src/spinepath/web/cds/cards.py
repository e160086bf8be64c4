"""What the order services share: the draft orders a card is about, its source, override reasons,
and the card itself, which suggests removing the draft orders and never blocks them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spinepath.interop.codes import Matched, ValueSet, first_match
from spinepath.interop.record import RecordFact, ResourceIndex, concepts_of
from spinepath.web.cds.models import Action, Card, Coding, Link, Source, Suggestion

OVERRIDE_SYSTEM = "https://spinepath.org/fhir/CodeSystem/cds-override-reason"
"""spinepath's local code system for the reasons a clinician gives for overriding a card."""

NICE_NG59 = "https://www.nice.org.uk/guidance/ng59/chapter/Recommendations"
SOURCE = Source(label="NICE NG59: low back pain and sciatica (spinepath)", url=NICE_NG59)


@dataclass(frozen=True)
class WatchedOrder:
    """A draft order a service has something to say about, and the coding that made it so."""

    resource: Mapping[str, Any]
    match: Matched

    @property
    def reference(self) -> str:
        """The relative reference a delete action names (CDS Hooks 2.0 ``resourceId``)."""
        return f"{self.resource.get('resourceType')}/{self.resource.get('id')}"

    @property
    def display(self) -> str:
        return self.match.display


def watched(
    drafts: Sequence[Mapping[str, Any]], resource_type: str, value_set: ValueSet
) -> list[WatchedOrder]:
    """The drafts of one resource type coded in the value set, each with its first matching
    coding. A medicine is read as the record reader reads it (``concepts_of``): its concept, or the
    code and ingredients of a Medication it names, contained or among the drafts."""
    index = ResourceIndex(drafts)
    found: list[WatchedOrder] = []
    for draft in drafts:
        if draft.get("resourceType") != resource_type:
            continue
        for concept in concepts_of(draft, index):
            hit = first_match(value_set, concept)
            if hit is not None:
                found.append(WatchedOrder(draft, hit))
                break
    return found


def override(code: str, display: str) -> Coding:
    return Coding(system=OVERRIDE_SYSTEM, code=code, display=display)


def by_field(facts: Sequence[RecordFact]) -> dict[str, list[RecordFact]]:
    found: dict[str, list[RecordFact]] = {}
    for fact in facts:
        found.setdefault(fact.field, []).append(fact)
    return found


def removal_card(
    orders: Sequence[WatchedOrder],
    *,
    summary: str,
    detail: str,
    suggestion: str,
    override_reasons: list[Coding],
    links: Sequence[Link],
) -> Card:
    """A warning card whose one suggestion deletes these draft orders. The record cannot show
    everything the consultation found, so the clinician may keep them, giving a reason."""
    actions = [
        Action(
            type="delete", description=f"Remove the draft order {o.display}", resourceId=o.reference
        )
        for o in orders
    ]
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary,
        detail=detail,
        indicator="warning",
        source=SOURCE,
        suggestions=[
            Suggestion(
                label=suggestion,
                uuid=str(uuid.uuid4()),
                isRecommended=True,
                actions=actions,
            )
        ],
        selectionBehavior="at-most-one",
        overrideReasons=override_reasons,
        links=list(links),
    )
