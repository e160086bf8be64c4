"""The patient questionnaire as data: which intake fields each step asks, in clinical order.

The red-flag steps are generated from the knowledge base (``knowledge/questions.yaml``): its
emergency screen comes first so that the life-threatening questions are asked before anything
else (the "emergency screen first" safety rule in README.md), and its other warning signs follow
the pain details. A question that depends on an earlier answer on the same screen goes to a
follow-up page, which is shown only when the question applies, so branching works without
JavaScript. Each question names the dotted intake path it fills; form field names are those
paths, so a validation error on the intake maps straight back to its input.

Whether a question is asked is declared beside it, once: its ``ask_if``, in the knowledge base's
condition language (read from ``questions.yaml`` for red-flag questions, from
``pathway/questionnaire.py`` for the leg-pain details the interview asks too). A step is shown
when any of its questions is, and a :class:`Flow` adds what a site decides (the licensed STarT
Back wording), so the pages, the progress count, the review and pruning all ask the same thing.

The other questions, their answers and the headings are worded once, in
``interop/intake_wording.py``, which the FHIR intake Questionnaire is built from too, so a
QuestionnaireResponse and the web form ask the same thing in the same words. Only what the web
alone shows is worded here: step intros, a few headings of its own ("Your pain", "Scan 1") and the
"unknown" answers ("Not sure", "Prefer not to say", "No scan"), which a FHIR response gives by
leaving the question out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spinepath import knowledge as kb
from spinepath.interop import intake_wording as wording
from spinepath.interop.intake_wording import AnswerSet, Worded
from spinepath.knowledge.models import QuestionDef
from spinepath.pathway.conditions import Condition, parse
from spinepath.pathway.kleene import Facts
from spinepath.pathway.questionnaire import DURATION_UNITS, LEG_FOLLOW_UPS, DurationUnit
from spinepath.pathway.screening import applies

QuestionKind = Literal["tristate", "choice", "int", "float", "text", "multi", "check", "duration"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One form input. ``path`` is the form field name and the dotted intake path."""

    path: str
    label: str
    kind: QuestionKind
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    red_flag: bool = False
    """A knowledge-base red-flag question: an unanswered one is shown as still to ask."""
    ask_if: Condition | None = None
    """Shown only when this is not false for the answers so far (knowledge-base branching)."""
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None

    def shown(self, facts: Facts) -> bool:
        return applies(self.ask_if, facts)

    def duration_parts(self, raw: object) -> tuple[str, DurationUnit]:
        """A duration answer as typed and its unit (``"3 days"`` -> ``("3", "days")``)."""
        return split_duration(raw if isinstance(raw, str) else "")


def split_duration(raw: str) -> tuple[str, DurationUnit]:
    """The number and unit of a stored duration; a bare number is in weeks (older drafts)."""
    for unit in DURATION_UNITS:
        if raw.endswith(f" {unit}"):
            return raw[: -len(unit) - 1].strip(), unit
    return raw.strip(), "weeks"


def join_duration(amount: str, unit: str) -> str:
    """The stored form of a duration answer: what was typed, then its unit."""
    return f"{amount} {unit if unit in DURATION_UNITS else 'weeks'}" if amount else ""


@dataclass(frozen=True)
class Fieldset:
    legend: str
    questions: tuple[Question, ...]
    hint: str | None = None
    toggle: str | None = None
    """A checkbox in this fieldset that reveals the rest of it, on the same page: the rest is
    read only when it is ticked."""
    error_path: str | None = None
    """An error key shown on the fieldset as a whole (a rule about all its answers)."""


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    intro: str
    fieldsets: tuple[Fieldset, ...]
    kind: Literal["questions", "startback"] = "questions"
    paths: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "paths", frozenset(q.path for fs in self.fieldsets for q in fs.questions)
        )

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for fs in self.fieldsets for q in fs.questions)

    def shown(self, facts: Facts) -> bool:
        """A page of follow-up questions is shown only when one of them applies."""
        questions = self.questions
        if not questions or any(q.ask_if is None for q in questions):
            return True
        return any(q.shown(facts) for q in questions)


