"""Personalised back-surgery decision aid, structured to the IPDAS criteria.

Public API::

    build_decision_aid(intake, assessment) -> DecisionAid
    with_values(aid, ValuesAnswers(...)) -> DecisionAid
    render_html(aid, standalone=True) -> str
    render_pdf(aid) -> bytes
    render_summary_pdf(aid) -> bytes   # one page: values, leaning, questions
    decision_aid_css() -> str
"""

from spinepath.decision_aid.builder import build_decision_aid
from spinepath.decision_aid.ipdas import run_checklist
from spinepath.decision_aid.models import DECISION_AID_VERSION, DecisionAid
from spinepath.decision_aid.render import (
    decision_aid_css,
    render_html,
    render_pdf,
    render_summary_html,
    render_summary_pdf,
)
from spinepath.decision_aid.values import ValuesAnswers, with_values

__all__ = [
    "DECISION_AID_VERSION",
    "DecisionAid",
    "ValuesAnswers",
    "build_decision_aid",
    "decision_aid_css",
    "render_html",
    "render_pdf",
    "render_summary_html",
    "render_summary_pdf",
    "run_checklist",
    "with_values",
]
