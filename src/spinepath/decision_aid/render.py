"""HTML and PDF rendering of a decision aid from one set of Jinja2 templates."""

from __future__ import annotations

import itertools
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from spinepath.decision_aid.icons import icon_array
from spinepath.decision_aid.models import DecisionAid, SourcedNumber
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


def render_html(aid: DecisionAid, *, standalone: bool = True) -> str:
    """The aid as HTML. ``standalone=False`` gives a fragment (no html/head, no inline style)."""
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
        answers={a.item_id: a.importance for a in aid.values.answers} if aid.values else {},
    )


def pdf_document(aid: DecisionAid) -> Any:
    """The laid-out WeasyPrint document (pages, boxes) behind :func:`render_pdf`."""
    with needs_extra("pdf", "PDF output"):
        # Imported here: loading pango is slow, only PDFs need it, and it is an extra.
        from weasyprint import HTML

    return HTML(string=render_html(aid, standalone=True)).render()


def render_pdf(aid: DecisionAid) -> bytes:
    """The aid as a PDF (WeasyPrint), from the same template as the HTML page."""
    pdf: bytes = pdf_document(aid).write_pdf()
    return pdf