def _offered(answers: AnswerSet) -> tuple[Choice, ...]:
    return tuple(Choice(code, display) for code, display in answers.options)


# The web's own answers, beside the answer sets: "unknown" is the intake's not answered, which a
# FHIR response says by leaving the question out, so the answer sets have no code for it.
NOT_SURE = Choice("unknown", "Not sure")
PREFER_NOT_TO_SAY = Choice("unknown", "Prefer not to say")
NO_SCAN = Choice("unknown", "No scan")

REGIONS: tuple[Choice, ...] = _offered(wording.REGION)
IMAGING_SLOTS = (1, 2)
TREATMENTS: tuple[Choice, ...] = _offered(wording.TREATMENT)
PRIORITIES: tuple[Choice, ...] = _offered(wording.PRIORITY)


def _yes_no(path: str, worded: Worded, *, ask_if: Condition | None = None) -> Question:
    return Question(path=path, label=worded.text, kind="tristate", hint=worded.hint, ask_if=ask_if)


def _choice(
    path: str, worded: Worded, choices: tuple[Choice, ...], *, ask_if: Condition | None = None
) -> Question:
    return Question(
        path=path,
        label=worded.text,
        kind="choice",
        hint=worded.hint,
        choices=choices,
        ask_if=ask_if,
    )


def _knowledge_question(question: QuestionDef) -> Question:
    """The form input for a knowledge-base question; its answer format comes from the intake."""
    answer = question.answer
    kind: QuestionKind = "tristate"
    choices: tuple[Choice, ...] = ()
    if answer.kind == "choice":
        words = question.choices or {}
        choices = (*(Choice(value, label) for value, label in words.items()), NOT_SURE)
        kind = "choice"
    elif answer.kind == "whole_number":
        kind = "int"
    return Question(
        path=question.fact,
        label=question.question,
        kind=kind,
        hint=question.hint,
        choices=choices,
        red_flag=True,
        ask_if=question.ask_if,
        minimum=answer.minimum,
        maximum=answer.maximum,
        unit=question.unit,
    )


def _pages(knowledge: kb.KnowledgeBase, questions: list[QuestionDef]) -> list[list[QuestionDef]]:
    """Questions in order, a new page wherever one branches on an answer given on the same page.

    Without JavaScript a page cannot change while it is being filled in, so a follow-up question
    waits for the page after the answer it depends on.
    """
    pages: list[list[QuestionDef]] = [[]]
    for question in questions:
        reads = kb.answers_read(knowledge, question.ask_if) if question.ask_if else frozenset()
        if reads & {q.fact for q in pages[-1]}:
            pages.append([])
        pages[-1].append(question)
    return [page for page in pages if page]


def _fieldsets(page: list[QuestionDef]) -> tuple[Fieldset, ...]:
    """One fieldset per run of questions with the same group."""
    runs: list[tuple[str, list[QuestionDef]]] = []
    for question in page:
        if not runs or runs[-1][0] != question.group:
            runs.append((question.group, []))
        runs[-1][1].append(question)
    return tuple(
        Fieldset(legend=group, questions=tuple(_knowledge_question(q) for q in run))
        for group, run in runs
    )


def _knowledge_steps(
    screen: Literal["emergency", "red_flag"],
    slug: str,
    titles: tuple[str, str],
    intros: tuple[str, str],
) -> tuple[Step, ...]:
    knowledge = kb.default()
    questions = [q for q in knowledge.questions if q.screen == screen]
    return tuple(
        Step(
            slug=slug if number == 1 else f"{slug}-{number}",
            title=titles[0] if number == 1 else titles[1],
            intro=intros[0] if number == 1 else intros[1],
            fieldsets=_fieldsets(page),
        )
        for number, page in enumerate(_pages(knowledge, questions), start=1)
    )


# The knowledge base's emergency screen: every answer an emergency-level red flag reads (kb check
# makes sure). Over-triage here is a cost we accept; under-triage is harm.
EMERGENCY_STEPS = _knowledge_steps(
    "emergency",
    "emergency",
    (wording.EMERGENCY_TITLE, "A few more urgent questions"),
    (
        "These questions check for problems that need help straight away. Please answer each "
        "one. If you are not sure, choose 'Not sure'.",
        "Some of your answers need a little more detail to tell how urgent they are.",
    ),
)
EMERGENCY = EMERGENCY_STEPS[0]

