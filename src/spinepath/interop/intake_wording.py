"""The words of the intake questionnaire that neither the knowledge base nor the pathway holds.

The red-flag questions are worded by the knowledge base (``knowledge/data/questions.yaml``) and the
leg-pain follow-ups by ``pathway/questionnaire.py``; the web form and the FHIR Questionnaire both
read those where they are. Everything else both ask is worded here, once: the web questionnaire
(``web/pages/steps.py``) builds its questions, choices and headings from these texts and answer
sets, and ``intake_questionnaire`` its items, so the two cannot drift apart. The wording lives in
this layer because the web stands above interop and may import it, not the other way round.

The web adds what only a form needs: its step intros and one answer with no code here, "unknown"
("Not sure", "Prefer not to say", "No scan"), which a QuestionnaireResponse gives by leaving the
question out. Where the web asks differently it keeps its own hint (a duration in days or weeks).
The few questions the web does not ask (BMI, scores measured elsewhere, which treatment a repeated
entry is) are worded from the intake model's own descriptions.

Each answer set is one local CodeSystem (``terminology.intake_answer_code_systems``): its codes
are the intake model's values, so a coded answer is the intake value itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from spinepath import knowledge as kb
from spinepath.instruments import catalogue


@dataclass(frozen=True)
class Worded:
    text: str
    hint: str | None = None


@dataclass(frozen=True)
class AnswerSet:
    """The answers a choice question allows: intake values with the words shown for each."""

    id: str
    """The CodeSystem id under ``https://spinepath.org/fhir/CodeSystem/``."""
    title: str
    options: tuple[tuple[str, str], ...]
    """(code, display) in the order they are offered."""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.options)

    def display(self, code: str) -> str:
        return dict(self.options)[code]


# --- Groups: the web questionnaire's step titles and fieldset legends ---------------------------

EMERGENCY_TITLE = "First, some urgent questions"
ABOUT_TITLE = "About you"
PAIN_TITLE = "Where is your pain?"
LIMBS_TITLE = "Pain travelling into your legs"
WARNING_SIGNS_TITLE = "Other warning signs"
INFLAMMATORY_TITLE = "Stiffness and joints"
INFLAMMATORY_BACK = "Your back pain"
INFLAMMATORY_FAMILY = "You and your family"
STARTBACK_TITLE = "How your back pain affects you"
TREATMENTS_TITLE = "Treatments you have tried"
IMAGING_TITLE = "Scans"
OUTCOMES_TITLE = "Questionnaire scores already measured"
HEALTH_TITLE = "Your general health"
HEALTH_LIFESTYLE = "Lifestyle"
HEALTH_CONDITIONS = "Do you have…"
HEALTH_PREGNANCY = "Pregnancy"
WHAT_MATTERS_TITLE = "What matters to you"

# --- Questions, by intake path (regions: by field of one region) --------------------------------

