"""The patient questionnaire as data: which intake fields each step asks, in clinical order.

The emergency screen comes first so that the life-threatening questions are asked before anything
else (DESIGN.md, safety principles). Each question names the dotted intake path it fills; form
field names are those paths, so a validation error on the intake maps straight back to its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from spinepath.intake import Priority, TreatmentType

QuestionKind = Literal["tristate", "choice", "int", "float", "text", "multi", "check"]


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
    """Tri-state red-flag question: an unanswered one is shown as still to ask."""
    stops_if: frozenset[str] = frozenset()
    """Raw answers that stop the questionnaire with emergency instructions."""
    stop_reason: str | None = None
    """How the emergency page names the answer when it stopped the flow."""
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Fieldset:
    legend: str
    questions: tuple[Question, ...]
    hint: str | None = None
    only_if: tuple[str, str] | None = None
    """Read only when the answer at this path has this value; hidden when an earlier step
    asked it and the answer differs."""
    toggle: str | None = None
    """A checkbox in this fieldset that reveals the rest of it."""
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


SIDES = (
    Choice("none", "No"),
    Choice("left", "Yes, left side"),
    Choice("right", "Yes, right side"),
    Choice("both", "Yes, both sides"),
    Choice("unknown", "Not sure"),
)
REGIONS: tuple[Choice, ...] = (
    Choice("low_back", "Lower back"),
    Choice("upper_back", "Upper back (between the shoulder blades)"),
    Choice("neck", "Neck"),
)
IMAGING_SLOTS = (1, 2)

_TREATMENT_LABELS: dict[str, str] = {
    "advice_self_management": "Advice and self-help (staying active, heat, pacing)",
    "exercise_programme": "An exercise programme (for example yoga, pilates, gym plan)",
    "physiotherapy": "Physiotherapy",
    "manual_therapy": "Manipulation or massage (physio, osteopath, chiropractor)",
    "psychological_therapy": "Talking therapy (for example CBT)",
    "combined_physical_psychological": "A pain programme combining exercise and talking therapy",
    "nsaid": "Anti-inflammatory painkillers (for example ibuprofen, naproxen)",
    "paracetamol": "Paracetamol",
    "weak_opioid": "Codeine, dihydrocodeine or tramadol",
    "strong_opioid": "Morphine, oxycodone or other strong opioids",
    "muscle_relaxant": "Muscle relaxants (for example diazepam)",
    "gabapentinoid": "Gabapentin or pregabalin",
    "antidepressant": "Amitriptyline, duloxetine or other antidepressants for pain",
    "epidural_injection": "Epidural or nerve-root injection",
    "facet_injection": "Facet joint injection",
    "radiofrequency_denervation": "Radiofrequency denervation (nerve ablation)",
    "acupuncture": "Acupuncture",
    "heat": "Heat packs or wraps",
    "other": "Something else",
}
TREATMENTS: tuple[Choice, ...] = tuple(
    Choice(value, _TREATMENT_LABELS[value]) for value in get_args(TreatmentType)
)

_PRIORITY_LABELS: dict[str, str] = {
    "avoid_surgery": "Avoiding an operation if I can",
    "fast_relief": "Getting relief quickly",
    "return_to_work": "Getting back to work",
    "avoid_medicines": "Taking fewer medicines",
    "sleep": "Sleeping better",
    "sport_and_exercise": "Getting back to sport or exercise",
    "caring_for_others": "Being able to care for others",
    "independence": "Staying independent",
    "avoid_time_in_hospital": "Spending as little time in hospital as possible",
}
PRIORITIES: tuple[Choice, ...] = tuple(
    Choice(value, _PRIORITY_LABELS[value]) for value in get_args(Priority)
)


def _yes_no(
    path: str,
    label: str,
    hint: str | None = None,
    *,
    red_flag: bool = False,
    stop_reason: str | None = None,
) -> Question:
    return Question(
        path=path,
        label=label,
        kind="tristate",
        hint=hint,
        red_flag=red_flag,
        stops_if=frozenset({"yes"}) if stop_reason else frozenset(),
        stop_reason=stop_reason,
    )


def _side(path: str, label: str, hint: str | None = None, **stop: str) -> Question:
    reason = stop.get("stop_reason")
    return Question(
        path=path,
        label=label,
        kind="choice",
        hint=hint,
        choices=SIDES,
        red_flag=True,
        stops_if=frozenset({"both"}) if reason else frozenset(),
        stop_reason=reason,
    )


def _choice(path: str, label: str, *choices: tuple[str, str], hint: str | None = None) -> Question:
    return Question(
        path=path, label=label, kind="choice", hint=hint, choices=tuple(Choice(*c) for c in choices)
    )


# The 999/A&E list follows NHS public back-pain advice (reference.md 1.1 [V-2nd]) and the BASS
# cauda equina features (reference.md 1.2 [V]); chest pain, tearing pain and collapse follow the
# mimics section (reference.md 1.9 encoding suggestion: thoracic pain with chest symptoms or
# collapse -> 999). Over-triage here is a cost we accept; under-triage is harm.
EMERGENCY = Step(
    slug="emergency",
    title="First, some urgent questions",
    intro=(
        "These questions check for problems that need help straight away. Please answer each "
        "one. If you are not sure, choose 'Not sure'."
    ),
    fieldsets=(
        Fieldset(
            legend="Bladder, bowel and numbness",
            questions=(
                _yes_no(
                    "cauda_equina.urinary_difficulty",
                    "Is it newly hard to start peeing, or is your stream weaker than usual?",
                    red_flag=True,
                    stop_reason="new difficulty peeing",
                ),
                _yes_no(
                    "cauda_equina.bladder_sensation_change",
                    "Have you stopped being able to tell whether your bladder is full or empty?",
                    red_flag=True,
                    stop_reason="not knowing whether your bladder is full or empty",
                ),
                _yes_no(
                    "cauda_equina.urinary_incontinence",
                    "Have you lost control of your bladder (leaking or wetting yourself)?",
                    red_flag=True,
                    stop_reason="loss of bladder control",
                ),
                _yes_no(
                    "cauda_equina.bowel_incontinence",
                    "Have you lost control of your bowels?",
                    red_flag=True,
                    stop_reason="loss of bowel control",
                ),
                _yes_no(
                    "cauda_equina.saddle_numbness",
                    "Do you have numbness or tingling around your genitals, bottom or buttocks?",
                    "For example, it feels different when you wipe after using the toilet.",
                    red_flag=True,
                    stop_reason="numbness or tingling around the genitals, bottom or buttocks",
                ),
                _yes_no(
                    "cauda_equina.sexual_dysfunction",
                    "Have you newly lost feeling in your genitals, or the ability to get or keep "
                    "an erection or to ejaculate?",
                    red_flag=True,
                    stop_reason="new loss of sexual function or genital feeling",
                ),
            ),
        ),
        Fieldset(
            legend="Chest, heart and collapse",
            questions=(
                _yes_no(
                    "mimics.chest_pain",
                    "Do you have chest pain?",
                    red_flag=True,
                    stop_reason="chest pain",
                ),
                _yes_no(
                    "mimics.tearing_pain",
                    "Did a sudden, severe, tearing or ripping pain go through to your back?",
                    red_flag=True,
                    stop_reason="sudden severe tearing pain into the back",
                ),
                _yes_no(
                    "mimics.collapse_or_faint",
                    "Have you collapsed or fainted since the pain started?",
                    red_flag=True,
                    stop_reason="collapsing or fainting",
                ),
            ),
        ),
        Fieldset(
            legend="Accidents",
            questions=(
                Question(
                    path="history.trauma",
                    label="Did the pain start after an injury?",
                    kind="choice",
                    choices=(
                        Choice("none", "No injury"),
                        Choice("minor", "A small injury, such as a slip or lifting something"),
                        Choice(
                            "major",
                            "A serious accident, such as a car crash or a fall from a height",
                        ),
                        Choice("unknown", "Not sure"),
                    ),
                    red_flag=True,
                    stops_if=frozenset({"major"}),
                    stop_reason="pain that started after a serious accident",
                ),
            ),
        ),
    ),
)

ABOUT = Step(
    slug="about",
    title="About you",
    intro="spinepath is for people aged 16 and over.",
    fieldsets=(
        Fieldset(
            legend="About you",
            questions=(
                Question("age", "How old are you?", "int", unit="years", minimum=16, maximum=120),
                _choice(
                    "sex",
                    "What is your sex?",
                    ("female", "Female"),
                    ("male", "Male"),
                    ("other", "Other"),
                    ("unknown", "Prefer not to say"),
                ),
            ),
        ),
    ),
)

WHERE = Step(
    slug="where",
    title="Where is your pain?",
    intro="Tick every part of your back or neck that hurts.",
    fieldsets=(
        Fieldset(
            legend="Where is your pain?",
            hint="Tick all that apply.",
            error_path="regions",
            questions=tuple(
                Question(f"regions.{r.value}.selected", r.label, "check") for r in REGIONS
            ),
        ),
    ),
)


def _region_questions(region: str) -> tuple[Question, ...]:
    p = f"regions.{region}"
    return (
        Question(
            f"{p}.duration_weeks",
            "How many weeks has this pain lasted?",
            "int",
            hint="Count from when this episode began. Less than a week counts as 0.",
            unit="weeks",
            minimum=0,
            maximum=5200,
        ),
        Question(
            f"{p}.intensity",
            "How bad has the pain usually been over the last week?",
            "int",
            hint="0 means no pain, 10 means the worst pain you can imagine.",
            minimum=0,
            maximum=10,
        ),
        _choice(
            f"{p}.onset",
            "How did it start?",
            ("sudden", "Suddenly"),
            ("gradual", "Gradually"),
            ("unknown", "Not sure"),
        ),
        _choice(
            f"{p}.quality",
            "What does it feel like?",
            ("dull", "Dull or aching"),
            ("sharp", "Sharp or stabbing"),
            ("burning", "Burning"),
            ("unknown", "Not sure"),
        ),
        _choice(
            f"{p}.extent",
            "Is it in one spot or spread out?",
            ("focal", "In one spot"),
            ("spread", "Spread over a larger area"),
            ("unknown", "Not sure"),
        ),
        _yes_no(f"{p}.worse_with_movement", "Is it worse when you move?"),
        _yes_no(f"{p}.not_eased_by_rest", "Does it stay bad even when you rest?", red_flag=True),
        _yes_no(f"{p}.worse_at_night", "Is it worse at night?", red_flag=True),
        _yes_no(
            f"{p}.worse_on_straining",
            "Is it worse when you cough, sneeze or open your bowels?",
            red_flag=True,
        ),
    )


PAIN = Step(
    slug="pain",
    title="Your pain",
    intro="Tell us about the pain in each place you ticked.",
    fieldsets=tuple(
        Fieldset(
            legend=f"{r.label}",
            questions=_region_questions(r.value),
            only_if=(f"regions.{r.value}.selected", "yes"),
        )
        for r in REGIONS
    ),
)

LIMBS = Step(
    slug="limbs",
    title="Arms and legs",
    intro="Pain, numbness or weakness in the arms or legs can come from the spine.",
    fieldsets=(
        Fieldset(
            legend="Pain travelling into your arms or legs",
            questions=(
                _side("radiation.arm", "Does pain travel down into an arm?"),
                _side("radiation.leg", "Does pain travel down into a leg?"),
                _yes_no("radiation.leg_below_knee", "Does the leg pain go below the knee?"),
                _yes_no(
                    "radiation.leg_pain_worse_than_back",
                    "Is the leg pain worse than the back pain?",
                ),
                _yes_no(
                    "radiation.sudden_onset",
                    "Did the arm or leg pain come on suddenly, over hours or a day or two?",
                ),
            ),
        ),
        Fieldset(
            legend="Numbness, tingling and weakness",
            questions=(
                _side(
                    "neurology.arm_numbness_or_tingling",
                    "Do you have numbness or tingling in an arm or hand?",
                ),
                _side(
                    "neurology.leg_numbness_or_tingling",
                    "Do you have numbness or tingling in a leg or foot?",
                    stop_reason="numbness or tingling in both legs",
                ),
                _side("neurology.arm_weakness", "Is an arm or hand weak?"),
                _side(
                    "neurology.leg_weakness",
                    "Is a leg or foot weak?",
                    stop_reason="weakness in both legs",
                ),
                _yes_no(
                    "neurology.foot_drop",
                    "Does your foot slap down or catch on the ground when you walk?",
                    red_flag=True,
                ),
                _yes_no(
                    "neurology.progressing",
                    "Is the numbness or weakness spreading or getting worse?",
                    red_flag=True,
                ),
                _yes_no(
                    "neurology.gait_change",
                    "Have you become unsteady, lost your balance or walked clumsily?",
                    red_flag=True,
                ),
                _yes_no(
                    "neurology.hand_clumsiness",
                    "Have fine hand tasks become hard, such as doing up buttons or writing?",
                    red_flag=True,
                ),
                _yes_no(
                    "neurology.electric_shocks_on_neck_bending",
                    "Do you feel electric shocks down your back or limbs when you bend your neck?",
                    red_flag=True,
                ),
                _yes_no(
                    "neurology.walking_leg_pain_eased_by_sitting",
                    "Do your legs hurt or feel heavy when you walk, and ease when you sit or "
                    "bend forward?",
                ),
            ),
        ),
    ),
)

RED_FLAGS = Step(
    slug="warning-signs",
    title="Other warning signs",
    intro="These questions look for less common causes of back pain that need a doctor soon.",
    fieldsets=(
        Fieldset(
            legend="How you feel in yourself",
            questions=(
                _yes_no("systemic.fever", "Do you have a high temperature?", red_flag=True),
                _yes_no(
                    "systemic.weight_loss",
                    "Have you lost weight without trying?",
                    red_flag=True,
                ),
                _yes_no("systemic.night_sweats", "Do you sweat heavily at night?", red_flag=True),
                _yes_no("systemic.feels_unwell", "Do you feel generally unwell?", red_flag=True),
            ),
        ),
        Fieldset(
            legend="Chest and tummy",
            questions=(
                _yes_no("mimics.breathlessness", "Are you short of breath?", red_flag=True),
                _yes_no(
                    "mimics.sweating_or_clammy",
                    "Are you sweating or cold and clammy?",
                    red_flag=True,
                ),
                _yes_no("mimics.abdominal_pain", "Do you have pain in your tummy?", red_flag=True),
                _yes_no(
                    "mimics.pulsating_abdominal_mass",
                    "Can you feel a throbbing lump in your tummy?",
                    red_flag=True,
                ),
                _yes_no(
                    "mimics.urinary_symptoms_with_loin_pain",
                    "Do you have pain in your side with burning or frequent peeing?",
                    red_flag=True,
                ),
            ),
        ),
        Fieldset(
            legend="Your back",
            questions=(
                _yes_no(
                    "history.back_lump_or_shape_change",
                    "Have you noticed a lump or swelling on your back, or a change in its shape?",
                    red_flag=True,
                ),
            ),
        ),
    ),
)

HISTORY = Step(
    slug="history",
    title="Your health history",
    intro="Some conditions and treatments change what back pain can mean.",
    fieldsets=(
        Fieldset(
            legend="Have you ever had…",
            questions=(
                _yes_no("history.cancer", "Cancer, now or in the past?", red_flag=True),
                _yes_no("history.osteoporosis", "Osteoporosis (thin bones)?", red_flag=True),
                _yes_no(
                    "history.previous_fragility_fracture",
                    "A broken bone from a minor fall or knock?",
                    red_flag=True,
                ),
                _yes_no("history.tuberculosis", "Tuberculosis (TB)?", red_flag=True),
                _yes_no("history.prior_spine_surgery", "An operation on your spine?"),
            ),
        ),
        Fieldset(
            legend="Medicines and recent events",
            questions=(
                _yes_no(
                    "history.long_term_steroids",
                    "Have you taken steroid tablets (such as prednisolone) for more than 3 months?",
                    red_flag=True,
                ),
                _yes_no(
                    "history.immunosuppression",
                    "Do you have a weakened immune system, or take medicines that weaken it?",
                    red_flag=True,
                ),
                _yes_no("history.iv_drug_use", "Do you inject drugs?", red_flag=True),
                _yes_no(
                    "history.recent_infection",
                    "Have you had an infection recently (for example a urine or skin infection)?",
                    red_flag=True,
                ),
                _yes_no(
                    "history.recent_spinal_procedure",
                    "Have you recently had an injection or procedure on your spine?",
                    red_flag=True,
                ),
            ),
        ),
    ),
)

INFLAMMATORY = Step(
    slug="inflammatory",
    title="Stiffness and joints",
    intro="Some back pain comes from inflammation. These questions help spot it.",
    fieldsets=(
        Fieldset(
            legend="Your back pain",
            questions=(
                _yes_no(
                    "inflammatory.started_before_35", "Did your back pain first start before 35?"
                ),
                _yes_no(
                    "inflammatory.wakes_second_half_of_night",
                    "Does the pain wake you in the second half of the night?",
                ),
                _yes_no("inflammatory.buttock_pain", "Do you have pain in your buttocks?"),
                _yes_no(
                    "inflammatory.improves_with_movement",
                    "Does the pain get better when you move about?",
                ),
                _yes_no(
                    "inflammatory.improves_within_48h_of_nsaid",
                    "Did anti-inflammatory painkillers (like ibuprofen) help within 2 days?",
                ),
            ),
        ),
        Fieldset(
            legend="You and your family",
            questions=(
                _yes_no(
                    "inflammatory.first_degree_relative_with_spa",
                    "Does a parent, brother, sister or child have spondyloarthritis "
                    "(for example ankylosing spondylitis)?",
                ),
                _yes_no("inflammatory.arthritis", "Do you have swollen, painful joints?"),
                _yes_no(
                    "inflammatory.enthesitis",
                    "Do you have pain where tendons attach, such as the heel?",
                ),
                _yes_no("inflammatory.psoriasis", "Do you have psoriasis?"),
                _yes_no(
                    "inflammatory.inflammatory_bowel_disease_or_uveitis",
                    "Do you have Crohn's disease, ulcerative colitis or uveitis "
                    "(eye inflammation)?",
                ),
            ),
        ),
    ),
)

STARTBACK = Step(
    slug="startback",
    title="How your back pain affects you",
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
            Question(f"{p}.weeks", "For how many weeks?", "int", unit="weeks", minimum=0),
            _choice(
                f"{p}.response",
                "Did it help?",
                ("good", "Yes, a lot"),
                ("partial", "A little"),
                ("none", "No"),
                ("worse", "It made things worse"),
                ("unknown", "Not sure"),
            ),
        ),
        only_if=(f"{p}.tried", "yes"),
        toggle=f"{p}.tried",
    )


TREATMENTS_STEP = Step(
    slug="treatments",
    title="Treatments you have tried",
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
                "What kind of scan?",
                ("unknown", "No scan"),
                ("xray", "X-ray"),
                ("mri", "MRI"),
                ("ct", "CT"),
            ),
            _choice(
                f"{p}.finding",
                "What did it show, as you were told?",
                ("normal", "Nothing abnormal"),
                ("disc_herniation", "A slipped (herniated) disc"),
                ("spinal_stenosis", "Narrowing of the spinal canal (stenosis)"),
                ("spondylolisthesis", "A vertebra slipped forward (spondylolisthesis)"),
                ("fracture", "A broken bone (fracture)"),
                ("degenerative_changes", "Wear and tear"),
                ("cord_compression", "Pressure on the spinal cord"),
                ("tumour", "A growth (tumour)"),
                ("infection", "An infection"),
                ("other", "Something else"),
            ),
            Question(
                f"{p}.level",
                "Which level of the spine, if you know?",
                "text",
                hint="For example L4-L5 or C6.",
            ),
            _choice(
                f"{p}.side",
                "Which side?",
                ("left", "Left"),
                ("right", "Right"),
                ("central", "Middle"),
                ("bilateral", "Both sides"),
                ("unknown", "Not sure"),
            ),
            _yes_no(
                f"{p}.matches_symptoms",
                "Did a doctor say the finding fits your symptoms?",
            ),
            Question(
                f"{p}.weeks_ago", "How many weeks ago was it?", "int", unit="weeks", minimum=0
            ),
        ),
    )


IMAGING = Step(
    slug="imaging",
    title="Scans",
    intro="If you have had an X-ray, MRI or CT scan of your spine for this pain, tell us about "
    "it. Most back pain does not need a scan.",
    fieldsets=tuple(_imaging_fieldset(slot) for slot in IMAGING_SLOTS),
)

HEALTH = Step(
    slug="health",
    title="Your general health",
    intro="Your general health matters when weighing up treatments.",
    fieldsets=(
        Fieldset(
            legend="Lifestyle",
            questions=(
                _choice(
                    "health.smoking",
                    "Do you smoke?",
                    ("never", "I have never smoked"),
                    ("former", "I used to smoke"),
                    ("current", "I smoke now"),
                    ("unknown", "Prefer not to say"),
                ),
                Question(
                    "health.height_cm", "Your height", "float", unit="cm", minimum=100, maximum=250
                ),
                Question(
                    "health.weight_kg", "Your weight", "float", unit="kg", minimum=25, maximum=400
                ),
                _choice(
                    "work_status",
                    "Are you working?",
                    ("working", "Yes, I am working"),
                    ("off_work_due_to_pain", "I am off work because of the pain"),
                    ("not_working_other", "I am not working for another reason"),
                    ("retired", "I am retired"),
                    ("student", "I am a student"),
                    ("unknown", "Prefer not to say"),
                ),
            ),
        ),
        Fieldset(
            legend="Do you have…",
            questions=(
                _yes_no("health.diabetes", "Diabetes?"),
                _yes_no("health.heart_disease", "Heart disease?"),
                _yes_no("health.lung_disease", "Lung disease?"),
                _yes_no("health.kidney_disease", "Kidney disease?"),
                _yes_no(
                    "health.anticoagulants",
                    "Do you take blood thinners (such as warfarin or apixaban)?",
                ),
            ),
        ),
    ),
)

WHAT_MATTERS = Step(
    slug="what-matters",
    title="What matters to you",
    intro="Your care plan should fit your life. Tell us what matters most.",
    fieldsets=(
        Fieldset(
            legend="What matters most to you?",
            hint="Tick all that apply.",
            questions=(
                Question("priorities", "What matters most to you?", "multi", choices=PRIORITIES),
            ),
        ),
        Fieldset(
            legend="Anything else",
            questions=(
                Question(
                    "what_matters_note",
                    "Is there anything else you want your clinician to know?",
                    "text",
                    hint="Optional. Up to 1000 characters.",
                    maximum=1000,
                ),
            ),
        ),
    ),
)

STEPS: tuple[Step, ...] = (
    EMERGENCY,
    ABOUT,
    WHERE,
    PAIN,
    LIMBS,
    RED_FLAGS,
    HISTORY,
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


def next_step(slug: str) -> Step | None:
    i = step_index(slug)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def previous_step(slug: str) -> Step | None:
    i = step_index(slug)
    return STEPS[i - 1] if i > 0 else None


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
