"""The surgery decision aid on the result page, and the patient's values-clarification answers.

The aid itself (options, numbers, icon arrays, sources) comes from ``spinepath.decision_aid``;
this module embeds it and records what matters to the person and which way they are leaning.
The leaning is theirs: it is recorded as given, never inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from spinepath.decision_aid import (
    DecisionAid,
    ValuesAnswers,
    build_decision_aid,
    decision_aid_css,
    render_html,
    with_values,
)
from spinepath.decision_aid.render import LEANING_WORDS
from spinepath.decision_aid.values import IMPORTANCE_LABELS
from spinepath.pathway.assessment import Assessment
from spinepath.pathway.intake import Intake
from spinepath.store import repository
from spinepath.store.models import AssessmentRecord, Patient
from spinepath.web.deps import DbSession, PatientFromLink
from spinepath.web.pages.patient import patient_url, redirect
from spinepath.web.stored import load_assessment

router = APIRouter(include_in_schema=False)

CSS_PATH = "/decision-aid.css"
NOTE_FIELD = "da.note"
LEANING_FIELD = "da.leaning"


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


def _aid(record: AssessmentRecord, assessment: Assessment) -> DecisionAid:
    return build_decision_aid(Intake.model_validate(record.intake), assessment)


def _view(
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
        html=Markup(render_html(recorded, standalone=False)),
        items=items,
        leaning=(answers or {}).get("leaning"),
        note=str((answers or {}).get("note") or ""),
        errors=errors or {},
    )


def decision_aid_section(
    session: Session, patient: Patient, record: AssessmentRecord, assessment: Assessment
) -> DecisionAidView:
    latest = repository.latest_decision_aid_values(session, patient)
    return _view(_aid(record, assessment), dict(latest.values) if latest else None)


def read_values(form: Any, aid: DecisionAid) -> tuple[dict[str, Any], dict[str, str]]:
    """The values answers as the aid's model expects them, and errors keyed by field name."""
    errors: dict[str, str] = {}
    importance: dict[str, int] = {}
    for item in aid.values_items:
        raw = str(form.get(f"da.importance.{item.id}") or "").strip()
        if not raw:
            continue
        if raw.isdigit() and 0 <= int(raw) < len(IMPORTANCE_LABELS):
            importance[item.id] = int(raw)
        else:
            errors[f"da.importance.{item.id}"] = "Choose one of the options."
    leaning = str(form.get(LEANING_FIELD) or "").strip()
    if not leaning:
        errors[LEANING_FIELD] = "Choose which way you are leaning, or 'I am unsure'."
    elif leaning not in LEANING_WORDS:
        errors[LEANING_FIELD] = "Choose one of the options."
    note = str(form.get(NOTE_FIELD) or "").strip()
    if len(note) > 1000:
        errors[NOTE_FIELD] = "Use 1000 characters or fewer."
    answers: dict[str, Any] = {"importance": importance, "leaning": leaning, "note": note or None}
    return answers, errors


@router.post("/p/{link_token}/decision-aid", response_class=HTMLResponse)
async def record_values(
    request: Request, link_token: str, patient: PatientFromLink, session: DbSession
) -> Response:
    from spinepath.web.pages.results import result_response

    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    assessment = load_assessment(record)
    aid = _aid(record, assessment)
    form = await request.form()
    answers, errors = read_values(form, aid)
    if not errors:
        values = ValuesAnswers.model_validate(answers)
        with_values(aid, values)
        repository.save_decision_aid_values(
            session, patient, values.model_dump(mode="json"), values.leaning
        )
        return redirect(patient_url(link_token, "result") + "#decision-aid")
    view = _view(aid, answers, errors)
    return result_response(request, link_token, patient, session, record, view, 422)


@router.get(CSS_PATH)
def decision_aid_stylesheet() -> Response:
    return Response(decision_aid_css(), media_type="text/css")
