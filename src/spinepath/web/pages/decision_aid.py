"""The surgery decision aid on the result page, and the patient's values-clarification answers.

The aid itself (options, numbers, icon arrays, sources) comes from ``spinepath.decision_aid``;
the result page embeds it (``shared.decision_aid_section``); this module records what matters
to the person and which way they are leaning, gives them a one-page summary to print, and serves
the aid's stylesheet.
The leaning is theirs: it is recorded as given, never inferred.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath.decision_aid import (
    DecisionAid,
    ValuesAnswers,
    decision_aid_css,
    render_summary_pdf,
    with_values,
)
from spinepath.decision_aid.render import LEANING_WORDS
from spinepath.decision_aid.values import IMPORTANCE_LABELS
from spinepath.extras import needs_extra
from spinepath.store import repository
from spinepath.web.deps import DbSession, PatientFromLink, SubmittedForm
from spinepath.web.pages.shared import (
    DECISION_AID_CSS_PATH,
    build_aid,
    decision_aid_view,
    patient_url,
    redirect,
    result_response,
)
from spinepath.web.pdf import pdf_response
from spinepath.web.stored import load_assessment

router = APIRouter(include_in_schema=False)

NOTE_FIELD = "da.note"
LEANING_FIELD = "da.leaning"


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
def record_values(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    form: SubmittedForm,
) -> Response:
    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    assessment = load_assessment(record)
    aid = build_aid(record, assessment)
    answers, errors = read_values(form, aid)
    if not errors:
        values = ValuesAnswers.model_validate(answers)
        with_values(aid, values)
        repository.save_decision_aid_values(
            session, patient, values.model_dump(mode="json"), values.leaning
        )
        return redirect(patient_url(link_token, "result") + "#decision-aid")
    view = decision_aid_view(aid, answers, errors)
    return result_response(request, link_token, patient, session, record, view, 422)


@router.get("/p/{link_token}/my-decision.pdf")
def my_decision_pdf(link_token: str, patient: PatientFromLink, session: DbSession) -> Response:
    """The one-page summary to take to the appointment, with the person's saved answers."""
    record = repository.latest_assessment(session, patient)
    if record is None:
        return redirect(patient_url(link_token))
    assessment = load_assessment(record)
    aid = build_aid(record, assessment)
    saved = repository.latest_decision_aid_values(session, patient)
    if saved is not None:
        aid = with_values(aid, ValuesAnswers.model_validate(saved.values))
    with needs_extra("pdf", "The decision summary PDF"):
        import weasyprint  # noqa: F401 - fails now, inside the request, if the extra is missing

    return pdf_response(lambda: render_summary_pdf(aid), "my-decision.pdf")


@router.get(DECISION_AID_CSS_PATH)
def decision_aid_stylesheet() -> Response:
    return Response(decision_aid_css(), media_type="text/css")