_ASKED = wording.QUESTIONS

ABOUT = Step(
    slug="about",
    title=wording.ABOUT_TITLE,
    intro="spinepath is for people aged 16 and over.",
    fieldsets=(
        Fieldset(
            legend=wording.ABOUT_TITLE,
            questions=(
                Question("age", _ASKED["age"].text, "int", unit="years", minimum=16, maximum=120),
                _choice("sex", _ASKED["sex"], (*_offered(wording.SEX), PREFER_NOT_TO_SAY)),
                # Asked before the warning signs: the wound question depends on it.
                _yes_no("history.prior_spine_surgery", _ASKED["history.prior_spine_surgery"]),
            ),
        ),
    ),
)

WHERE = Step(
    slug="where",
    title=wording.PAIN_TITLE,
    intro="Tick every part of your back or neck that hurts.",
    fieldsets=(
        Fieldset(
            legend=_ASKED["regions"].text,
            hint=_ASKED["regions"].hint,
            error_path="regions",
            questions=tuple(
                Question(f"regions.{r.value}.selected", r.label, "check") for r in REGIONS
            ),
        ),
    ),
)


def _region_questions(region: str) -> tuple[Question, ...]:
    p = f"regions.{region}"
    asked = wording.REGION_QUESTIONS
    # Only for a region the person ticked: `pain.<region>` is no for one left unticked.
    ticked = parse(f"pain.{region}", where=p)
    return (
        Question(
            f"{p}.duration_weeks",
            asked["duration_weeks"].text,
            "duration",
            # The web takes days or weeks (the FHIR item, whole weeks), so its hint is its own.
            hint="Count from when this episode began, in days or weeks.",
            minimum=0,
            maximum=5200,
            ask_if=ticked,
        ),
        Question(
            f"{p}.intensity",
            asked["intensity"].text,
            "int",
            hint=asked["intensity"].hint,
            minimum=0,
            maximum=10,
            ask_if=ticked,
        ),
        _choice(
            f"{p}.quality",
            asked["quality"],
            (*_offered(wording.QUALITY), NOT_SURE),
            ask_if=ticked,
        ),
        _choice(
            f"{p}.extent",
            asked["extent"],
            (*_offered(wording.EXTENT), NOT_SURE),
            ask_if=ticked,
        ),
        _yes_no(f"{p}.worse_with_movement", asked["worse_with_movement"], ask_if=ticked),
        # Onset, rest, night and straining are red flags, asked once for all regions by the
        # knowledge base's questions.
    )


PAIN = Step(
    slug="pain",
    title="Your pain",
    intro="Tell us about the pain in each place you ticked.",
    fieldsets=tuple(
        Fieldset(legend=f"{r.label}", questions=_region_questions(r.value)) for r in REGIONS
    ),
)

# What leg pain is like (not red flags: the knowledge base asks those on the emergency screen).
LIMBS = Step(
    slug="limbs",
    title="Leg pain",
    intro="These questions help tell apart the kinds of leg pain that come from the back.",
    fieldsets=(
        Fieldset(
            legend=wording.LIMBS_TITLE,
            questions=tuple(
                _yes_no(f.path, Worded(f.question), ask_if=f.ask_if) for f in LEG_FOLLOW_UPS
            ),
        ),
    ),
)

WARNING_SIGNS_STEPS = _knowledge_steps(
    "red_flag",
    "warning-signs",
    (wording.WARNING_SIGNS_TITLE, "A few more questions about warning signs"),
    (
        "These questions look for less common causes of back pain that need a doctor soon.",
        "Some of your answers need a little more detail.",
    ),
)

# NICE NG65's features of axial spondyloarthritis count only for low back pain that began before
# 45 and has lasted more than 3 months (the knowledge base's `spa.eligible`): every rule that reads
# them requires it, so for anyone else they cannot change the advice.
_AXIAL_SPA = parse("spa.eligible", where="inflammatory")