QUESTIONS: dict[str, Worded] = {
    "age": Worded("How old are you?"),
    "sex": Worded("What is your sex?"),
    "history.prior_spine_surgery": Worded("Have you ever had an operation on your spine?"),
    "regions": Worded("Where is your pain?", "Tick all that apply."),
    "inflammatory.started_before_35": Worded("Did your back pain first start before 35?"),
    "inflammatory.wakes_second_half_of_night": Worded(
        "Does the pain wake you in the second half of the night?"
    ),
    "inflammatory.buttock_pain": Worded("Do you have pain in your buttocks?"),
    "inflammatory.improves_with_movement": Worded("Does the pain get better when you move about?"),
    "inflammatory.improves_within_48h_of_nsaid": Worded(
        "Did anti-inflammatory painkillers (like ibuprofen) help within 2 days?"
    ),
    "inflammatory.first_degree_relative_with_spa": Worded(
        "Does a parent, brother, sister or child have spondyloarthritis "
        "(for example ankylosing spondylitis)?"
    ),
    "inflammatory.arthritis": Worded("Do you have swollen, painful joints?"),
    "inflammatory.enthesitis": Worded("Do you have pain where tendons attach, such as the heel?"),
    "inflammatory.psoriasis": Worded("Do you have psoriasis?"),
    "inflammatory.inflammatory_bowel_disease_or_uveitis": Worded(
        "Do you have Crohn's disease, ulcerative colitis or uveitis (eye inflammation)?"
    ),
    "treatments_tried.type": Worded("Which treatment have you tried for this episode of pain?"),
    "treatments_tried.weeks": Worded("For how many weeks?"),
    "treatments_tried.response": Worded("Did it help?"),
    "imaging.modality": Worded("What kind of scan?"),
    "imaging.finding": Worded("What did it show, as you were told?"),
    "imaging.level": Worded("Which level of the spine, if you know?", "For example L4-L5 or C6."),
    "imaging.side": Worded("Which side?"),
    "imaging.matches_symptoms": Worded("Did a doctor say the finding fits your symptoms?"),
    "imaging.weeks_ago": Worded("How many weeks ago was it?"),
    "health.smoking": Worded("Do you smoke?"),
    "health.height_cm": Worded("Your height"),
    "health.weight_kg": Worded("Your weight"),
    "health.bmi": Worded("Your body mass index (BMI), if you know it"),
    "work_status": Worded("Are you working?"),
    "health.diabetes": Worded("Diabetes?"),
    "health.heart_disease": Worded("Heart disease?"),
    "health.lung_disease": Worded("Lung disease?"),
    "health.kidney_disease": Worded("Kidney disease?"),
    "health.pregnant": Worded(
        "Are you pregnant, or could you be?", "Some medicines and scans are not safe in pregnancy."
    ),
    "priorities": Worded("What matters most to you?", "Tick all that apply."),
    "what_matters_note": Worded(
        "Is there anything else you want your clinician to know?",
        "Optional. Up to 1000 characters.",
    ),
}

REGION_QUESTIONS: dict[str, Worded] = {
    # The web asks in days or weeks and stores completed weeks; the intake holds the weeks.
    "duration_weeks": Worded(
        "How long has this pain lasted?",
        "Count from when this episode began, in whole weeks (less than a week counts as 0).",
    ),
    "intensity": Worded(
        "How bad has the pain usually been over the last week?",
        "0 means no pain, 10 means the worst pain you can imagine.",
    ),
    "quality": Worded("What does it feel like?"),
    "extent": Worded("Is it in one spot or spread out?"),
    "worse_with_movement": Worded("Is it worse when you move?"),
}


def outcome_question(instrument: str, unit: str) -> Worded:
    """A score measured elsewhere, named as the instrument's definition names it."""
    definition = catalogue.get(instrument)
    return Worded(f"{definition.name} ({definition.short_name}) score, if measured: {unit}")


# --- Answer sets ---------------------------------------------------------------------------------

