"""A clinician's one-screen summary of a patient's latest answers, as (label, value) rows.

Built from the stored intake, so it shows exactly what the patient sent. Everything is worded
for the clinician (third person). A number is shown in the unit the patient typed it in (weeks
or days), never converted: a rounded conversion would claim a precision nobody gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spinepath.decision_aid.values import IMPORTANCE_LABELS
from spinepath.knowledge import KnowledgeBase
from spinepath.pathway import screening
from spinepath.pathway.facts import field_description
from spinepath.pathway.intake import Intake, RegionPain, Side

NOT_ANSWERED = "not answered"
NOTE_GLANCE_CHARS = 160
"""The note is cut to this length in the summary; the whole note follows below it."""
GLANCE_ITEMS = 3
"""Treatments and scans named in the summary before "and N more"."""

REGION_LABELS = {"low_back": "Low back", "upper_back": "Upper back", "neck": "Neck"}
SIDE_WORDS = {"left": "left", "right": "right", "both": "both sides"}
LEANING_LABELS = {
    "leaning_non_surgical": "Leaning towards non-surgical care",
    "unsure": "Unsure",
    "leaning_surgery": "Leaning towards surgery",
}
"""Third-person wording of the decision aid's leanings (the patient saw them as "I am ...")."""

PRIORITY_LABELS = {
    "avoid_surgery": "avoiding an operation",
    "fast_relief": "quick relief",
    "return_to_work": "returning to work",
    "avoid_medicines": "fewer medicines",
    "sleep": "better sleep",
    "sport_and_exercise": "sport and exercise",
    "caring_for_others": "caring for others",
    "independence": "independence",
    "avoid_time_in_hospital": "little time in hospital",
}
TREATMENT_LABELS = {
    "advice_self_management": "advice and self-management",
    "exercise_programme": "exercise programme",
    "physiotherapy": "physiotherapy",
    "manual_therapy": "manual therapy",
    "psychological_therapy": "psychological therapy",
    "combined_physical_psychological": "combined physical and psychological programme",
    "nsaid": "NSAID",
    "paracetamol": "paracetamol",
    "weak_opioid": "weak opioid",
    "strong_opioid": "strong opioid",
    "muscle_relaxant": "muscle relaxant",
    "gabapentinoid": "gabapentinoid",
    "antidepressant": "antidepressant for pain",
    "epidural_injection": "epidural or nerve-root injection",
    "facet_injection": "facet joint injection",
    "radiofrequency_denervation": "radiofrequency denervation",
    "acupuncture": "acupuncture",
    "heat": "heat",
    "other": "other treatment",
}
RESPONSE_WORDS = {
    "good": "helped a lot",
    "partial": "helped a little",
    "none": "did not help",
    "worse": "made it worse",
}
MODALITY_LABELS = {"xray": "X-ray", "mri": "MRI", "ct": "CT"}
IMAGING_SIDES = {"left": "left", "right": "right", "central": "central", "bilateral": "bilateral"}

FLAG_LABELS = {
    "history.trauma": "Trauma at onset",
    "history.iv_drug_use": "Intravenous drug use",
    "history.tuberculosis": "Tuberculosis",
    "pain.sudden_onset": "Sudden onset",
    "pain.not_eased_by_rest": "Not eased by rest",
    "pain.worse_at_night": "Worse at night",
    "radiation.leg": "Leg pain",
    "radiation.arm": "Arm pain",
    "radiation.both_legs_since_days": "Days since the second leg became involved",
    "cauda_equina.onset_days": "Days since the bladder, bowel or saddle changes began",
}
"""Clinician labels where the intake field has no short description of its own."""
DESCRIPTION_MAX_CHARS = 70
NO_FINDING = frozenset({"none", "strain"})
"""Answers to a choice red-flag question that are not a finding (no limb pain, a simple strain)."""

SHOWN_ELSEWHERE = ("radiation.", "neurology.")
"""Warning signs the summary already shows in its limb and neurology rows."""

NEUROLOGY_SIDES = (
    ("neurology.leg_weakness", "leg weakness"),
    ("neurology.leg_numbness_or_tingling", "leg numbness or tingling"),
    ("neurology.arm_weakness", "arm weakness"),
    ("neurology.arm_numbness_or_tingling", "arm numbness or tingling"),
)
NEUROLOGY_SIGNS = (
    ("foot_drop", "foot drop"),
    ("progressing", "getting worse"),
    ("gait_change", "gait change"),
    ("hand_clumsiness", "hand clumsiness"),
    ("electric_shocks_on_neck_bending", "Lhermitte-type shocks on neck bending"),
    ("walking_leg_pain_eased_by_sitting", "leg pain on walking, eased by sitting"),
)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    attention: bool = False
    """A positive warning sign or an unanswered one: the template highlights it."""


