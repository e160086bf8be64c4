"""spinepath's local FHIR code systems, published as CodeSystem resources, and the LOINC codes
verified for use beside them.

The canonical identifiers live under ``https://spinepath.org/fhir/`` (docs/instruments.md):
they name the code systems whether or not anything is served there yet. Before this module the
systems were ``urn:spinepath:...`` names that no registry knew and no CodeSystem defined.

Every concept is derived from the instrument definitions by the same functions the exporter
uses to write codes, so a code that an export carries is always a concept of the published
system (tests/interop checks it). The assessment systems (triage levels, concerns, surgical
candidacy and criteria, referrals, care-plan items) are derived the same way from the output
model and the knowledge base, and the intake's answer systems from the answer sets the intake
Questionnaire offers (``intake_wording``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.codesystem import CodeSystem

from spinepath import __version__
from spinepath import knowledge as kb
from spinepath.instruments import catalogue
from spinepath.instruments.models import (
    ChoiceResponse,
    InstrumentDefinition,
    OrdinalResponse,
)
from spinepath.interop.intake_wording import AnswerSet, answer_sets
from spinepath.pathway.assessment import CandidacyStatus, Level

BASE_URL = "https://spinepath.org/fhir"
SCORE_SYSTEM = f"{BASE_URL}/CodeSystem/score"
LOINC = "http://loinc.org"
ASSESSMENT_SYSTEM = f"{BASE_URL}/CodeSystem/assessment"
TRIAGE_LEVEL_SYSTEM = f"{BASE_URL}/CodeSystem/triage-level"
CONCERN_SYSTEM = f"{BASE_URL}/CodeSystem/concern"
CANDIDACY_SYSTEM = f"{BASE_URL}/CodeSystem/surgical-candidacy"
CRITERION_SYSTEM = f"{BASE_URL}/CodeSystem/surgical-criterion"
REFERRAL_SYSTEM = f"{BASE_URL}/CodeSystem/referral"
PLAN_ITEM_SYSTEM = f"{BASE_URL}/CodeSystem/care-plan-item"

ASSESSMENT_CODES: dict[str, str] = {
    "triage": "Back and neck pain triage",
    "surgical-candidacy": "Surgical candidacy",
    "care-plan": "Back and neck pain care plan",
    "referral": "Referral",
    "imaging": "Spinal imaging",
}
"""What the assessment's resources are: RiskAssessment, Observation, CarePlan and ServiceRequest
codes and categories."""

LEVEL_DISPLAY: dict[Level, str] = {
    Level.SELF_CARE: "Self-care",
    Level.ROUTINE: "Routine",
    Level.SOON: "Soon",
    Level.URGENT: "Urgent",
    Level.EMERGENCY: "Emergency",
}
CANDIDACY_DISPLAY: dict[CandidacyStatus, str] = {
    CandidacyStatus.NOT_INDICATED: "Surgery not indicated",
    CandidacyStatus.CONSERVATIVE_FIRST: "Conservative care first",
    CandidacyStatus.REFER_SURGICAL_OPINION: "Refer for a surgical opinion",
    CandidacyStatus.URGENT_SURGICAL: "Urgent surgical assessment",
    CandidacyStatus.EMERGENCY_SURGICAL: "Emergency surgical assessment",
}
_OWN_CODES = "spinepath's own codes, under the project's licence (Apache-2.0)."

# Scoring methods whose result carries a percentage besides the primary score.
_PERCENT_METHODS = frozenset({"percent_of_answered", "prorated_sum"})


@dataclass(frozen=True)
class Loinc:
    code: str
    display: str  # the LOINC Long Common Name

    def coding(self) -> dict[str, str]:
        return {"system": LOINC, "code": self.code, "display": self.display}


# LOINC codes emitted beside the local ones. Each was checked on its loinc.org page (stored
# copies read through the project's search tool): the code is Active, the long common name is
# the display below, and the panel pages list the member codes used here.
#   97908-8  loinc.org/97908-8/panel: "Oswestry Disability Index" panel; member 97909-6.
#   97909-6  loinc.org/97909-6: "Oswestry disability index score ODI", Qn, "reported as a
#            percent", member of panel 97908-8.
#   91349-1  loinc.org/91349-1: "STarT Back Screening Tool panel"; members 91340-0..91348-3
#            (the nine items), 91350-9, 91351-7, 91352-5.
#   91351-7  listed on the 91349-1 panel page as "Total score [STarT Back]" {score}.
#   91350-9  loinc.org/91350-9: "Distress subscore [STarT Back]", the sum of items 5-9 (Keele's
#            "psych score", spinepath's psychosocial subscale).
#   91352-5  loinc.org/91352-5: "STarT Back Screening risk level", normative answer list
#            LL3578-3: Low LA9194-7, Medium LA8982-6, High LA9193-9.
# No LOINC code was verified for the NDI, RMDQ, PEG or the 0-10 ratings, so none is emitted.
# The item codes 91340-0..91348-3 are not emitted either: their LOINC names are Keele's item
# wording, which spinepath does not ship.
QUESTIONNAIRE_LOINC: dict[str, Loinc] = {
    "odi": Loinc("97908-8", "Oswestry Disability Index"),
    "startback": Loinc("91349-1", "STarT Back Screening Tool panel"),
}
SCORE_LOINC: dict[str, Loinc] = {
    "odi-percent": Loinc("97909-6", "Oswestry disability index score ODI"),
    "startback-total": Loinc("91351-7", "Total score [STarT Back]"),
    "startback-psychosocial": Loinc("91350-9", "Distress subscore [STarT Back]"),
    "startback-band": Loinc("91352-5", "STarT Back Screening risk level"),
}
BAND_LOINC: dict[str, Loinc] = {
    "startback-band-low": Loinc("LA9194-7", "Low"),
    "startback-band-medium": Loinc("LA8982-6", "Medium"),
    "startback-band-high": Loinc("LA9193-9", "High"),
}


def fhir_id(definition: InstrumentDefinition) -> str:
    # FHIR ids allow letters, digits, '-' and '.', not '_'.
    return definition.code.replace("_", "-")


def canonical_version(definition: InstrumentDefinition) -> str:
    """The definition's version as it may appear after '|' in a canonical reference.

    A canonical may not contain whitespace (the R4 JSON schema's pattern is ``^\\S*$``), and
    versions such as "Vernon & Mior 1991" have spaces, so every run of characters other than
    letters, digits and '.' becomes one '-'. Questionnaire.version carries the same string, so
    ``url|version`` resolves; the human-readable version stays in the title and description.
    """
    return re.sub(r"[^A-Za-z0-9.]+", "-", definition.version).strip("-")


def answer_system(definition: InstrumentDefinition) -> str:
    return f"{BASE_URL}/CodeSystem/{fhir_id(definition)}-answers"


def score_code(definition: InstrumentDefinition, name: str) -> str:
    """The local code of a score: the primary score, a subscale, 'percent' or 'band'."""
    return f"{definition.code}-{name}"


def band_code(definition: InstrumentDefinition, band: str) -> str:
    return f"{definition.code}-band-{band}"


def entry_uuid(canonical: str) -> str:
    """A stable urn:uuid for a definitional resource, so repeated exports agree."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, canonical)}"


def _score_concepts(definition: InstrumentDefinition) -> list[dict[str, str]]:
    scoring = definition.scoring
    concepts = [
        {
            "code": score_code(definition, scoring.primary),
            "display": f"{definition.short_name} score ({scoring.unit})",
        }
    ]
    subscales = dict.fromkeys(name for item in definition.items for name in item.subscales)
    concepts += [
        {
            "code": score_code(definition, name),
            "display": f"{definition.short_name} {name} subscale",
        }
        for name in subscales
    ]
    if scoring.method in _PERCENT_METHODS and scoring.primary != "percent":
        concepts.append(
            {
                "code": score_code(definition, "percent"),
                "display": f"{definition.short_name} score as a percentage",
            }
        )
    if definition.bands is not None:
        concepts.append(
            {"code": score_code(definition, "band"), "display": f"{definition.short_name} band"}
        )
        concepts += [
            {"code": band_code(definition, band.code), "display": band.label}
            for band in definition.bands.bands
        ]
    return concepts


def _answer_concepts(definition: InstrumentDefinition) -> list[dict[str, str]]:
    # Items of one instrument share a code for the same scored position (ODI section answers
    # are all 0-5), so one system per instrument suffices; the concept says only what the code
    # scores, never the licensed statement text.
    concepts: dict[str, str] = {}
    for item in definition.items:
        response = item.response
        if isinstance(response, OrdinalResponse):
            for value in range(response.min, response.max + 1):
                concepts.setdefault(str(value), f"Answer scored {value}")
        elif isinstance(response, ChoiceResponse):
            for option in response.options:
                label = option.code.replace("_", " ").capitalize()
                concepts.setdefault(option.code, f"{label} (scored {option.score})")
    return [{"code": code, "display": display} for code, display in concepts.items()]


def has_answer_codes(definition: InstrumentDefinition) -> bool:
    return bool(_answer_concepts(definition))


def _code_system(
    url: str,
    name: str,
    title: str,
    description: str,
    notice: str,
    concepts: list[dict[str, str]],
) -> CodeSystem:
    data: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": url.rsplit("/", 1)[-1],
        "url": url,
        "version": __version__,
        "name": name,
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "spinepath",
        "description": description,
        "copyright": notice,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    return CodeSystem.model_validate(data)


def score_code_system() -> CodeSystem:
    concepts = [
        concept
        for definition in catalogue.definitions().values()
        for concept in _score_concepts(definition)
    ]
    return _code_system(
        SCORE_SYSTEM,
        "SpinepathScore",
        "spinepath questionnaire scores",
        "Scores, subscales and bands that spinepath computes from its outcome questionnaires.",
        "spinepath's own codes, under the project's licence (Apache-2.0). The scores they name "
        "belong to questionnaires whose notices are in each Questionnaire's copyright.",
        concepts,
    )


def answer_code_system(definition: InstrumentDefinition) -> CodeSystem:
    name = "".join(part.capitalize() for part in definition.code.split("_"))
    return _code_system(
        answer_system(definition),
        f"Spinepath{name}Answers",
        f"{definition.name}: answer codes",
        f"Answer codes of the {definition.name} ({definition.version}) as spinepath records "
        "them; each concept names the score of the answer, not its wording.",
        definition.licence.notice,
        _answer_concepts(definition),
    )


def intake_answer_system(answers: AnswerSet) -> str:
    return f"{BASE_URL}/CodeSystem/{answers.id}"


def intake_answer_code_systems() -> list[CodeSystem]:
    """One system per answer set of the intake Questionnaire; codes are the intake's values."""
    return [
        _code_system(
            intake_answer_system(answers),
            "SpinepathIntake" + "".join(p.capitalize() for p in answers.id.split("-")[1:]),
            f"spinepath intake: {answers.title.lower()}",
            f"Answers to the spinepath intake questions about {answers.title.lower()}. Each code "
            "is the value the intake (version 1) records; the display is the answer as the "
            "person reads it.",
            _OWN_CODES,
            [{"code": code, "display": display} for code, display in answers.options],
        )
        for answers in answer_sets()
    ]


def _care_concepts(knowledge: kb.KnowledgeBase) -> list[dict[str, str]]:
    care = knowledge.care
    concepts = [
        {"code": item.id, "display": item.text}
        for item in (*care.now, *care.self_management, *care.prevention, *care.next_step)
    ]
    concepts += [
        {"code": item.id, "display": item.item, "definition": f"Not recommended: {item.reason}"}
        for item in care.not_recommended
    ]
    return concepts


def assessment_code_systems(knowledge: kb.KnowledgeBase | None = None) -> list[CodeSystem]:
    """The codes of an assessment: what its resources are, the triage level, the concerns, the
    surgical candidacy and its criteria, the referral routes and the care-plan items.

    Concerns, criteria, referrals and care-plan items are the knowledge base's entries, under
    the ids the assessment's output already carries.
    """
    knowledge = knowledge or kb.default()
    source = f"{_OWN_CODES} Wording from spinepath's knowledge base {knowledge.meta.version}."
    return [
        _code_system(
            ASSESSMENT_SYSTEM,
            "SpinepathAssessment",
            "spinepath assessment resources",
            "What each resource of a spinepath assessment Bundle records.",
            _OWN_CODES,
            [{"code": code, "display": display} for code, display in ASSESSMENT_CODES.items()],
        ),
        _code_system(
            TRIAGE_LEVEL_SYSTEM,
            "SpinepathTriageLevel",
            "spinepath triage levels",
            "How urgently to seek care, least to most urgent.",
            source,
            [
                {
                    "code": level.value,
                    "display": LEVEL_DISPLAY[level],
                    "definition": knowledge.levels.texts[level].headline,
                }
                for level in Level
            ],
        ),
        _code_system(
            CONCERN_SYSTEM,
            "SpinepathConcern",
            "spinepath concerns",
            "Categories of serious pathology that findings can point to; never a diagnosis.",
            source,
            [
                {"code": c.code, "display": c.label, "definition": c.summary}
                for c in knowledge.concerns.values()
            ],
        ),
        _code_system(
            CANDIDACY_SYSTEM,
            "SpinepathSurgicalCandidacy",
            "spinepath surgical candidacy",
            "Whether, and how urgently, a surgical opinion is indicated.",
            _OWN_CODES,
            [{"code": s.value, "display": CANDIDACY_DISPLAY[s]} for s in CandidacyStatus],
        ),
        _code_system(
            CRITERION_SYSTEM,
            "SpinepathSurgicalCriterion",
            "spinepath surgical criteria",
            "The criteria a surgical opinion is weighed against.",
            source,
            [
                {"code": c.code, "display": c.label, "definition": c.detail}
                for c in knowledge.surgery.criteria
            ],
        ),
        _code_system(
            REFERRAL_SYSTEM,
            "SpinepathReferral",
            "spinepath referral routes",
            "Where an assessment sends the person.",
            source,
            [{"code": r.id, "display": r.label} for r in knowledge.referrals.values()],
        ),
        _code_system(
            PLAN_ITEM_SYSTEM,
            "SpinepathCarePlanItem",
            "spinepath care-plan items",
            "Recommendations of a spinepath care plan, and care it does not recommend.",
            source,
            _care_concepts(knowledge),
        ),
    ]


def code_systems() -> list[CodeSystem]:
    """Every local code system spinepath's FHIR export uses."""
    systems = [score_code_system()]
    systems += [
        answer_code_system(definition)
        for definition in catalogue.definitions().values()
        if has_answer_codes(definition)
    ]
    systems += assessment_code_systems()
    systems += intake_answer_code_systems()
    return systems
