"""Test helpers: the real engine on the real examples, and hand-built assessments.

The sciatica intake these tests start from is ``support.intakes.sciatica_intake``.
"""

from __future__ import annotations

from pathlib import Path

from spinepath.decision_aid import DecisionAid, build_decision_aid, render_html
from spinepath.pathway.assessment import (
    Assessment,
    CandidacyStatus,
    CarePlan,
    Concern,
    Criterion,
    ImagingAdvice,
    Level,
    NextStep,
    PainPattern,
    PatternType,
    StartBackResult,
    SurgicalCandidacy,
    Triage,
)
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.files import EXAMPLES_DIR, example_paths

EXAMPLES = example_paths()


def load_intake(path: Path) -> Intake:
    return Intake.model_validate_json(path.read_text(encoding="utf-8"))


_aids: dict[str, tuple[Intake, Assessment, DecisionAid, str]] = {}


def example_aid(name: str) -> tuple[Intake, Assessment, DecisionAid, str]:
    """Intake, real assessment, aid and HTML for an example file (built once per run)."""
    if name not in _aids:
        intake = load_intake(EXAMPLES_DIR / name)
        assessment = assess(intake)
        aid = build_decision_aid(intake, assessment)
        _aids[name] = (intake, assessment, aid, render_html(aid))
    return _aids[name]


def make_assessment(
    status: CandidacyStatus = CandidacyStatus.REFER_SURGICAL_OPINION,
    *,
    primary: PatternType = "radicular",
    types: list[PatternType] | None = None,
    level: Level = Level.ROUTINE,
    concerns: tuple[str, ...] = (),
    unmet: tuple[str, ...] = (),
) -> Assessment:
    """A minimal, fixed assessment, so unit and snapshot tests do not move with the engine."""
    return Assessment(
        engine_version="test",
        knowledge_version="test",
        notice="Decision support, not a diagnosis.",
        triage=Triage(
            level=level,
            headline={
                Level.EMERGENCY: "Call 999 or go to A&E now",
                Level.URGENT: "Get seen by a doctor today",
            }.get(level, "See your GP"),
            instructions=["Tell them about your symptoms."],
            reasons=[],
            still_to_ask=[],
            safety_net=[],
        ),
        concerns=[
            Concern(
                code=code,
                label=code,
                level=level,
                summary=code,
                findings=[],
                referral_route="GP",
            )
            for code in concerns
        ],
        pattern=PainPattern(
            regions=["low_back"],
            duration_weeks=14,
            duration_class="chronic",
            duration_definition="more than 12 weeks",
            types=types if types is not None else [primary],
            primary=primary,
            description=primary,
        ),
        startback=StartBackResult(
            total=None, psychosocial=None, risk_group=None, matched_care="Not known."
        ),
        care_plan=CarePlan(
            now=[],
            next_step=NextStep(review_after_weeks=6, text="Review."),
            self_management=[],
            prevention=[],
            not_recommended=[],
        ),
        imaging=ImagingAdvice(indicated=False, timing="none", modality=None, reason="None."),
        surgical=SurgicalCandidacy(
            status=status,
            summary=f"Surgical candidacy: {status.value}.",
            criteria=[
                Criterion(code=code, label=code.replace("_", " "), met=False, detail="Not yet.")
                for code in unmet
            ],
            referral_route=None,
        ),
        trace=[],
    )
