"""Loading and describing the vignette case files and the example intakes.

A vignette's expected outcome is labelled from the clinical sources its rationale cites (ids in the
knowledge base's source registry) and the triage policy, never from the engine's output, so a
disagreement between the two is a finding to review, not noise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from spinepath.pathway.assessment import Assessment, CandidacyStatus, Level, PatternType
from spinepath.pathway.intake import Intake
from support.files import example_paths, required_files

HERE = Path(__file__).parent
CASES_DIR = HERE / "cases"
EXAMPLES_EXPECTED = HERE / "examples_expected.yaml"
# The C loader when PyYAML was built with libyaml: it reads the case files several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ConcernCode = Literal[
    "cauda_equina",
    "cord_compression",
    "neurological_deficit",
    "infection",
    "malignancy",
    "fracture",
    "inflammatory",
    "cardiovascular",
    "visceral",
    "bleeding",
]

Assess = Callable[[Intake], Assessment]


class Expected(BaseModel):
    """What the engine should say for one intake."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    level: Level
    concerns: list[ConcernCode] = Field(description="The exact set of concern codes, sorted.")
    candidacy: CandidacyStatus
    pattern: PatternType | None = None


class Vignette(BaseModel):
    """One case file: a realistic person, the expected outcome and why."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    id: str = Field(pattern=r"^VIG-[A-Z]{2,4}-\d{3}$")
    title: str = Field(min_length=10, max_length=120)
    rationale: str = Field(min_length=40)
    policy_differs: str | None = Field(
        default=None,
        description="Set when the label follows the cited sources over the triage policy.",
    )
    intake: Intake
    expected: Expected


@dataclass(frozen=True)
class Case:
    """A parsed vignette with the raw intake mapping it came from (for mutation tests)."""

    path: Path
    vignette: Vignette
    raw_intake: dict[str, Any]

    @property
    def id(self) -> str:
        return self.vignette.id


@dataclass(frozen=True)
class Example:
    path: Path
    intake: Intake
    raw_intake: dict[str, Any]
    expected: Expected

    @property
    def name(self) -> str:
        return self.path.name


def parse_intake(raw: dict[str, Any]) -> Intake:
    # JSON mode: strict models accept strings for enums only from JSON, as an API client sends them.
    return Intake.model_validate_json(json.dumps(raw))


def read_yaml(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader, C or Python


def case_paths() -> list[Path]:
    return required_files(CASES_DIR, "*.yaml")


def parse_case_file(path: Path) -> Case:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: a case file holds one mapping")
    vignette = Vignette.model_validate_json(json.dumps(raw))
    return Case(path=path, vignette=vignette, raw_intake=raw["intake"])


@cache
def load_cases() -> tuple[Case, ...]:
    return tuple(parse_case_file(path) for path in case_paths())


@cache
def load_examples_expected() -> dict[str, Expected]:
    raw = read_yaml(EXAMPLES_EXPECTED)
    return {name: Expected.model_validate_json(json.dumps(value)) for name, value in raw.items()}


@cache
def load_examples() -> tuple[Example, ...]:
    expected = load_examples_expected()
    examples = []
    for path in example_paths():
        raw = json.loads(path.read_text(encoding="utf-8"))
        examples.append(Example(path, parse_intake(raw), raw, expected[path.name]))
    return tuple(examples)


def outcome(assessment: Assessment, *, with_pattern: bool) -> dict[str, object]:
    """The parts of an assessment a vignette labels, in the shape of `Expected`."""
    got: dict[str, object] = {
        "level": assessment.triage.level.value,
        "concerns": sorted({c.code for c in assessment.concerns}),
        "candidacy": assessment.surgical.status.value,
    }
    if with_pattern:
        got["pattern"] = assessment.pattern.primary
    return got


def expected_outcome(expected: Expected) -> dict[str, object]:
    want: dict[str, object] = {
        "level": expected.level.value,
        "concerns": sorted(expected.concerns),
        "candidacy": expected.candidacy.value,
    }
    if expected.pattern is not None:
        want["pattern"] = expected.pattern
    return want


# Red-flag questions (the findings of the rules in src/spinepath/knowledge/data/red_flags.yaml,
# including those added on 2026-11-29) as paths into the intake. "No" is False for yes/no
# questions and the listed value for the others.
# radiation.both_legs_since_days is a number (when the second leg became involved), not a flag.
RED_FLAG_SECTIONS: dict[str, tuple[str, ...]] = {
    "radiation": ("sudden_onset",),
    "neurology": (
        "foot_drop",
        "progressing",
        "gait_change",
        "hand_clumsiness",
        "electric_shocks_on_neck_bending",
    ),
    "cauda_equina": (
        "urinary_difficulty",
        "bladder_sensation_change",
        "urinary_incontinence",
        "bowel_incontinence",
        "saddle_numbness",
        "sexual_dysfunction",
    ),
    "systemic": ("fever", "weight_loss", "night_sweats", "feels_unwell"),
    "history": (
        "cancer",
        "osteoporosis",
        "previous_fragility_fracture",
        "long_term_steroids",
        "immunosuppression",
        "iv_drug_use",
        "recent_infection",
        "recent_spinal_procedure",
        "tuberculosis",
        "spine_surgery_wound_problem",
        "back_lump_or_shape_change",
        "known_aaa",
        "stiff_spine_disease",
    ),
    "mimics": (
        "chest_pain",
        "breathlessness",
        "sweating_or_clammy",
        "tearing_pain",
        "collapse_or_faint",
        "abdominal_pain",
        "pulsating_abdominal_mass",
        "urinary_symptoms_with_loin_pain",
    ),
    # Bleeding around the spine (spinal epidural haematoma) or a vascular cause
    # (SEH-ANTICOAGULATION).
    "health": ("anticoagulants",),
}
REGION_RED_FLAGS = ("not_eased_by_rest", "worse_at_night", "worse_on_straining")
NON_BOOLEAN_RED_FLAGS: dict[tuple[str, str], str] = {
    ("history", "trauma"): "none",
    ("neurology", "arm_weakness"): "none",
    ("neurology", "leg_weakness"): "none",
}
# The emergency screen (policy; NHS 999 list, NHS-BACK-PAIN; CES, BASS-CES-2018): unanswered ->
# at least soon.
EMERGENCY_SCREEN: tuple[tuple[str, str], ...] = (
    *(("cauda_equina", name) for name in RED_FLAG_SECTIONS["cauda_equina"]),
    ("mimics", "chest_pain"),
    ("mimics", "tearing_pain"),
    ("mimics", "collapse_or_faint"),
    ("history", "trauma"),
)


def _any_side(section: dict[str, Any], *names: str) -> bool:
    # An unanswered side counts: it may be a yes.
    return any(section.get(name) != "none" for name in names)


def _leg_both_or_unknown(raw: dict[str, Any]) -> bool:
    return raw.get("radiation", {}).get("leg") in {"both", None}


def _has_numbness_or_weakness(raw: dict[str, Any]) -> bool:
    return _any_side(
        raw.get("neurology", {}),
        "arm_numbness_or_tingling",
        "leg_numbness_or_tingling",
        "arm_weakness",
        "leg_weakness",
    )


def _has_infection_risk(raw: dict[str, Any]) -> bool:
    history = raw.get("history", {})
    risks = ("iv_drug_use", "immunosuppression", "recent_infection", "recent_spinal_procedure")
    return any(history.get(name) is not False for name in (*risks, "tuberculosis"))


def _has_systemic_upset(raw: dict[str, Any]) -> bool:
    systemic = raw.get("systemic", {})
    return any(
        systemic.get(name) is not False for name in ("fever", "night_sweats", "feels_unwell")
    )


def _myelopathy_context(raw: dict[str, Any]) -> bool:
    # Policy (CKS-NECK-MYELOPATHY, DEVON-THORACIC): myelopathy features count with neck or
    # upper-back pain, or with limb symptoms; read here as arm pain or limb numbness/weakness,
    # because pain referred into the thigh from the low back is not a cord sign.
    regions = {region["region"] for region in raw["regions"]}
    return (
        bool(regions & {"neck", "upper_back"})
        or _any_side(raw.get("radiation", {}), "arm")
        or _has_numbness_or_weakness(raw)
    )


def _sudden_or_unknown_onset(raw: dict[str, Any]) -> bool:
    return any(region.get("onset") in {"sudden", None} for region in raw["regions"])


def _had_spinal_surgery_or_procedure_or_unknown(raw: dict[str, Any]) -> bool:
    history = raw.get("history", {})
    return any(
        history.get(name) is not False
        for name in ("prior_spine_surgery", "recent_spinal_procedure")
    )


def _injury_or_unknown(raw: dict[str, Any]) -> bool:
    trauma: object = raw.get("history", {}).get("trauma")
    return trauma != "none"


def _breathless_or_chest_pain(raw: dict[str, Any]) -> bool:
    mimics = raw.get("mimics", {})
    return any(mimics.get(name) is not False for name in ("breathlessness", "chest_pain"))


# Questions that are red flags only together with another finding (triage policy): when the
# other finding is a definite no, leaving the question unanswered changes nothing.
CONDITIONAL_RED_FLAGS: dict[tuple[str, str], Callable[[dict[str, Any]], bool]] = {
    ("radiation", "sudden_onset"): _leg_both_or_unknown,
    ("neurology", "progressing"): _has_numbness_or_weakness,
    ("neurology", "hand_clumsiness"): _myelopathy_context,
    ("neurology", "electric_shocks_on_neck_bending"): _myelopathy_context,
    ("systemic", "feels_unwell"): _has_infection_risk,
    ("history", "tuberculosis"): _has_systemic_upset,
    ("history", "previous_fragility_fracture"): _sudden_or_unknown_onset,
    ("mimics", "sweating_or_clammy"): _breathless_or_chest_pain,
    # Added 2026-11-29: a wound problem matters after spinal surgery (SPINE-SSI); a stiffened
    # spine matters with an injury (unstable fracture after minor trauma, AS-DISH-FRACTURE); blood
    # thinners matter with sudden pain (bleeding around the spine, vascular causes,
    # SEH-ANTICOAGULATION).
    ("history", "spine_surgery_wound_problem"): _had_spinal_surgery_or_procedure_or_unknown,
    ("history", "stiff_spine_disease"): _injury_or_unknown,
    ("health", "anticoagulants"): _sudden_or_unknown_onset,
}


@dataclass(frozen=True)
class RedFlag:
    """One red-flag answer slot: `region` is set for the per-region questions."""

    section: str
    name: str
    region: int | None = None

    @property
    def label(self) -> str:
        where = f"regions[{self.region}]" if self.region is not None else self.section
        return f"{where}.{self.name}"

    @property
    def no_answer(self) -> object:
        return NON_BOOLEAN_RED_FLAGS.get((self.section, self.name), False)

    @property
    def is_emergency_screen(self) -> bool:
        return (self.section, self.name) in EMERGENCY_SCREEN

    def applies(self, raw: dict[str, Any]) -> bool:
        """Whether an unanswered question could hide an urgent finding for this person."""
        condition = CONDITIONAL_RED_FLAGS.get((self.section, self.name))
        return condition is None or condition(raw)

    def get(self, raw: dict[str, Any]) -> object:
        if self.region is not None:
            return raw["regions"][self.region].get(self.name)
        return raw.get(self.section, {}).get(self.name)

    def set(self, raw: dict[str, Any], value: object) -> dict[str, Any]:
        """A deep copy of `raw` with this answer replaced."""
        changed: dict[str, Any] = json.loads(json.dumps(raw))
        if self.region is not None:
            changed["regions"][self.region][self.name] = value
        else:
            changed.setdefault(self.section, {})[self.name] = value
        return changed


def red_flags(raw: dict[str, Any]) -> Iterator[RedFlag]:
    for index in range(len(raw["regions"])):
        for name in REGION_RED_FLAGS:
            yield RedFlag("regions", name, index)
    for section, names in RED_FLAG_SECTIONS.items():
        for name in names:
            yield RedFlag(section, name)
    for section, name in NON_BOOLEAN_RED_FLAGS:
        yield RedFlag(section, name)


def leaves(value: object, prefix: str = "") -> dict[str, object]:
    """Flatten nested mappings and lists into `dotted.path -> scalar`."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}