def _inflammatory(*names: str) -> tuple[Question, ...]:
    paths = (f"inflammatory.{name}" for name in names)
    return tuple(_yes_no(path, _ASKED[path], ask_if=_AXIAL_SPA) for path in paths)


INFLAMMATORY = Step(
    slug="inflammatory",
    title=wording.INFLAMMATORY_TITLE,
    intro="Some back pain comes from inflammation. These questions help spot it.",
    fieldsets=(
        Fieldset(
            legend=wording.INFLAMMATORY_BACK,
            questions=_inflammatory(
                "started_before_35",
                "wakes_second_half_of_night",
                "buttock_pain",
                "improves_with_movement",
                "improves_within_48h_of_nsaid",
            ),
        ),
        Fieldset(
            legend=wording.INFLAMMATORY_FAMILY,
            questions=_inflammatory(
                "first_degree_relative_with_spa",
                "arthritis",
                "enthesitis",
                "psoriasis",
                "inflammatory_bowel_disease_or_uveitis",
            ),
        ),
    ),
)

STARTBACK = Step(
    slug="startback",
    title=wording.STARTBACK_TITLE,
    intro=(
        "This step uses the Keele STarT Back questionnaire, which helps match care to your needs."
    ),
    fieldsets=(),
    kind="startback",
)
STARTBACK_PATHS: tuple[str, ...] = tuple(f"startback.q{n}" for n in range(1, 10))


def _treatment_fieldset(choice: Choice) -> Fieldset:
    p = f"treatments.{choice.value}"
    return Fieldset(
        legend=choice.label,
        questions=(
            Question(f"{p}.tried", "I have tried this", "check"),
            Question(
                f"{p}.weeks",
                _ASKED["treatments_tried.weeks"].text,
                "int",
                unit="weeks",
                minimum=0,
            ),
            _choice(
                f"{p}.response",
                _ASKED["treatments_tried.response"],
                (*_offered(wording.TREATMENT_RESPONSE), NOT_SURE),
            ),
        ),
        toggle=f"{p}.tried",
    )


TREATMENTS_STEP = Step(
    slug="treatments",
    title=wording.TREATMENTS_TITLE,
    intro=(
        "Tick each treatment you have tried for this episode of pain, then say for how long and "
        "whether it helped. Leave them all unticked if you have not tried anything yet."
    ),
    fieldsets=tuple(_treatment_fieldset(t) for t in TREATMENTS),
)


def _imaging_fieldset(slot: int) -> Fieldset:
    p = f"imaging.{slot}"
    return Fieldset(
        legend=f"Scan {slot}",
        questions=(
            _choice(
                f"{p}.modality",
                _ASKED["imaging.modality"],
                (NO_SCAN, *_offered(wording.IMAGING_MODALITY)),
            ),
            _choice(f"{p}.finding", _ASKED["imaging.finding"], _offered(wording.IMAGING_FINDING)),
            Question(
                f"{p}.level",
                _ASKED["imaging.level"].text,
                "text",
                hint=_ASKED["imaging.level"].hint,
            ),
            _choice(
                f"{p}.side",
                _ASKED["imaging.side"],
                (*_offered(wording.IMAGING_SIDE), NOT_SURE),
            ),
            _yes_no(f"{p}.matches_symptoms", _ASKED["imaging.matches_symptoms"]),
            Question(
                f"{p}.weeks_ago",
                _ASKED["imaging.weeks_ago"].text,
                "int",
                unit="weeks",
                minimum=0,
            ),
        ),
    )


IMAGING = Step(
    slug="imaging",
    title=wording.IMAGING_TITLE,
    intro="If you have had an X-ray, MRI or CT scan of your spine for this pain, tell us about "
    "it. Most back pain does not need a scan.",
    fieldsets=tuple(_imaging_fieldset(slot) for slot in IMAGING_SLOTS),
)

