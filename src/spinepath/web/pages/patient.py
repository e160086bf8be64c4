"""Patient pages: start, the emergency screen and questionnaire steps, review, save and resume.

No account: a private link ``/p/{link_token}`` identifies the patient. Each step is validated
against the whole intake before anything is saved, so a draft never holds an invalid answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from spinepath.store import repository
from spinepath.store.models import IntakeDraft, Patient
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink, SubmittedForm
from spinepath.web.pages import forms
from spinepath.web.pages.clinical import assess, emergency_stop
from spinepath.web.pages.instrument_forms import startback_form
from spinepath.web.pages.rendering import render
from spinepath.web.pages.review import review_sections
from spinepath.web.pages.shared import absolute_link, patient_url, redirect
from spinepath.web.pages.steps import (
    EMERGENCY,
    STARTBACK,
    STEP_BY_SLUG,
    STEPS,
    Step,
    next_step,
    previous_step,
    shown_steps,
    step_index,
)
from spinepath.web.security import count_start, start_allowed

REVIEW = "review"
"""Draft step value once every step has been completed."""

router = APIRouter(include_in_schema=False)


def _answers(draft: IntakeDraft | None) -> forms.Answers:
    if draft is None:
        return {}
    return dict(draft.answers)


def _furthest(draft: IntakeDraft | None) -> int:
    """Index of the furthest step reached; ``len(STEPS)`` means the review page."""
    if draft is None:
        return 0
    if draft.step == REVIEW:
        return len(STEPS)
    return step_index(draft.step) if draft.step in STEP_BY_SLUG else 0


def _slug_at(index: int) -> str:
    return REVIEW if index >= len(STEPS) else STEPS[index].slug


@router.get("/", response_class=HTMLResponse)
def start_page(request: Request) -> Response:
    return render(request, "patient/start.html")


@router.post("/start")
def start(request: Request, session: DbSession, settings: AppSettings) -> Response:
    client = request.client.host if request.client else None
    if not start_allowed(session, settings, client):
        raise HTTPException(
            status_code=429,
            detail="Too many new questionnaires have been started. Try again later.",
            headers={"Retry-After": str(settings.start_rate_window_seconds)},
        )
    count_start(session, settings, client)
    patient, link_token = repository.create_patient(session, None)
    repository.save_draft(session, patient, {}, EMERGENCY.slug)
    repository.record_audit(
        session,
        actor_kind="patient",
        actor_id=patient.id,
        action="start",
        patient_id=patient.id,
        route="POST /start",
    )
    return redirect(patient_url(link_token, "step", EMERGENCY.slug))


@router.get("/p/{link_token}")
def resume(link_token: str, patient: PatientFromLink, session: DbSession) -> Response:
    draft = repository.load_draft(session, patient)
    answers = _answers(draft)
    if emergency_stop(answers) is not None:
        return redirect(patient_url(link_token, "emergency"))
    if repository.latest_assessment(session, patient) is not None and (
        draft is None or draft.step == REVIEW
    ):
        return redirect(patient_url(link_token, "result"))
    furthest = _furthest(draft)
    if furthest >= len(STEPS):
        return redirect(patient_url(link_token, REVIEW))
    return redirect(patient_url(link_token, "step", _slug_at(furthest)))


def _step_or_404(slug: str) -> Step:
    step = STEP_BY_SLUG.get(slug)
    if step is None:
        raise HTTPException(status_code=404, detail="no such step")
    return step


def _step_url(link_token: str, step: Step | None) -> str:
    return patient_url(link_token, "step", step.slug) if step else patient_url(link_token, REVIEW)


def _render_step(
    request: Request,
    settings: AppSettings,
    link_token: str,
    step: Step,
    answers: forms.Answers,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    facts = forms.facts_of(answers)
    previous = previous_step(step.slug, facts)
    shown = shown_steps(facts)
    # Only the follow-up questions that apply to the answers so far are on the page.
    fieldsets = [
        replace(fs, questions=questions)
        for fs in step.fieldsets
        if forms.fieldset_visible(fs, step, answers)
        and (questions := forms.shown_questions(fs, facts))
    ]
    context: dict[str, Any] = {
        "step": step,
        "fieldsets": fieldsets,
        "answers": answers,
        "errors": errors,
        "number": shown.index(step) + 1 if step in shown else step_index(step.slug) + 1,
        "total": len(shown),
        "action": patient_url(link_token, "step", step.slug),
        "back": patient_url(link_token, "step", previous.slug) if previous else None,
        "link": absolute_link(request, settings, link_token),
    }
    if step is STARTBACK:
        context["startback"] = startback_form(settings)
    return render(request, "patient/step.html", context, status_code)


@router.get("/p/{link_token}/step/{slug}", response_class=HTMLResponse)
def step_page(
    request: Request,
    link_token: str,
    slug: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    step = _step_or_404(slug)
    draft = repository.load_draft(session, patient)
    if step_index(step.slug) > _furthest(draft):
        # Steps are answered in order: the emergency screen can never be skipped.
        return redirect(patient_url(link_token))
    answers = _answers(draft)
    facts = forms.facts_of(answers)
    if not step.shown(facts):
        # A follow-up page none of whose questions apply (any more): go on past it.
        return redirect(_step_url(link_token, next_step(step.slug, facts)))
    return _render_step(request, settings, link_token, step, answers, {})


@router.post("/p/{link_token}/step/{slug}")
def step_submit(
    request: Request,
    link_token: str,
    slug: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
    form: SubmittedForm,
) -> Response:
    step = _step_or_404(slug)
    draft = repository.load_draft(session, patient)
    furthest = _furthest(draft)
    if step_index(step.slug) > furthest:
        return redirect(patient_url(link_token))
    action = form.get("action")
    answers = _answers(draft)
    new = forms.read_step(step, form, answers)
    if step is STARTBACK and not startback_form(settings).available:
        # Without the licensed wording nothing was asked, so nothing may be recorded.
        new = {}
    merged = forms.merge(answers, step, new)
    errors = forms.errors_for_step(step, forms.validate(merged).errors)
    if errors:
        shown = {**answers, **new}
        return _render_step(request, settings, link_token, step, shown, errors, 422)
    stop = emergency_stop(merged, still_asking=True)
    if stop is not None:
        repository.save_draft(session, patient, merged, _slug_at(max(furthest, step_index(slug))))
        return redirect(patient_url(link_token, "emergency"))
    if action == "save":
        repository.save_draft(session, patient, merged, _slug_at(furthest))
        return redirect(patient_url(link_token, "saved"))
    following = next_step(step.slug, forms.facts_of(merged))
    target = step_index(following.slug) if following else len(STEPS)
    repository.save_draft(session, patient, merged, _slug_at(max(furthest, target)))
    return redirect(_step_url(link_token, following))


@router.get("/p/{link_token}/saved", response_class=HTMLResponse)
def saved(
    request: Request, link_token: str, patient: PatientFromLink, settings: AppSettings
) -> Response:
    return render(
        request,
        "patient/saved.html",
        {"link": absolute_link(request, settings, link_token), "resume": patient_url(link_token)},
    )


@router.get("/p/{link_token}/emergency", response_class=HTMLResponse)
def emergency(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    draft = repository.load_draft(session, patient)
    stop = emergency_stop(_answers(draft))
    if stop is None:
        return redirect(patient_url(link_token))
    return render(
        request,
        "patient/emergency.html",
        {
            "reasons": stop.reasons,
            "headline": stop.headline,
            "instructions": stop.instructions,
            "change": patient_url(link_token, "step", EMERGENCY.slug),
            "link": absolute_link(request, settings, link_token),
        },
    )


def _review_context(
    request: Request,
    settings: AppSettings,
    link_token: str,
    answers: forms.Answers,
    errors: dict[str, str],
) -> dict[str, Any]:
    links: dict[str, str] = {}
    for path in errors:
        owner = forms.owning_step(path) or EMERGENCY
        links[path] = patient_url(link_token, "step", owner.slug)
    return {
        "sections": review_sections(answers, lambda s: patient_url(link_token, "step", s)),
        "errors": errors,
        "error_links": links,
        "action": patient_url(link_token, REVIEW),
        "back": patient_url(link_token, "step", STEPS[-1].slug),
        "link": absolute_link(request, settings, link_token),
    }


def _answers_ready_for_review(
    session: Session, patient: Patient, link_token: str
) -> forms.Answers | Response:
    """The saved answers once every step is done; otherwise where the patient must go instead."""
    draft = repository.load_draft(session, patient)
    if _furthest(draft) < len(STEPS):
        return redirect(patient_url(link_token))
    answers = _answers(draft)
    if emergency_stop(answers) is not None:
        return redirect(patient_url(link_token, "emergency"))
    return answers


@router.get("/p/{link_token}/review", response_class=HTMLResponse)
def review(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    answers = _answers_ready_for_review(session, patient, link_token)
    if isinstance(answers, Response):
        return answers
    context = _review_context(request, settings, link_token, answers, {})
    return render(request, "patient/review.html", context)


@router.post("/p/{link_token}/review")
def submit(
    request: Request,
    link_token: str,
    patient: PatientFromLink,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    answers = _answers_ready_for_review(session, patient, link_token)
    if isinstance(answers, Response):
        return answers
    outcome = forms.validate(answers)
    if outcome.intake is None:
        context = _review_context(request, settings, link_token, answers, outcome.errors)
        return render(request, "patient/review.html", context, 422)
    repository.save_assessment(session, patient, outcome.intake, assess(outcome.intake))
    return redirect(patient_url(link_token, "result"))


@router.post("/p/{link_token}/again")
def start_again(link_token: str, patient: PatientFromLink, session: DbSession) -> Response:
    """A new assessment for a returning patient: the questionnaire opens with their answers."""
    draft = repository.load_draft(session, patient)
    repository.save_draft(session, patient, _answers(draft), EMERGENCY.slug)
    return redirect(patient_url(link_token, "step", EMERGENCY.slug))
