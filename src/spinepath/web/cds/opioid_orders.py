"""An opioid ordered for chronic low back pain: a card citing NICE NG59.

NICE NG59 (pharmacological management): "do not offer opioids for managing chronic low back
pain", and since the 2020 update, not for chronic sciatica either. The card is raised when a draft
MedicationRequest is an opioid (ATC N02A, or an RxNorm opioid ingredient) and the record shows low
back pain or sciatica that began 12 weeks ago or more (chronic), in a patient aged 16 or over.

No card when the onset or the age is unknown, or when the record shows a specific cause that
NG59 does not cover (it asks to exclude cancer, infection, trauma and inflammatory disease first,
1.1.1): pain from those may need an opioid, and the card must not nag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spinepath.interop.codes import value_set
from spinepath.interop.record import RecordFact
from spinepath.web.cds import cards
from spinepath.web.cds.cards import NICE_NG59, WatchedOrder, by_field, override, removal_card
from spinepath.web.cds.models import Card, Link

CHRONIC_WEEKS = 12
MINIMUM_AGE = 16

SPECIFIC_CAUSES = frozenset(
    {
        "history.cancer",
        "record.spinal_infection",
        "record.spinal_fracture",
        "record.recent_trauma",
        "record.cauda_equina",
        "record.neurological_deficit",
        "history.stiff_spine_disease",
    }
)
"""Record facts naming a specific cause of the pain (NG59 1.1.1), which stop the card."""

LINKS = [
    Link(
        label="NICE NG59 recommendations: pharmacological therapies", url=NICE_NG59, type="absolute"
    ),
    Link(
        label="NICE QS155: low back pain and sciatica quality statements",
        url="https://nice.org.uk/guidance/QS155/chapter/quality-statements",
        type="absolute",
    ),
]
OVERRIDE_REASONS = [
    override("other-indication", "The opioid is for another condition (e.g. cancer pain)"),
    override("continuing-with-plan", "Continuing an existing opioid with a review or taper plan"),
    override("patient-specific", "Other patient-specific reason"),
]
SUMMARY = "Opioid ordered for chronic low back pain: NICE NG59 advises not to offer opioids"


def watched(drafts: Sequence[Mapping[str, Any]]) -> list[WatchedOrder]:
    """The draft opioid orders (MedicationRequest) among the drafts."""
    return cards.watched(drafts, "MedicationRequest", value_set("orders", "opioids"))


def card(orders: Sequence[WatchedOrder], facts: Sequence[RecordFact]) -> Card | None:
    found = by_field(facts)
    if any(name in found for name in SPECIFIC_CAUSES):
        return None
    ages = [f.value for f in found.get("age", []) if isinstance(f.value, int)]
    if not ages or ages[0] < MINIMUM_AGE:
        return None
    chronic = [
        f
        for f in found.get("record.low_back_pain_weeks", [])
        if isinstance(f.value, int) and f.value >= CHRONIC_WEEKS
    ]
    if not chronic:
        return None
    episode = chronic[0]
    ordered = "; ".join(o.display for o in orders)
    detail = (
        f"The record shows low back pain that began {episode.value} weeks ago "
        f"({episode.display}, {episode.source}): chronic, 12 weeks or more. Ordered: {ordered}."
        "\n\n- **NICE NG59**: do not offer opioids for managing chronic low back pain; do not "
        "offer opioids for chronic sciatica (2020 update).\n"
        "- For someone already taking opioids, NG59 asks to explain the risks of continuing and, "
        "if stopping is agreed, to discuss withdrawal.\n\n"
        "Exercise, with manual or psychological therapy as part of a package, and NSAIDs at the "
        "lowest effective dose for the shortest time are the NG59 alternatives."
    )
    return removal_card(
        orders,
        summary=SUMMARY,
        detail=detail,
        suggestion="Remove the draft opioid order",
        override_reasons=OVERRIDE_REASONS,
        links=LINKS,
    )
