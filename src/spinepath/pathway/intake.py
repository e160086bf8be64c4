"""What a person with back pain reports: the strict, versioned input to every assessment.

Red-flag questions are tri-state: ``true`` (yes), ``false`` (no) or ``null``/absent (not
answered). "Unknown is not No": the engine never treats an unanswered red-flag question as a no.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from spinepath.instruments.startback import StartBackAnswers

INTAKE_VERSION: Literal["1"] = "1"
MINIMUM_AGE = 16

TriState = bool | None
"""``True`` = yes, ``False`` = no, ``None`` = not answered."""

Side = Literal["none", "left", "right", "both"]
Region = Literal["neck", "upper_back", "low_back"]
Days = Annotated[int, Field(ge=0, le=36500)]
Weeks = Annotated[int, Field(ge=0, le=5200)]

CHILD_MESSAGE = (
    "spinepath is for people aged 16 and over and cannot assess a child. For a child with back "
    "pain, contact a GP or NHS 111; call 999 if the child cannot move their legs, has lost bladder "
    "or bowel control, or has a high temperature with back pain."
)


class StrictModel(BaseModel):
    """Rejects unknown fields and silent type coercion (``"5"`` is not ``5``)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class RegionPain(StrictModel):
    """Pain in one region of the spine."""

    region: Region
    onset: Literal["sudden", "gradual"] | None = None
    duration_weeks: Weeks = Field(description="How long this episode has lasted, in whole weeks.")
    quality: Literal["dull", "sharp", "burning"] | None = None
    extent: Literal["focal", "spread"] | None = Field(
        default=None, description="Focused on one point, or spread over a larger area."
    )
    intensity: int = Field(ge=0, le=10, description="Usual pain over the last week, 0-10.")
    worse_with_movement: TriState = None
    not_eased_by_rest: TriState = None
    worse_at_night: TriState = None
    worse_on_straining: TriState = Field(
        default=None, description="Worse on coughing, sneezing or opening the bowels."
    )


class Radiation(StrictModel):
    """Pain travelling into a limb."""

    arm: Side | None = None
    leg: Side | None = None
    leg_below_knee: TriState = None
    leg_pain_worse_than_back: TriState = None
    sudden_onset: TriState = Field(
        default=None, description="The limb pain came on suddenly (hours to a day or two)."
    )
    both_legs_since_days: Days | None = Field(
        default=None,
        description=(
            "When leg symptoms are in both legs: how many days ago the second leg became involved "
            "(a cauda equina warning depends on this, not on the length of the whole episode)."
        ),
    )


class Neurology(StrictModel):
    """Numbness, tingling or weakness and whether it is getting worse."""

    arm_numbness_or_tingling: Side | None = None
    leg_numbness_or_tingling: Side | None = None
    arm_weakness: Side | None = None
    leg_weakness: Side | None = None
    foot_drop: TriState = Field(default=None, description="The foot slaps or catches when walking.")
    progressing: TriState = Field(
        default=None, description="Numbness or weakness is spreading or getting worse."
    )
    gait_change: TriState = Field(
        default=None, description="New unsteadiness, loss of balance or clumsy walking."
    )
    hand_clumsiness: TriState = Field(
        default=None, description="New difficulty with fine hand tasks (buttons, writing)."
    )
    electric_shocks_on_neck_bending: TriState = None
    walking_leg_pain_eased_by_sitting: TriState = Field(
        default=None,
        description="Leg pain or heaviness on walking that eases on sitting or bending forward.",
    )


class CaudaEquina(StrictModel):
    """Bladder, bowel, saddle and sexual-function changes."""

    urinary_difficulty: TriState = Field(
        default=None, description="New difficulty starting to pass urine or a weaker stream."
    )
    bladder_sensation_change: TriState = Field(
        default=None, description="Not knowing whether the bladder is full or empty."
    )
    urinary_incontinence: TriState = None
    bowel_incontinence: TriState = None
    saddle_numbness: TriState = Field(
        default=None, description="Numbness or tingling around the genitals, anus or buttocks."
    )
    sexual_dysfunction: TriState = Field(
        default=None, description="New loss of genital sensation, erection or ejaculation."
    )
    onset_days: Days | None = Field(
        default=None, description="How many days ago the first of these changes began."
    )


class Systemic(StrictModel):
    fever: TriState = None
    weight_loss: TriState = Field(default=None, description="Unintentional weight loss.")
    night_sweats: TriState = None
    feels_unwell: TriState = None


class History(StrictModel):
    """Risk factors for serious spinal pathology."""

    cancer: TriState = Field(default=None, description="Cancer now or in the past.")
    trauma: Literal["none", "strain", "minor", "major"] | None = Field(
        default=None,
        description=(
            "What started the pain: strain = lifting, bending or twisting without a fall or "
            "knock; minor = a slip, trip or knock; major = e.g. road accident or fall from a "
            "height."
        ),
    )
    osteoporosis: TriState = None
    previous_fragility_fracture: TriState = None
    long_term_steroids: TriState = None
    immunosuppression: TriState = None
    iv_drug_use: TriState = None
    recent_infection: TriState = None
    recent_spinal_procedure: TriState = None
    tuberculosis: TriState = None
    prior_spine_surgery: TriState = None
    spine_surgery_wound_problem: TriState = Field(
        default=None,
        description="Redness, swelling, discharge or opening of a wound from spinal surgery.",
    )
    back_lump_or_shape_change: TriState = None
    known_aaa: TriState = Field(
        default=None, description="Told by a doctor of an abdominal aortic aneurysm (AAA)."
    )
    stiff_spine_disease: TriState = Field(
        default=None,
        description="Ankylosing spondylitis (axial spondyloarthritis) or DISH: a stiffened spine.",
    )