@dataclass(frozen=True)
class AnswerSummary:
    glance: tuple[Row, ...]
    """The one-screen summary."""
    red_flags: tuple[Row, ...]
    """Warning-sign questions answered yes, then those not answered that still apply."""
    treatments: tuple[Row, ...]
    imaging: tuple[Row, ...]
    note: str | None
    values: tuple[Row, ...]
    """How much each decision-aid statement matters to the patient."""
    values_note: str | None


def sentence_case(text: str) -> str:
    """First letter up, the rest as written (``str.capitalize`` would turn NSAID into Nsaid)."""
    return text[:1].upper() + text[1:]


def count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _flag_label(fact: str) -> str:
    if fact in FLAG_LABELS:
        return FLAG_LABELS[fact]
    description = field_description(fact)
    if description and len(description) <= DESCRIPTION_MAX_CHARS:
        return description.rstrip(".")
    return sentence_case(fact.rpartition(".")[2].replace("_", " "))


def _answer_words(value: object) -> str:
    if value is True:
        return "yes"
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)


def _flags(intake: Intake, knowledge: KnowledgeBase) -> list[tuple[str, Row]]:
    facts = screening.facts_so_far(intake.model_dump(mode="json"), knowledge)
    positive: list[tuple[str, Row]] = []
    missing: list[tuple[str, Row]] = []
    for question in knowledge.questions:
        value = facts.get(question.fact)
        label = _flag_label(question.fact)
        if value is None:
            if screening.applies(question.ask_if, facts):
                missing.append((question.fact, Row(label, NOT_ANSWERED, attention=True)))
        elif value is True or (isinstance(value, str) and value not in NO_FINDING):
            positive.append((question.fact, Row(label, _answer_words(value), attention=True)))
    return [*positive, *missing]


def red_flag_rows(intake: Intake, knowledge: KnowledgeBase) -> tuple[Row, ...]:
    """Positive answers first, then unanswered questions that still apply to these answers.

    "Still apply" uses the questionnaire's own ``ask_if``: a follow-up that was never asked
    because its condition is not met is not missing.
    """
    return tuple(row for _fact, row in _flags(intake, knowledge))


def _region(pain: RegionPain) -> Row:
    value = f"{count(pain.duration_weeks, 'week')}, pain {pain.intensity}/10"
    return Row(REGION_LABELS[pain.region], value)


def _side(side: Side | None, limb: str) -> str:
    if side is None:
        return NOT_ANSWERED
    if side == "none":
        return "none"
    return f"both {limb}s" if side == "both" else f"{side} {limb}"


def _leg(intake: Intake) -> Row:
    radiation = intake.radiation
    parts = [_side(radiation.leg, "leg")]
    if radiation.leg not in (None, "none"):
        if radiation.leg_below_knee is True:
            parts.append("below the knee")
        if radiation.leg_pain_worse_than_back is True:
            parts.append("worse than the back pain")
        if radiation.both_legs_since_days is not None:
            parts.append(f"second leg {count(radiation.both_legs_since_days, 'day')} ago")
    return Row("Leg pain", ", ".join(parts), attention=radiation.leg is None)


def _arm(intake: Intake) -> Row:
    arm = intake.radiation.arm
    return Row("Arm pain", _side(arm, "arm"), attention=arm is None)


def _neurology(intake: Intake) -> Row:
    found: list[str] = []
    neurology = intake.neurology
    for fact, words in NEUROLOGY_SIDES:
        side = getattr(neurology, fact.rpartition(".")[2])
        if side not in (None, "none"):
            found.append(f"{words} ({SIDE_WORDS[side]})")
    found += [words for name, words in NEUROLOGY_SIGNS if getattr(neurology, name) is True]
    if intake.cauda_equina.onset_days is not None:
        days = count(intake.cauda_equina.onset_days, "day")
        found.append(f"bladder, bowel or saddle changes since {days}")
    return Row("Neurology", "; ".join(found) if found else "none reported", attention=bool(found))


def treatment_rows(intake: Intake) -> tuple[Row, ...]:
    rows = []
    for t in intake.treatments_tried:
        response = RESPONSE_WORDS[t.response] if t.response else f"effect {NOT_ANSWERED}"
        rows.append(
            Row(sentence_case(TREATMENT_LABELS[t.type]), f"{count(t.weeks, 'week')}, {response}")
        )
    return tuple(rows)


