"""Which of the aid's situations (conditions) apply to a person, and why.

Reads the engine's pain pattern and the person's own scan findings. A scan finding a clinician
said does *not* fit the symptoms is ignored; an unknown fit is used, and the aid says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from spinepath.pathway.assessment import Assessment, PatternType
from spinepath.pathway.intake import ImagingFinding, Intake

_NOT_COVERED = " This aid does not cover it."
# Short sentences: this text is read by people who may have just been told to seek urgent care.
NOT_COVERED_CONCERNS: dict[str, str] = {
    "malignancy": (
        "The pain may come from cancer in the spine. Cancer and spine teams look after this."
        + _NOT_COVERED
    ),
    "infection": "You may have an infection in your spine. This needs urgent care." + _NOT_COVERED,
    "cardiovascular": (
        "The pain may come from your heart or a large blood vessel. This needs urgent care."
        + _NOT_COVERED
    ),
    "visceral": (
        "The pain may come from an organ in your chest or belly. A doctor needs to check this."
        + _NOT_COVERED
    ),
    "inflammatory": (
        "You may have inflammatory back pain (axial spondyloarthritis). A joint specialist "
        "treats it with medicines, not surgery." + _NOT_COVERED
    ),
}


@dataclass(frozen=True)
class Match:
    condition_id: str
    reason: str


def findings(intake: Intake) -> set[ImagingFinding]:
    return {img.finding for img in intake.imaging if img.matches_symptoms is not False}


def _has_leg_symptoms(intake: Intake) -> bool:
    leg = intake.radiation.leg
    return (leg is not None and leg != "none") or bool(intake.radiation.leg_below_knee)


def _osteoporotic(intake: Intake) -> bool:
    h = intake.history
    return bool(h.osteoporosis or h.previous_fragility_fracture or h.long_term_steroids)


def _not_covered_notes(assessment: Assessment, found: set[ImagingFinding]) -> list[str]:
    notes: list[str] = []
    for concern in assessment.concerns:
        note = NOT_COVERED_CONCERNS.get(concern.code)
        if note and note not in notes:
            notes.append(note)
    if "tumour" in found or "infection" in found:
        notes.append(
            "Your scan report mentions a tumour or an infection. Specialist teams look after "
            "these. This aid does not cover them."
        )
    return notes


def _low_back_match(
    intake: Intake, types: set[PatternType], found: set[ImagingFinding]
) -> Match | None:
    # The first that fits wins: a slip, then stenosis, then a disc.
    if "spondylolisthesis" in found:
        return Match(
            "degenerative_spondylolisthesis",
            "Your scan shows a slipped vertebra (spondylolisthesis).",
        )
    if "spinal_stenosis" in found or "neurogenic_claudication" in types:
        reason = (
            "Your scan shows narrowing of the spinal canal (stenosis)."
            if "spinal_stenosis" in found
            else "Your leg symptoms on walking fit spinal stenosis; the options below apply "
            "if a scan confirms narrowing that matches your symptoms."
        )
        return Match("lumbar_spinal_stenosis", reason)
    if "radicular" in types or ("disc_herniation" in found and _has_leg_symptoms(intake)):
        reason = (
            "Your scan shows a disc bulge and you have leg pain (sciatica)."
            if "disc_herniation" in found
            else "Your leg pain fits sciatica; the surgical options below apply only if a "
            "scan shows a disc bulge that matches your symptoms."
        )
        return Match("lumbar_disc_herniation", reason)
    return None


def _neck_match(
    intake: Intake, types: set[PatternType], found: set[ImagingFinding]
) -> Match | None:
    # Pressure on the spinal cord governs the decision: the trapped-nerve evidence does not
    # apply to it, so a person with both is given the myelopathy section only.
    if "myelopathic" in types or "cord_compression" in found:
        return Match(
            "degenerative_cervical_myelopathy",
            "You have neck pain with signs of pressure on the spinal cord (clumsy hands, "
            "unsteady walking or a scan showing cord compression).",
        )
    if "radicular" in types or intake.radiation.arm not in (None, "none"):
        return Match("cervical_radiculopathy", "You have neck pain with arm symptoms.")
    return None


def match_conditions(intake: Intake, assessment: Assessment) -> tuple[list[Match], list[str]]:
    """Conditions covered by the aid, and notes on what it does not cover for this person."""
    regions = {r.region for r in intake.regions}
    concern_codes = {c.code for c in assessment.concerns}
    # With a possible cancer or infection, symptoms alone cannot be put down to a disc or
    # wear; only scan findings place the person in a degenerative condition.
    serious_cause = bool(concern_codes & {"malignancy", "infection"})
    types = set() if serious_cause else set(assessment.pattern.types)
    found = findings(intake)
    matches: list[Match] = []
    not_covered = _not_covered_notes(assessment, found)

    if "fracture" in found or "fracture" in concern_codes:
        if _osteoporotic(intake) and intake.history.trauma != "major":
            matches.append(
                Match(
                    "osteoporotic_vertebral_fracture",
                    "You reported a spinal fracture together with weak bones (osteoporosis, an "
                    "earlier fragility fracture or long-term steroids).",
                )
            )
        else:
            not_covered.append(
                "A spinal fracture after an injury is treated by trauma and spine teams. This aid "
                "does not cover it."
            )

    if "neck" in regions:
        neck = _neck_match(intake, types, found)
        if neck is not None:
            matches.append(neck)

    if "upper_back" in regions and (
        "myelopathic" in types or found & {"disc_herniation", "cord_compression"}
    ):
        matches.append(
            Match(
                "thoracic_disc",
                "You have upper-back pain with a disc finding or signs of pressure on the cord.",
            )
        )

    if "low_back" in regions:
        low_back = _low_back_match(intake, types, found)
        if low_back is not None:
            matches.append(low_back)

    if not matches and not not_covered:
        matches.append(
            Match(
                "non_specific_back_pain",
                "Your answers do not point to a trapped nerve or another problem that an "
                "operation is known to fix.",
            )
        )
    return matches, not_covered