class Mimics(StrictModel):
    """Heart, vascular and abdominal problems that can present as back pain."""

    chest_pain: TriState = None
    breathlessness: TriState = None
    sweating_or_clammy: TriState = None
    tearing_pain: TriState = Field(
        default=None, description="Sudden severe tearing or ripping pain into the back."
    )
    collapse_or_faint: TriState = None
    abdominal_pain: TriState = None
    pulsating_abdominal_mass: TriState = None
    urinary_symptoms_with_loin_pain: TriState = None


class Inflammatory(StrictModel):
    """NICE NG65 1.2 features of axial spondyloarthritis."""

    started_before_35: TriState = None
    wakes_second_half_of_night: TriState = None
    buttock_pain: TriState = None
    improves_with_movement: TriState = None
    improves_within_48h_of_nsaid: TriState = None
    first_degree_relative_with_spa: TriState = None
    arthritis: TriState = None
    enthesitis: TriState = None
    psoriasis: TriState = None
    inflammatory_bowel_disease_or_uveitis: TriState = None


TreatmentType = Literal[
    "advice_self_management",
    "exercise_programme",
    "physiotherapy",
    "manual_therapy",
    "psychological_therapy",
    "combined_physical_psychological",
    "nsaid",
    "paracetamol",
    "weak_opioid",
    "strong_opioid",
    "muscle_relaxant",
    "gabapentinoid",
    "antidepressant",
    "epidural_injection",
    "facet_injection",
    "radiofrequency_denervation",
    "acupuncture",
    "heat",
    "other",
]


class TreatmentTried(StrictModel):
    type: TreatmentType
    weeks: Weeks
    response: Literal["worse", "none", "partial", "good"] | None = None


ImagingFinding = Literal[
    "normal",
    "disc_herniation",
    "spinal_stenosis",
    "spondylolisthesis",
    "fracture",
    "degenerative_changes",
    "cord_compression",
    "tumour",
    "infection",
    "other",
]


class ImagingDone(StrictModel):
    modality: Literal["xray", "mri", "ct"]
    finding: ImagingFinding
    level: str | None = Field(
        default=None,
        pattern=r"^(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S1)(-(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S1))?$",
    )
    side: Literal["left", "right", "central", "bilateral"] | None = None
    matches_symptoms: TriState = Field(
        default=None, description="A clinician said the finding fits the symptoms."
    )
    weeks_ago: Weeks | None = None


class Outcomes(StrictModel):
    """Optional outcome scores already measured elsewhere."""

    odi_percent: int | None = Field(default=None, ge=0, le=100)
    rmdq: int | None = Field(default=None, ge=0, le=24)
    ndi_percent: int | None = Field(default=None, ge=0, le=100)


class Health(StrictModel):
    smoking: Literal["never", "former", "current"] | None = None
    height_cm: float | None = Field(default=None, ge=100, le=250)
    weight_kg: float | None = Field(default=None, ge=25, le=400)
    bmi: float | None = Field(default=None, ge=10, le=100)
    diabetes: TriState = None
    heart_disease: TriState = None
    lung_disease: TriState = None
    kidney_disease: TriState = None
    anticoagulants: TriState = None
    pregnant: TriState = None


Priority = Literal[
    "avoid_surgery",
    "fast_relief",
    "return_to_work",
    "avoid_medicines",
    "sleep",
    "sport_and_exercise",
    "caring_for_others",
    "independence",
    "avoid_time_in_hospital",
]


class Intake(StrictModel):
    """Everything one person reports at one time."""

    intake_version: Literal["1"] = INTAKE_VERSION
    age: int = Field(ge=0, le=120, description="Age in whole years; 16 or over.")
    sex: Literal["female", "male", "other"] | None = None
    regions: list[RegionPain] = Field(min_length=1, max_length=3)
    radiation: Radiation = Radiation()
    neurology: Neurology = Neurology()
    cauda_equina: CaudaEquina = CaudaEquina()
    systemic: Systemic = Systemic()
    history: History = History()
    mimics: Mimics = Mimics()
    inflammatory: Inflammatory = Inflammatory()
    startback: StartBackAnswers | None = None
    outcomes: Outcomes = Outcomes()
    treatments_tried: list[TreatmentTried] = Field(default_factory=list, max_length=40)
    imaging: list[ImagingDone] = Field(default_factory=list, max_length=20)
    health: Health = Health()
    work_status: (
        Literal["working", "off_work_due_to_pain", "not_working_other", "retired", "student"] | None
    ) = None
    priorities: list[Priority] = Field(default_factory=list, max_length=9)
    what_matters_note: str | None = Field(default=None, max_length=1000)

    @field_validator("age")
    @classmethod
    def _adults_only(cls, age: int) -> int:
        if age < MINIMUM_AGE:
            raise ValueError(CHILD_MESSAGE)
        return age

    @model_validator(mode="after")
    def _regions_unique(self) -> Intake:
        names = [r.region for r in self.regions]
        if len(names) != len(set(names)):
            raise ValueError("regions: each region may be listed once")
        return self
