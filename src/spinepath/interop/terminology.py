"""spinepath's local FHIR code systems, published as CodeSystem resources, and the LOINC codes
verified for use beside them.

The canonical identifiers live under ``https://spinepath.org/fhir/`` (docs/instruments.md):
they name the code systems whether or not anything is served there yet. Before this module the
systems were ``urn:spinepath:...`` names that no registry knew and no CodeSystem defined.

Every concept is derived from the instrument definitions by the same functions the exporter
uses to write codes, so a code that an export carries is always a concept of the published
system (tests/interop checks it).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.codesystem import CodeSystem

from spinepath import __version__
from spinepath.instruments import catalogue
from spinepath.instruments.models import (
    ChoiceResponse,
    InstrumentDefinition,
    OrdinalResponse,
)

BASE_URL = "https://spinepath.org/fhir"
SCORE_SYSTEM = f"{BASE_URL}/CodeSystem/score"
LOINC = "http://loinc.org"

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


def code_systems() -> list[CodeSystem]:
    """Every local code system spinepath's FHIR export uses."""
    systems = [score_code_system()]
    systems += [
        answer_code_system(definition)
        for definition in catalogue.definitions().values()
        if has_answer_codes(definition)
    ]
    return systems
