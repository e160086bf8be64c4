"""spinepath: an evidence-based back-pain care pathway (decision support, not a diagnosis).

The public API, stable across minor versions::

    from spinepath import Intake, assess
    assessment = assess(Intake.model_validate(answers))

Everything else is importable from its own module but may change. Names load on first use, so
``import spinepath`` stays cheap for the command line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from spinepath.decision_aid import DecisionAid, build_decision_aid, render_html
    from spinepath.instruments.scoring import ScoreResult, score
    from spinepath.knowledge import KnowledgeBase, KnowledgeError
    from spinepath.knowledge import default as default_knowledge
    from spinepath.knowledge.check import check as check_knowledge
    from spinepath.knowledge.load import load as load_knowledge
    from spinepath.pathway.assessment import Assessment, CandidacyStatus, Level
    from spinepath.pathway.columnar import assess_frame
    from spinepath.pathway.engine import assess
    from spinepath.pathway.intake import Intake

_EXPORTS = {
    "Assessment": ("spinepath.pathway.assessment", "Assessment"),
    "CandidacyStatus": ("spinepath.pathway.assessment", "CandidacyStatus"),
    "DecisionAid": ("spinepath.decision_aid", "DecisionAid"),
    "Intake": ("spinepath.pathway.intake", "Intake"),
    "KnowledgeBase": ("spinepath.knowledge", "KnowledgeBase"),
    "KnowledgeError": ("spinepath.knowledge", "KnowledgeError"),
    "Level": ("spinepath.pathway.assessment", "Level"),
    "ScoreResult": ("spinepath.instruments.scoring", "ScoreResult"),
    "assess": ("spinepath.pathway.engine", "assess"),
    "assess_frame": ("spinepath.pathway.columnar", "assess_frame"),
    "build_decision_aid": ("spinepath.decision_aid", "build_decision_aid"),
    "check_knowledge": ("spinepath.knowledge", "check"),
    "default_knowledge": ("spinepath.knowledge", "default"),
    "load_knowledge": ("spinepath.knowledge", "load"),
    "render_html": ("spinepath.decision_aid", "render_html"),
    "score": ("spinepath.instruments.scoring", "score"),
}

__all__ = [
    "Assessment",
    "CandidacyStatus",
    "DecisionAid",
    "Intake",
    "KnowledgeBase",
    "KnowledgeError",
    "Level",
    "ScoreResult",
    "__version__",
    "assess",
    "assess_frame",
    "build_decision_aid",
    "check_knowledge",
    "default_knowledge",
    "load_knowledge",
    "render_html",
    "score",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'spinepath' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
