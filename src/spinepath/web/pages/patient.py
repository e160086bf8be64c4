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

from spinepath.care import alerts
from spinepath.settings import Settings
from spinepath.store import enrolment, repository
from spinepath.store.models import IntakeDraft, Patient
from spinepath.web.deps import AppSettings, DbSession, PatientFromLink, SubmittedForm
from spinepath.web.pages import forms
from spinepath.web.pages.clinical import assess, emergency_stop
from spinepath.web.pages.instrument_forms import startback_form
from spinepath.web.pages.rendering import render
from spinepath.web.pages.review import review_sections
from spinepath.web.pages.shared import absolute_link, patient_url, redirect, site_base
from spinepath.web.pages.steps import (
    EMERGENCY,
    STARTBACK,
    STEP_BY_SLUG,
    STEPS,
    Flow,
    Step,
    step_index,
)
from spinepath.web.security import count_start, start_allowed

REVIEW = "review"
"""Draft step value once every step has been completed."""

router = APIRouter(include_in_schema=False)


def _flow(settings: Settings) -> Flow:
    """The steps this site shows: STarT Back only where its licensed wording is installed."""
    return Flow(startback=startback_form(settings).available)


def _answers(draft: IntakeDraft | None, flow: Flow) -> forms.Answers:
    """The saved answers, without any to a question that is no longer asked.

    A draft is pruned whenever a step is saved, but the questions asked can change under a
    saved draft (the site removed the STarT Back wording, or the draft predates a branch).
    """
    if draft is None:
        return {}
    return forms.prune(draft.answers, flow)


def _furthest(draft: IntakeDraft | None, flow: Flow) -> int:
    """Index of the furthest step reached; ``len(STEPS)`` means the review page.

    A furthest step that is not shown (any more) counts as the next one that is, so that
    resuming never lands on a page that only redirects.
    """
    if draft is None:
        return 0
    if draft.step == REVIEW:
        return len(STEPS)
    if draft.step not in STEP_BY_SLUG:
        return 0
    step = STEP_BY_SLUG[draft.step]
    facts = forms.facts_of(_answers(draft, flow))
    if flow.shows(step, facts):
        return step_index(step.slug)
    following = flow.next_step(step.slug, facts)
    return step_index(following.slug) if following else len(STEPS)


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
def resume(
    link_token: str, patient: PatientFromLink, session: DbSession, settings: AppSettings
) -> Response:
    flow = _flow(settings)
    draft = repository.load_draft(session, patient)
    answers = _answers(draft, flow)
    if emergency_stop(answers) is not None:
        return redirect(patient_url(link_token, "emergency"))
    if repository.latest_assessment(session, patient) is not None and (
        draft is None or draft.step == REVIEW
    ):
        return redirect(patient_url(link_token, "result"))
    furthest = _furthest(draft, flow)
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
    patient: Patient,
    session: Session,
    step: Step,
    answers: forms.Answers,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    flow = _flow(settings)
    facts = forms.facts_of(answers)
    previous = flow.previous_step(step.slug, facts)
    # Counted over the steps these answers lead through; one that depends on an answer not
    # given yet counts until that answer rules it out.
    shown = flow.shown_steps(facts)
    # Only the questions that apply to the answers so far are on the page.
    fieldsets = [
        replace(fs, questions=questions)
        for fs in step.fieldsets
        if (questions := forms.shown_questions(fs, facts))
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
    if step is EMERGENCY:
        # Whose care team sees the answers is said before the first question is answered.
        context["clinic"] = enrolment.clinic_of(session, patient)
        context["join_url"] = patient_url(link_token, "join")
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
    flow = _flow(settings)
    draft = repository.load_draft(session, patient)
    if step_index(step.slug) > _furthest(draft, flow):
        # Steps are answered in order: the emergency screen can never be skipped.
        return redirect(patient_url(link_token))
    answers = _answers(draft, flow)
    facts = forms.facts_of(answers)
    if not flow.shows(step, facts):
        # A page none of whose questions apply (any more): go on past it.
        return redirect(_step_url(link_token, flow.next_step(step.slug, facts)))
    return _render_step(request, settings, link_token, patient, session, step, answers, {})


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
    flow = _flow(settings)
    draft = repository.load_draft(session, patient)
    furthest = _furthest(draft, flow)
    if step_index(step.slug) > furthest:
        return redirect(patient_url(link_token))
    action = form.get("action")
    answers = _answers(draft, flow)
    facts = forms.facts_of(answers)
    if not flow.shows(step, facts):
        # Nothing on a skipped page was asked, so nothing sent for it may be recorded.
        return redirect(_step_url(link_token, flow.next_step(step.slug, facts)))
    new = forms.read_step(step, form, answers)
    merged = forms.merge(answers, step, new, flow)
    errors = forms.errors_for_step(step, forms.validate(merged).errors)
    if errors:
        shown = {**answers, **new}
        return _render_step(
            request, settings, link_token, patient, session, step, shown, errors, 422
        )
    stop = emergency_stop(merged, still_asking=True)
    if stop is not None:
        repository.save_draft(session, patient, merged, _slug_at(max(furthest, step_index(slug))))
        # In the same transaction as the draft: the clinic hears of every stop it can see.
        alerts.raise_for_emergency_stop(
            session, patient, stop.reasons, site_base(request, settings)
        )
        return redirect(patient_url(link_token, "emergency"))
    if action == "save":
        repository.save_draft(session, patient, merged, _slug_at(furthest))
        return redirect(patient_url(link_token, "saved"))
    following = flow.next_step(step.slug, forms.facts_of(merged))
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
    stop = emergency_stop(_answers(draft, _flow(settings)))
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
    flow = _flow(settings)
    last = flow.previous_step(REVIEW, forms.facts_of(answers)) or STEPS[-1]
    return {
        "sections": review_sections(answers, lambda s: patient_url(link_token, "step", s), flow),
        "errors": errors,
        "error_links": links,
        "action": patient_url(link_token, REVIEW),
        "back": patient_url(link_token, "step", last.slug),
        "link": absolute_link(request, settings, link_token),
    }


def _answers_ready_for_review(
    session: Session, patient: Patient, link_token: str, flow: Flow
) -> forms.Answers | Response:
    """The saved answers once every step is done; otherwise where the patient must go instead."""
    draft = repository.load_draft(session, patient)
    if _furthest(draft, flow) < len(STEPS):
        return redirect(patient_url(link_token))
    answers = _answers(draft, flow)
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
    answers = _answers_ready_for_review(session, patient, link_token, _flow(settings))
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
    answers = _answers_ready_for_review(session, patient, link_token, _flow(settings))
    if isinstance(answers, Response):
        return answers
    outcome = forms.validate(answers)
    if outcome.intake is None:
        context = _review_context(request, settings, link_token, answers, outcome.errors)
        return render(request, "patient/review.html", context, 422)
    record = repository.save_assessment(session, patient, outcome.intake, assess(outcome.intake))
    alerts.raise_for_assessment(session, patient, record, site_base(request, settings))
    return redirect(patient_url(link_token, "result"))


@router.post("/p/{link_token}/again")
def start_again(
    link_token: str, patient: PatientFromLink, session: DbSession, settings: AppSettings
) -> Response:
    """A new assessment for a returning patient: the questionnaire opens with their answers."""
    draft = repository.load_draft(session, patient)
    repository.save_draft(session, patient, _answers(draft, _flow(settings)), EMERGENCY.slug)
    return redirect(patient_url(link_token, "step", EMERGENCY.slug))