HEALTH = Step(
    slug="health",
    title=wording.HEALTH_TITLE,
    intro="Your general health matters when weighing up treatments.",
    fieldsets=(
        Fieldset(
            legend=wording.HEALTH_LIFESTYLE,
            questions=(
                _choice(
                    "health.smoking",
                    _ASKED["health.smoking"],
                    (*_offered(wording.SMOKING), PREFER_NOT_TO_SAY),
                ),
                Question(
                    "health.height_cm",
                    _ASKED["health.height_cm"].text,
                    "float",
                    unit="cm",
                    minimum=100,
                    maximum=250,
                ),
                Question(
                    "health.weight_kg",
                    _ASKED["health.weight_kg"].text,
                    "float",
                    unit="kg",
                    minimum=25,
                    maximum=400,
                ),
                _choice(
                    "work_status",
                    _ASKED["work_status"],
                    (*_offered(wording.WORK_STATUS), PREFER_NOT_TO_SAY),
                ),
            ),
        ),
        Fieldset(
            legend=wording.HEALTH_CONDITIONS,
            questions=(
                *(
                    _yes_no(path, _ASKED[path])
                    for path in (
                        "health.diabetes",
                        "health.heart_disease",
                        "health.lung_disease",
                        "health.kidney_disease",
                    )
                ),
                # Blood thinners: a knowledge-base question on the emergency screen.
            ),
        ),
        Fieldset(
            legend=wording.HEALTH_PREGNANCY,
            questions=(_yes_no("health.pregnant", _ASKED["health.pregnant"]),),
        ),
    ),
)

WHAT_MATTERS = Step(
    slug="what-matters",
    title=wording.WHAT_MATTERS_TITLE,
    intro="Your care plan should fit your life. Tell us what matters most.",
    fieldsets=(
        Fieldset(
            legend=_ASKED["priorities"].text,
            hint=_ASKED["priorities"].hint,
            questions=(
                Question("priorities", _ASKED["priorities"].text, "multi", choices=PRIORITIES),
            ),
        ),
        Fieldset(
            legend="Anything else",
            questions=(
                Question(
                    "what_matters_note",
                    _ASKED["what_matters_note"].text,
                    "text",
                    hint=_ASKED["what_matters_note"].hint,
                    maximum=1000,
                ),
            ),
        ),
    ),
)

STEPS: tuple[Step, ...] = (
    *EMERGENCY_STEPS,
    ABOUT,
    WHERE,
    PAIN,
    LIMBS,
    *WARNING_SIGNS_STEPS,
    INFLAMMATORY,
    STARTBACK,
    TREATMENTS_STEP,
    IMAGING,
    HEALTH,
    WHAT_MATTERS,
)
STEP_BY_SLUG: dict[str, Step] = {s.slug: s for s in STEPS}


def step_index(slug: str) -> int:
    return [s.slug for s in STEPS].index(slug)


@dataclass(frozen=True)
class Flow:
    """Which steps one site shows, for the answers so far.

    A step is shown when any of its questions applies (``Step.shown``). STarT Back is shown only
    where the site installed its licensed wording: spinepath never paraphrases it, and a patient
    has no use for a page saying it is missing, so without the wording the step is skipped, and
    neither counted in the progress nor listed on the review.
    """

    startback: bool
    """The site installed the STarT Back wording (``startback_form(settings).available``)."""

    def shows(self, step: Step, facts: Facts) -> bool:
        if step is STARTBACK:
            return self.startback
        return step.shown(facts)

    def shown_steps(self, facts: Facts) -> list[Step]:
        """The steps these answers lead through, so far as they are known (unknown shows)."""
        return [s for s in STEPS if self.shows(s, facts)]

    def next_step(self, slug: str, facts: Facts) -> Step | None:
        """The next step to show for these answers (a page that does not apply is not)."""
        return next((s for s in STEPS[step_index(slug) + 1 :] if self.shows(s, facts)), None)

    def previous_step(self, slug: str, facts: Facts) -> Step | None:
        before = STEPS[: step_index(slug)] if slug in STEP_BY_SLUG else STEPS
        return next((s for s in reversed(before) if self.shows(s, facts)), None)


def step_for_path(path: str) -> Step | None:
    """The step whose form holds this field path (``startback.q3`` -> the STarT Back step)."""
    if path.startswith("startback."):
        return STARTBACK
    for step in STEPS:
        if path in step.paths:
            return step
    return None


def question_for_path(path: str) -> Question | None:
    for step in STEPS:
        for q in step.questions:
            if q.path == path:
                return q
    return None