def imaging_rows(intake: Intake) -> tuple[Row, ...]:
    rows = []
    for scan in intake.imaging:
        parts = [scan.finding.replace("_", " ")]
        if scan.level:
            parts.append(scan.level)
        if scan.side:
            parts.append(IMAGING_SIDES[scan.side])
        if scan.matches_symptoms is not None:
            parts.append("fits the symptoms" if scan.matches_symptoms else "does not fit")
        if scan.weeks_ago is not None:
            parts.append(f"{count(scan.weeks_ago, 'week')} ago")
        rows.append(Row(MODALITY_LABELS[scan.modality], ", ".join(parts)))
    return tuple(rows)


def _glance_list(rows: tuple[Row, ...], short: list[str]) -> str:
    if not rows:
        return "none reported"
    shown = short[:GLANCE_ITEMS]
    more = len(rows) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _short_note(note: str) -> str:
    if len(note) <= NOTE_GLANCE_CHARS:
        return note
    return note[:NOTE_GLANCE_CHARS].rstrip() + "… (in full below)"


def values_rows(values: Mapping[str, Any] | None, statements: Mapping[str, str]) -> tuple[Row, ...]:
    """Each decision-aid statement the patient rated, most important first."""
    if not values:
        return ()
    importance = values.get("importance") or {}
    rated = sorted(
        ((item, level) for item, level in importance.items() if isinstance(level, int)),
        key=lambda pair: -pair[1],
    )
    return tuple(
        Row(statements.get(item, item), IMPORTANCE_LABELS[level])
        for item, level in rated
        if 0 <= level < len(IMPORTANCE_LABELS)
    )


def summarise(
    intake: Intake,
    knowledge: KnowledgeBase,
    *,
    decision: Mapping[str, Any] | None = None,
    leaning: str | None = None,
    statements: Mapping[str, str] | None = None,
) -> AnswerSummary:
    """The summary of one intake, with the patient's latest decision-aid answers if any.

    ``statements`` maps a values item id to its wording (from the decision-aid catalogue).
    """
    flagged = _flags(intake, knowledge)
    flags = tuple(row for _fact, row in flagged)
    unanswered = sum(row.value == NOT_ANSWERED for row in flags)
    named = [
        row.label
        for fact, row in flagged
        if row.value != NOT_ANSWERED and not fact.startswith(SHOWN_ELSEWHERE)
    ]
    treatments = treatment_rows(intake)
    imaging = imaging_rows(intake)
    sex = intake.sex or f"sex {NOT_ANSWERED}"
    glance: list[Row] = [Row("Age, sex", f"{intake.age}, {sex}")]
    glance += [_region(pain) for pain in intake.regions]
    glance += [_leg(intake), _arm(intake), _neurology(intake)]
    glance.append(Row("Warning signs", "; ".join(named) if named else "none", bool(named)))
    if unanswered:
        missing = [row.label for row in flags if row.value == NOT_ANSWERED]
        # A few are named; a long list would push the rest of the summary off the screen.
        value = (
            "; ".join(missing)
            if unanswered <= GLANCE_ITEMS
            else (f"{count(unanswered, 'warning sign')} (listed below)")
        )
        glance.append(Row("Unanswered", value, True))
    treated = [
        f"{TREATMENT_LABELS[t.type]} ({count(t.weeks, 'week')})" for t in intake.treatments_tried
    ]
    glance.append(Row("Treatments", _glance_list(treatments, treated)))
    scanned = [f"{r.label}: {r.value.split(', ')[0]}" for r in imaging]
    glance.append(Row("Imaging", _glance_list(imaging, scanned)))
    priorities = [PRIORITY_LABELS[p] for p in intake.priorities]
    glance.append(
        Row("Priorities", sentence_case(", ".join(priorities)) if priorities else "none chosen")
    )
    if intake.what_matters_note:
        glance.append(Row("Patient's note", _short_note(intake.what_matters_note)))
    if decision is not None:
        glance.append(
            Row("Decision aid", LEANING_LABELS.get(leaning or "", "leaning not recorded"))
        )
    note = decision.get("note") if decision else None
    return AnswerSummary(
        glance=tuple(glance),
        red_flags=flags,
        treatments=treatments,
        imaging=imaging,
        note=intake.what_matters_note,
        values=values_rows(decision, statements or {}),
        values_note=note if isinstance(note, str) and note else None,
    )
