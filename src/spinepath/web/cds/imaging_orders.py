"""Spinal imaging ordered for acute low back pain without red flags: a card to reconsider it.

The rule (docs/cds-hooks.md): a warning card when a draft X-ray, CT or MRI of the lumbar spine
is ordered and the record shows

- low back pain whose every recorded episode began under 6 weeks ago (AAFP and NASS Choosing
  Wisely: no imaging in the first six weeks without red flags; HEDIS LBP counts imaging within
  28 days of a new uncomplicated diagnosis), with its onset date known;
- a patient aged 16 to 50 (NICE NG59 covers over-16s; NASS lists age over 50 as a red flag, and
  the eCQM version of the HEDIS measure, CMS166v7, covers ages 18 to 50);
- and no red flag or serious-pathology indicator (:data:`RED_FLAGS`).

Anything else gives no card: any red flag, an unknown onset or age, a chronic or subacute
episode, an order for the neck or upper back (the recommendations cited are about low back
pain). The record can only say yes, so the card lists what was checked and invites an override
when the consultation found what the record does not show; it never blocks the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spinepath.interop.codes import value_set
from spinepath.interop.record import RecordFact
from spinepath.web.cds import cards
from spinepath.web.cds.cards import NICE_NG59, WatchedOrder, by_field, override, removal_card
from spinepath.web.cds.models import Card, Link

ACUTE_WEEKS = 6
MINIMUM_AGE = 16
MAXIMUM_AGE = 50
LUMBAR_REGIONS = frozenset({"lumbar", "lumbosacral"})

RED_FLAGS: dict[str, str] = {
    "history.cancer": "cancer now or in the past",
    "history.long_term_steroids": "systemic steroids",
    "history.immunosuppression": "immunosuppression (HIV, transplant, immunosuppressants)",
    "history.iv_drug_use": "injecting drug use",
    "record.drug_use_disorder": "a drug use disorder",
    "history.osteoporosis": "osteoporosis",
    "history.previous_fragility_fracture": "a fragility fracture",
    "history.tuberculosis": "tuberculosis",
    "record.spinal_infection": "spinal infection",
    "history.known_aaa": "abdominal aortic aneurysm",
    "history.stiff_spine_disease": "ankylosing spondylitis or DISH",
    "record.cauda_equina": "cauda equina syndrome",
    "record.neurological_deficit": "a neurological deficit",
    "record.spinal_fracture": "a spinal fracture",
    "record.recent_trauma": "an injury in the last 90 days",
    "history.prior_spine_surgery": "spinal surgery",
    "history.recent_spinal_procedure": "spinal surgery in the last 90 days",
    "record.surgical_referral": "an open surgical referral (a surgical work-up)",
    "health.anticoagulants": "anticoagulants (bleeding, e.g. spinal epidural haematoma)",
}
"""Record facts that stop the card, with how the card names them when listing what it checked.

Each is a red flag or serious-pathology indicator in the sources cited (NICE NG59 1.1.1, the ACR
low back pain variants, the HEDIS LBP exclusions, the NASS red flags), or a known indication for
imaging (prior surgery, a surgical work-up)."""

LINKS = (
    Link(label="NICE NG59 recommendations 1.1.4 to 1.1.6", url=NICE_NG59, type="absolute"),
    Link(
        label="HEDIS Use of Imaging Studies for Low Back Pain (eCQM CMS166v7)",
        url="https://ecqi.healthit.gov/sites/default/files/ecqm/measures/CMS166v7.html",
        type="absolute",
    ),
    Link(
        label="Choosing Wisely (AAFP): imaging for low back pain",
        url="https://aafp.org/content/brand/aafp/family-physician/patient-care/clinical-"
        "recommendations/all-clinical-recommendations/cw-back-pain.html",
        type="absolute",
    ),
    Link(
        label="Choosing Wisely (NASS): advanced imaging in the first six weeks",
        url="https://www.aafp.org/afp/recommendations/viewRecommendation.htm?recommendationId=127",
        type="absolute",
    ),
)
OVERRIDE_REASONS = [
    override("red-flag-present", "A red flag is present that the record does not show"),
    override("surgical-planning", "Planning surgery or an injection: imaging will change it"),
    override("specialist-setting", "Specialist setting; the result will change management"),
    override("patient-specific", "Other patient-specific reason"),
]
SUMMARY = "Imaging not indicated: acute low back pain (under 6 weeks), no red flags in the record"


def watched(drafts: Sequence[Mapping[str, Any]]) -> list[WatchedOrder]:
    """The draft spinal imaging orders (ServiceRequest) among the drafts, any region."""
    return cards.watched(drafts, "ServiceRequest", value_set("spinal_imaging", "spinal_imaging"))


def _acute_weeks(found: Mapping[str, list[RecordFact]]) -> int | None:
    """Weeks since the low back pain began when every recorded episode is under 6 weeks old
    and dated; None otherwise (no episode, an undated one, or an older one)."""
    episodes = found.get("record.low_back_pain_weeks", [])
    weeks = [f.value for f in episodes]
    if not weeks or not all(isinstance(w, int) and w < ACUTE_WEEKS for w in weeks):
        return None
    return max(w for w in weeks if isinstance(w, int))


def card(orders: Sequence[WatchedOrder], facts: Sequence[RecordFact]) -> Card | None:
    """The warning card for these imaging orders, or None when imaging may well be indicated
    or the record cannot tell."""
    lumbar = [o for o in orders if o.match.entry.region in LUMBAR_REGIONS]
    if not lumbar:
        return None
    found = by_field(facts)
    if any(name in found for name in RED_FLAGS):
        return None
    ages = [f.value for f in found.get("age", []) if isinstance(f.value, int)]
    if not ages or not MINIMUM_AGE <= ages[0] <= MAXIMUM_AGE:
        return None
    weeks = _acute_weeks(found)
    if weeks is None:
        return None
    episode = found["record.low_back_pain_weeks"][0]
    ordered = "; ".join(o.display for o in lumbar)
    checked = ", ".join(RED_FLAGS.values())
    detail = (
        f"The record shows low back pain that began {_weeks(weeks)} ago ({episode.display}, "
        f"{episode.source}) in a patient aged {ages[0]}, and no red flag. Ordered: {ordered}.\n\n"
        "- **NICE NG59 1.1.4**: do not routinely offer imaging in a non-specialist setting for "
        "low back pain with or without sciatica; **1.1.6**: in specialist settings, only if the "
        "result is likely to change management.\n"
        "- **HEDIS LBP**: lumbar X-ray, CT or MRI within 28 days of a new diagnosis of "
        "uncomplicated low back pain is counted as overuse.\n"
        "- **Choosing Wisely** (AAFP, NASS): do not image low back pain in the first six weeks "
        "unless red flags are present.\n\n"
        f"Checked in the record and not found: {checked}; age over {MAXIMUM_AGE}. The record "
        "cannot show what was found today: if a red flag is present, keep the order and say so."
    )
    return removal_card(
        lumbar,
        summary=SUMMARY,
        detail=detail,
        suggestion="Remove the draft imaging order",
        override_reasons=OVERRIDE_REASONS,
        links=LINKS,
    )


def _weeks(weeks: int) -> str:
    if weeks == 0:
        return "less than a week"
    return f"{weeks} week{'s' if weeks != 1 else ''}"