REGION = AnswerSet(
    "intake-region",
    "Where the pain is",
    (
        ("low_back", "Lower back"),
        ("upper_back", "Upper back (between the shoulder blades)"),
        ("neck", "Neck"),
    ),
)
SEX = AnswerSet("intake-sex", "Sex", (("female", "Female"), ("male", "Male"), ("other", "Other")))
# The knowledge base asks "Did the pain come on suddenly?"; these name the two answers.
ONSET = AnswerSet(
    "intake-onset", "How the pain began", (("sudden", "Suddenly"), ("gradual", "Gradually"))
)
QUALITY = AnswerSet(
    "intake-pain-quality",
    "What the pain feels like",
    (("dull", "Dull or aching"), ("sharp", "Sharp or stabbing"), ("burning", "Burning")),
)
EXTENT = AnswerSet(
    "intake-pain-extent",
    "Whether the pain is in one spot",
    (("focal", "In one spot"), ("spread", "Spread over a larger area")),
)
TREATMENT = AnswerSet(
    "intake-treatment",
    "Treatments tried",
    (
        ("advice_self_management", "Advice and self-help (staying active, heat, pacing)"),
        ("exercise_programme", "An exercise programme (for example yoga, pilates, gym plan)"),
        ("physiotherapy", "Physiotherapy"),
        ("manual_therapy", "Manipulation or massage (physio, osteopath, chiropractor)"),
        ("psychological_therapy", "Talking therapy (for example CBT)"),
        (
            "combined_physical_psychological",
            "A pain programme combining exercise and talking therapy",
        ),
        ("nsaid", "Anti-inflammatory painkillers (for example ibuprofen, naproxen)"),
        ("paracetamol", "Paracetamol"),
        ("weak_opioid", "Codeine, dihydrocodeine or tramadol"),
        ("strong_opioid", "Morphine, oxycodone or other strong opioids"),
        ("muscle_relaxant", "Muscle relaxants (for example diazepam)"),
        ("gabapentinoid", "Gabapentin or pregabalin"),
        ("antidepressant", "Amitriptyline, duloxetine or other antidepressants for pain"),
        ("epidural_injection", "Epidural or nerve-root injection"),
        ("facet_injection", "Facet joint injection"),
        ("radiofrequency_denervation", "Radiofrequency denervation (nerve ablation)"),
        ("acupuncture", "Acupuncture"),
        ("heat", "Heat packs or wraps"),
        ("other", "Something else"),
    ),
)
TREATMENT_RESPONSE = AnswerSet(
    "intake-treatment-response",
    "Whether a treatment helped",
    (
        ("good", "Yes, a lot"),
        ("partial", "A little"),
        ("none", "No"),
        ("worse", "It made things worse"),
    ),
)
IMAGING_MODALITY = AnswerSet(
    "intake-imaging-modality",
    "Kind of scan",
    (("xray", "X-ray"), ("mri", "MRI"), ("ct", "CT")),
)
IMAGING_FINDING = AnswerSet(
    "intake-imaging-finding",
    "What a scan showed, as the person was told",
    (
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
)
IMAGING_SIDE = AnswerSet(
    "intake-imaging-side",
    "Side of a scan finding",
    (("left", "Left"), ("right", "Right"), ("central", "Middle"), ("bilateral", "Both sides")),
)
SMOKING = AnswerSet(
    "intake-smoking",
    "Smoking",
    (
        ("never", "I have never smoked"),
        ("former", "I used to smoke"),
        ("current", "I smoke now"),
    ),
)
WORK_STATUS = AnswerSet(
    "intake-work-status",
    "Work",
    (
        ("working", "Yes, I am working"),
        ("off_work_due_to_pain", "I am off work because of the pain"),
        ("not_working_other", "I am not working for another reason"),
        ("retired", "I am retired"),
        ("student", "I am a student"),
    ),
)
PRIORITY = AnswerSet(
    "intake-priority",
    "What matters most to the person",
    (
        ("avoid_surgery", "Avoiding an operation if I can"),
        ("fast_relief", "Getting relief quickly"),
        ("return_to_work", "Getting back to work"),
        ("avoid_medicines", "Taking fewer medicines"),
        ("sleep", "Sleeping better"),
        ("sport_and_exercise", "Getting back to sport or exercise"),
        ("caring_for_others", "Being able to care for others"),
        ("independence", "Staying independent"),
        ("avoid_time_in_hospital", "Spending as little time in hospital as possible"),
    ),
)


def _knowledge_choices(fact: str) -> tuple[tuple[str, str], ...]:
    for question in kb.default().questions:
        if question.fact == fact and question.choices:
            return tuple(question.choices.items())
    raise LookupError(f"the knowledge base words no choices for {fact}")


@cache
def side() -> AnswerSet:
    # Every side question in the knowledge base shares one set of words (a YAML anchor).
    return AnswerSet("intake-side", "Side of the body", _knowledge_choices("radiation.leg"))


@cache
def trauma() -> AnswerSet:
    return AnswerSet("intake-trauma", "What started the pain", _knowledge_choices("history.trauma"))


def answer_sets() -> tuple[AnswerSet, ...]:
    """Every answer set the intake Questionnaire uses, each published as a CodeSystem."""
    return (
        REGION,
        SEX,
        side(),
        trauma(),
        ONSET,
        QUALITY,
        EXTENT,
        TREATMENT,
        TREATMENT_RESPONSE,
        IMAGING_MODALITY,
        IMAGING_FINDING,
        IMAGING_SIDE,
        SMOKING,
        WORK_STATUS,
        PRIORITY,
    )
