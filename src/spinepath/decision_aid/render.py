"""HTML and PDF rendering of a decision aid from one set of Jinja2 templates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from spinepath import clock
from spinepath.decision_aid.icons import icon_array
from spinepath.decision_aid.models import ConditionSection, DecisionAid, Option, SourcedNumber
from spinepath.decision_aid.numbers import fmt, fmt1, in_words
from spinepath.decision_aid.values import IMPORTANCE_LABELS
from spinepath.extras import needs_extra

VERDICT_WORDS = {
    "contradicted": "The evidence contradicts this",
    "unsupported": "No evidence supports this",
    "partly_true": "Partly true",
    "supported": "The evidence supports this",
}
UNCERTAINTY_WORDS = {
    "ci95": "95% confidence interval",
    "range_across_studies": "range across studies",
    "range_across_techniques": "range across techniques",
    "range_by_factor_ci": "range",
    "not_reported": "",
}
DESIGN_WORDS = {
    "randomised": "randomised trial, compared as randomised",
    "meta_analysis_of_trials": "randomised trials combined",
    "randomised_as_treated": (
        "not as randomised: people compared by the treatment they chose, so other differences "
        "between them may explain part of it"
    ),
    "observational": "observational study: people were not randomised",
    "review_of_mixed_studies": (
        "review of studies of different designs: not a fair comparison between techniques"
    ),
    "case_series": "one team's series of operations, with no comparison group",
}
KIND_WORDS = {"non_surgical": "Non-surgical", "surgical": "Surgery", "procedure": "Procedure"}
LEANING_WORDS = {
    "leaning_non_surgical": "I am leaning towards non-surgical care for now",
    "unsure": "I am unsure",
    "leaning_surgery": "I am leaning towards surgery",
}


def _static(name: str) -> str:
    return files("spinepath.decision_aid").joinpath("static").joinpath(name).read_text("utf-8")


@cache
def decision_aid_css() -> str:
    """The aid's stylesheet; every rule is scoped under the ``.da`` class."""
    return _static("decision_aid.css")


@cache
def _page_css() -> str:
    """Paper size and page footer: only for the standalone page and the PDF."""
    return _static("page.css")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("spinepath.decision_aid", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["fmt1"] = fmt1
    env.filters["capfirst"] = lambda text: text[:1].upper() + text[1:]
    env.filters["in_words"] = in_words
    return env


def _range_text(number: SourcedNumber) -> str:
    u = number.uncertainty
    if u.low is None and u.high is None:
        return "uncertainty range not reported"
    kind = UNCERTAINTY_WORDS[u.kind]
    low = fmt(u.low) if u.low is not None else "?"
    high = fmt(u.high) if u.high is not None else "not reported"
    return f"{kind}: {low} to {high} in {number.denominator}"


@dataclass(frozen=True)
class GlanceOption:
    """One option in the aid's first screen: its chance of benefit, main risks and recovery."""

    id: str
    name: str
    tag: str
    benefit: str
    risks: list[str] = field(default_factory=list)
    recovery: str = ""


def _per_100(value: float) -> str:
    return f"{fmt1(value)} in 100" if value >= 1 else "fewer than 1 in 100"


def _glance_benefit(condition: ConditionSection, option: Option) -> str:
    # The first side-by-side comparison puts every option on the same footing; its question is
    # shown once above the options, so each option needs only its own figure.
    if condition.comparisons:
        cell = next(c for c in condition.comparisons[0].cells if c.option_id == option.id)
        return _per_100(cell.number.value) if cell.number else "not measured for this option"
    for benefit in option.benefits:
        if benefit.numbers:
            return f"{benefit.label}: {_per_100(benefit.numbers[0].value)}"
    return option.benefits[0].label if option.benefits else ""


def _glance_risks(option: Option) -> list[str]:
    numbered = [
        (h.personal_value if h.personal_value is not None else h.baseline.value, h.label)
        for h in option.harms
        if h.baseline is not None
    ]
    largest = sorted(numbered, key=lambda pair: -pair[0])[:2]
    if largest:
        return [f"{label}: {_per_100(value)}" for value, label in largest]
    return [h.label for h in option.harms[:2]]


def glance(aid: DecisionAid) -> list[tuple[ConditionSection, list[GlanceOption]]]:
    """What the first screen shows for each situation: every option in a few lines."""
    return [
        (
            c,
            [
                GlanceOption(
                    id=o.id,
                    name=o.name,
                    tag="For later, not now"
                    if o.shown_as == "for_later"
                    else "Not safe to wait"
                    if o.shown_as == "not_safe_to_wait"
                    else KIND_WORDS[o.kind],
                    benefit=_glance_benefit(c, o),
                    risks=_glance_risks(o),
                    recovery=o.recovery.hospital_stay,
                )
                for o in c.options
            ],
        )
        for c in aid.conditions
    ]


def render_html(aid: DecisionAid, *, standalone: bool = True, expanded: bool = False) -> str:
    """The aid as HTML. ``standalone=False`` gives a fragment (no html/head, no inline style);
    ``expanded`` opens every detail section (for print)."""
    counter = itertools.count(1)

    def icons(value: float, label: str, tone: str = "neutral") -> Markup:
        return icon_array(value, label, f"da-icons-{next(counter)}", tone)

    template = _environment().get_template("aid.html.j2")
    return template.render(
        aid=aid,
        standalone=standalone,
        # The stylesheets are the package's own files.
        css=Markup(decision_aid_css() + _page_css()) if standalone else "",  # noqa: S704
        icons=icons,
        range_text=_range_text,
        verdict_words=VERDICT_WORDS,
        leaning_words=LEANING_WORDS,
        importance_labels=IMPORTANCE_LABELS,
        option_names={o.id: o.name for c in aid.conditions for o in c.options},
        glance=glance(aid),
        design_words=DESIGN_WORDS,
        ref_numbers={r.id: i for i, r in enumerate(aid.references, start=1)},
        expanded=expanded,
        answers={a.item_id: a.importance for a in aid.values.answers} if aid.values else {},
    )


def render_summary_html(aid: DecisionAid) -> str:
    """The one-page "my decision" summary: the decision, the options with their key numbers,
    what matters to the person, their leaning and the questions for the surgeon."""
    template = _environment().get_template("summary.html.j2")
    return template.render(
        aid=aid,
        # The stylesheets are the package's own files.
        css=Markup(decision_aid_css() + _page_css() + _static("summary.css")),  # noqa: S704
        glance=glance(aid),
        statements={item.id: item.statement for item in aid.values_items},
        importance_labels=IMPORTANCE_LABELS,
        leaning_words=LEANING_WORDS,
        today=clock.today().isoformat(),
    )


def render_summary_pdf(aid: DecisionAid) -> bytes:
    """The "my decision" summary as a PDF."""
    with needs_extra("pdf", "PDF output"):
        from weasyprint import HTML

    pdf: bytes = HTML(string=render_summary_html(aid)).write_pdf()
    return pdf


def pdf_document(aid: DecisionAid) -> Any:
    """The laid-out WeasyPrint document (pages, boxes) behind :func:`render_pdf`."""
    with needs_extra("pdf", "PDF output"):
        # Imported here: loading pango is slow, only PDFs need it, and it is an extra.
        from weasyprint import HTML

    return HTML(string=render_html(aid, standalone=True, expanded=True)).render()


def render_pdf(aid: DecisionAid) -> bytes:
    """The aid as a PDF (WeasyPrint), from the same template as the HTML page."""
    pdf: bytes = pdf_document(aid).write_pdf()
    return pdf
