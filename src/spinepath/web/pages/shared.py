"""What the page modules share: patient URLs and redirects, follow-up progress, the result page.

Page modules (the ones with routes) import shared pieces from here and never from each other.
The result page lives here because two page modules answer with it: ``results`` and the decision
aid's values form (which shows the page again with the form's errors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from spinepath import clock
from spinepath.care import followups
from spinepath.decision_aid import (
    DecisionAid,
    ValuesAnswers,
    build_decision_aid,
    render_html,
    with_values,
)
from spinepath.decision_aid.render import LEANING_WORDS
from spinepath.decision_aid.values import IMPORTANCE_LABELS
from spinepath.extras import needs_extra
from spinepath.instruments import catalogue
from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.progress import (
    ProgressReport,
)
from spinepath.pathway.assessment import Assessment, CandidacyStatus
from spinepath.pathway.intake import Intake
from spinepath.settings import Settings
from spinepath.store import enrolment, repository
from spinepath.store.models import AssessmentRecord, Patient
from spinepath.web.deps import get_settings_dep
from spinepath.web.pages.references import patient_references
from spinepath.web.pages.rendering import render
from spinepath.web.stored import load_assessment

# Patient URLs and redirects -------------------------------------------------------------------


def patient_url(link_token: str, *parts: str) -> str:
    return "/".join(("", "p", link_token, *parts))


def site_base(request: Request, settings: Settings) -> str:
    """The site's address for links that leave the page (e-mails, invitations)."""
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def absolute_link(request: Request, settings: Settings, link_token: str) -> str:
    return site_base(request, settings) + patient_url(link_token)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# Follow-up questionnaires and progress --------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    code: str
    title: str
    status: str
    """``due``, ``upcoming`` or ``done``."""
    next_date: dt.date | None
    url: str
    last_score: str | None


class NotCollected(BaseModel):
    """A follow-up questionnaire that fits the person but cannot be asked on this server."""

    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    reason: str


class FollowUpProgress(ProgressReport):
    """The progress report, and the questionnaires the clinician should know are not asked."""

    not_collected: tuple[NotCollected, ...] = ()


def not_collected(record: AssessmentRecord | None, settings: Settings) -> list[NotCollected]:
    if record is None:
        return []
    missing: list[NotCollected] = []
    for code in followups.instruments_for(record.intake):
        if not followups.can_show(code, settings):
            title = catalogue.get(code).short_name
            reason = "not collected — wording not installed"
            missing.append(NotCollected(code=code, title=title, reason=reason))
    return missing


def progress_report(
    session: Session, patient: Patient, settings: Settings, today: dt.date
) -> FollowUpProgress:
    report = followups.report_for(session, patient, settings, today)
    record = repository.latest_assessment(session, patient)
    return FollowUpProgress(
        today=report.today,
        series=report.series,
        not_collected=tuple(not_collected(record, settings)),
    )


def follow_up_overview(
    session: Session, patient: Patient, record: AssessmentRecord, settings: Settings
) -> list[FollowUp]:
    """The questionnaires the person can answer here; one whose licensed wording is not
    installed is left out (their clinician sees it listed as not collected)."""
    today = clock.today()
    report = followups.report_for(session, patient, settings, today)
    overview: list[FollowUp] = []
    for item in followups.statuses(report, record, settings, today):
        definition = catalogue.get(item.code)
        last = None
        if item.series is not None:
            scored = [p for p in item.series.points if p.valid and p.score is not None]
            if scored:
                point = scored[-1]
                last = (
                    point.band.label
                    if definition.rates_change and point.band
                    else f"{point.score:g} {item.series.score_unit}"
                )
        overview.append(
            FollowUp(
                code=item.code,
                title=definition.short_name,
                status=item.status,
                next_date=item.next_date,
                url=patient_url_for_follow_up(item.code),
                last_score=last,
            )
        )
    return overview


def patient_url_for_follow_up(code: str) -> str:
    """Relative to the patient's base URL (``/p/{link_token}``)."""
    return f"follow-up/{code}"


def progress_svg(session: Session, patient: Patient, settings: Settings) -> Response:
    with needs_extra("plots", "The progress chart"):
        import vl_convert as vlc

        from spinepath.instruments.plot import trajectory_spec

    report = progress_report(session, patient, settings, clock.today())
    try:
        spec = trajectory_spec(report)
    except InstrumentError as exc:
        raise HTTPException(status_code=404, detail="no questionnaire answers to plot yet") from exc
    svg: str = vlc.vegalite_to_svg(spec)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# The decision aid section of the result page ---------------------------------------------------

DECISION_AID_CSS_PATH = "/decision-aid.css"


@dataclass(frozen=True)
class ValuesItemView:
    id: str
    name: str
    statement: str
    selected: int | None


@dataclass(frozen=True)
class DecisionAidView:
    html: Markup
    items: list[ValuesItemView]
    leaning: str | None
    note: str
    leaning_choices: list[tuple[str, str]] = field(
        default_factory=lambda: list(LEANING_WORDS.items())
    )
    importance_labels: tuple[str, ...] = IMPORTANCE_LABELS
    errors: dict[str, str] = field(default_factory=dict)


def build_aid(record: AssessmentRecord, assessment: Assessment) -> DecisionAid:
    return build_decision_aid(Intake.model_validate(record.intake), assessment)


def decision_aid_view(
    aid: DecisionAid,
    answers: dict[str, Any] | None,
    errors: dict[str, str] | None = None,
) -> DecisionAidView:
    importance: dict[str, Any] = dict((answers or {}).get("importance") or {})
    recorded = aid
    if answers is not None and not errors:
        try:
            recorded = with_values(aid, ValuesAnswers.model_validate(answers))
        except (ValidationError, ValueError):
            recorded = aid
    items = [
        ValuesItemView(
            id=item.id,
            name=f"da.importance.{item.id}",
            statement=item.statement,
            selected=importance.get(item.id) if isinstance(importance.get(item.id), int) else None,
        )
        for item in aid.values_items
    ]
    return DecisionAidView(
        # The aid's renderer escapes every value it inserts; its fragment has no inline style.
        html=Markup(render_html(recorded, standalone=False)),  # noqa: S704
        items=items,
        leaning=(answers or {}).get("leaning"),
        note=str((answers or {}).get("note") or ""),
        errors=errors or {},
    )


def decision_aid_section(
    session: Session, patient: Patient, record: AssessmentRecord, assessment: Assessment
) -> DecisionAidView:
    latest = repository.latest_decision_aid_values(session, patient)
    return decision_aid_view(build_aid(record, assessment), dict(latest.values) if latest else None)


# The result page -------------------------------------------------------------------------------

SURGERY_ON_THE_TABLE = frozenset(
    {
        CandidacyStatus.REFER_SURGICAL_OPINION,
        CandidacyStatus.URGENT_SURGICAL,
        CandidacyStatus.EMERGENCY_SURGICAL,
    }
)
"""Candidacy statuses for which the surgery decision aid is offered."""


def result_context(
    request: Request,
    session: Session,
    patient: Patient,
    link_token: str,
    record: AssessmentRecord,
    decision: DecisionAidView | None = None,
) -> dict[str, Any]:
    settings = get_settings_dep(request)
    assessment = load_assessment(record)
    if decision is None and assessment.surgical.status in SURGERY_ON_THE_TABLE:
        decision = decision_aid_section(session, patient, record, assessment)
    return {
        "a": assessment,
        "record": record,
        "today": clock.today(),
        "link": absolute_link(request, settings, link_token),
        "base": patient_url(link_token),
        "decision_aid": decision,
        "decision_aid_css": DECISION_AID_CSS_PATH,
        "follow_ups": follow_up_overview(session, patient, record, settings),
        "history": repository.list_assessments(session, patient),
        "sources_cited": patient_references(assessment),
        "clinic": enrolment.clinic_of(session, patient),
    }


def result_response(
    request: Request,
    link_token: str,
    patient: Patient,
    session: Session,
    record: AssessmentRecord,
    decision: DecisionAidView | None = None,
    status_code: int = 200,
) -> Response:
    context = result_context(request, session, patient, link_token, record, decision)
    return render(request, "patient/result.html", context, status_code)
