"""An IPDAS checklist over a decision aid and its rendered HTML.

Criteria follow the IPDAS instrument v4.0 minimum standards (Joseph-Williams et al. 2014):
6 qualifying criteria (required to count as a decision aid), certifying criteria (without
which an aid risks harmful bias) and a few quality criteria this project holds itself to.
Each machine check returns ``None`` when met, or the reason it is not.

Some IPDASi v4.0 items are about how the aid was made or tested, or need a person's judgement.
No program can see those in the aid or its page, so they are listed with the status "needs
human review" and are never reported as met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

from spinepath.decision_aid.models import (
    DENOMINATOR,
    ConditionSection,
    DecisionAid,
    Option,
    SourcedNumber,
)
from spinepath.decision_aid.readability import (
    GRADE_TARGET,
    overall_readability,
    section_readability,
)

Category = Literal["qualifying", "certifying", "quality"]
Status = Literal["met", "not met", "needs human review"]
Check = Callable[[DecisionAid, "HtmlFacts"], str | None]


@dataclass
class HtmlFacts:
    """What the checks need to know about the rendered page."""

    text: str = ""
    ids: list[str] = field(default_factory=list)
    svgs: int = 0
    svg_problems: list[str] = field(default_factory=list)
    scripts: int = 0
    event_handlers: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    style_attributes: int = 0


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = HtmlFacts()
        self._text: list[str] = []
        self._svg: dict[str, object] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        facts = self.facts
        element_id = a.get("id")
        if element_id:
            facts.ids.append(element_id)
        for name, _ in attrs:
            if name.lower().startswith("on"):
                facts.event_handlers.append(f"<{tag} {name}>")
        if "style" in a:
            facts.style_attributes += 1
        if tag == "script":
            facts.scripts += 1
        if tag in ("img", "link", "iframe", "object", "embed", "source", "video", "audio"):
            facts.external.append(f"<{tag}>")
        for name in ("src", "href", "xlink:href"):
            value = a.get(name) or ""
            if tag != "a" and value.startswith(("http:", "https:", "//")):
                facts.external.append(f"<{tag} {name}={value}>")
        if tag == "svg":
            facts.svgs += 1
            self._svg = {"role": a.get("role"), "labelledby": a.get("aria-labelledby"), "title": ""}
        elif tag == "title" and self._svg is not None:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "svg" and self._svg is not None:
            svg = self._svg
            if svg["role"] != "img" or not svg["labelledby"] or not str(svg["title"]).strip():
                self.facts.svg_problems.append(f"svg #{self.facts.svgs} lacks role/label/title")
            self._svg = None

    def handle_data(self, data: str) -> None:
        if self._in_title and self._svg is not None:
            self._svg["title"] = str(self._svg["title"]) + data
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self.facts.text = " ".join(" ".join(self._text).split())


def html_facts(html: str) -> HtmlFacts:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.facts


@dataclass(frozen=True)
class Criterion:
    code: str
    category: Category
    title: str
    check: Check


@dataclass(frozen=True)
class HumanReviewItem:
    """An IPDASi item that only a person can judge, with the reason a program cannot."""

    code: str
    category: Category
    title: str
    reason: str


@dataclass(frozen=True)
class CriterionResult:
    code: str
    category: Category
    title: str
    status: Status
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == "met"

    @property
    def checked_by_machine(self) -> bool:
        return self.status != "needs human review"


def all_numbers(aid: DecisionAid) -> Iterator[SourcedNumber]:
    for c in aid.conditions:
        for comp in c.comparisons:
            yield from (cell.number for cell in comp.cells if cell.number)
        for o in c.options:
            for b in o.benefits:
                yield from b.numbers
            yield from (h.baseline for h in o.harms if h.baseline)
        for n in c.not_recommended:
            yield from n.numbers


def _options(aid: DecisionAid) -> Iterator[tuple[ConditionSection, Option]]:
    for c in aid.conditions:
        for o in c.options:
            yield c, o


def _first(problems: Iterator[str]) -> str | None:
    return next(problems, None)


# --- qualifying criteria -------------------------------------------------------------------


def _describes_condition(aid: DecisionAid, html: HtmlFacts) -> str | None:
    def problems() -> Iterator[str]:
        for c in aid.conditions:
            if not c.description.strip():
                yield f"{c.id}: no description of the condition"
            elif c.description.split(".")[0].strip() not in html.text:
                yield f"{c.id}: description not shown on the page"

    return _first(problems())


def _states_decision(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.decision.strip():
        return "the decision is not stated"
    for c in aid.conditions:
        if not c.decision.strip().endswith("?"):
            return f"{c.id}: the decision is not stated as a question"
    if "The decision" not in html.text:
        return "the page has no 'The decision' statement"
    return None


def _describes_options(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for c in aid.conditions:
        if not any(o.kind == "non_surgical" for o in c.options):
            return f"{c.id}: no non-surgical option"
        if len(c.options) < 2 and not c.not_recommended:
            return f"{c.id}: only one option and no explanation of why others are not offered"
        for o in c.options:
            if not o.involves.strip():
                return f"{o.id}: does not say what the option involves"
            if o.name not in html.text:
                return f"{o.id}: option not shown on the page"
    return None


def _positive_features(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for _, o in _options(aid):
        if not o.benefits:
            return f"{o.id}: no positive features"
    if aid.conditions and "Possible benefits" not in html.text:
        return "the page does not show benefits"
    return None


def _negative_features(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for _, o in _options(aid):
        if not o.harms:
            return f"{o.id}: no negative features"
    if aid.conditions and "Possible harms and downsides" not in html.text:
        return "the page does not show harms"
    return None


def _what_it_is_like(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for _, o in _options(aid):
        if not o.experience.strip():
            return f"{o.id}: does not describe what it is like"
        r = o.recovery
        if not (r.hospital_stay.strip() and r.return_to_work.strip() and r.rehabilitation.strip()):
            return f"{o.id}: recovery not described"
    if aid.conditions and "What it is like" not in html.text:
        return "the page does not describe what options are like"
    return None


# --- certifying criteria -------------------------------------------------------------------


def _natural_course(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for c in aid.conditions:
        if not c.natural_course:
            return f"{c.id}: no description of what happens without surgery"
    return None


def _outcome_probabilities(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for c in aid.conditions:
        compared = {cell.option_id for comp in c.comparisons for cell in comp.cells if cell.number}
        for o in c.options:
            has_probability = (
                o.id in compared
                or any(h.baseline for h in o.harms)
                or any(b.numbers for b in o.benefits)
            )
            if o.kind != "non_surgical" and not has_probability:
                return f"{o.id}: no outcome probabilities"
    for n in all_numbers(aid):
        if not (n.horizon.strip() and n.population.strip() and n.source_id and n.source_date):
            return f"{n.id}: missing time horizon, population, source or date"
        if n.words not in html.text:
            return f"{n.id}: the number is not shown in words on the page"
    return None


def _same_denominator_and_period(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for n in all_numbers(aid):
        if n.denominator != DENOMINATOR:
            return f"{n.id}: denominator {n.denominator}, not {DENOMINATOR}"
    for c in aid.conditions:
        for comp in c.comparisons:
            for cell in comp.cells:
                number = cell.number
                if number is None:
                    continue
                if number.horizon != comp.horizon:
                    return (
                        f"{c.id}.{comp.id}: {number.id} covers {number.horizon}, not {comp.horizon}"
                    )
                if number.denominator != comp.denominator:
                    return f"{c.id}.{comp.id}: {number.id} uses a different denominator"
    return None


def _balanced(aid: DecisionAid, html: HtmlFacts) -> str | None:
    for _, o in _options(aid):
        benefit_numbers = any(b.numbers or b.effects or b.durations for b in o.benefits)
        harm_numbers = any(h.baseline or h.effects or h.durations for h in o.harms)
        if harm_numbers and not benefit_numbers:
            return f"{o.id}: harms are quantified but benefits are not"
        if benefit_numbers and not harm_numbers:
            return f"{o.id}: benefits are quantified but harms are not"
    return None


def _values_clarification(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.conditions:
        return None
    favours = {v.favours for v in aid.values_items}
    if len(aid.values_items) < 3 or not {"surgery", "non_surgical"} <= favours:
        return "values exercise needs at least 3 items, for and against surgery"
    if "da-values" not in html.ids or "da-leaning" not in html.ids:
        return "the page has no values exercise or leaning question"
    return None


def _sources(aid: DecisionAid, html: HtmlFacts) -> str | None:
    from spinepath.decision_aid.builder import cited_source_ids

    refs = {r.id: r for r in aid.references}
    for source_id in sorted(cited_source_ids(aid)):
        if source_id not in refs:
            return f"{source_id}: cited but not listed under Sources"
        if f"da-ref-{source_id}" not in html.ids:
            return f"{source_id}: not listed on the page"
    if any(not r.citation.strip() for r in refs.values()):
        return "a source has no citation"
    return None


def _dates(aid: DecisionAid, html: HtmlFacts) -> str | None:
    try:
        dt.date.fromisoformat(aid.meta.content_date)
    except ValueError:
        return f"content date {aid.meta.content_date!r} is not a date"
    if aid.meta.content_date not in html.text:
        return "the content date is not shown"
    return None


def _update_policy(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.meta.update_policy.strip():
        return "no update policy"
    try:
        due = dt.date.fromisoformat(aid.meta.next_review_due)
        reviewed = dt.date.fromisoformat(aid.meta.content_date)
    except ValueError:
        return "next review date is not a date"
    if due <= reviewed:
        return "next review is not after the content date"
    return None


def _funding(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.meta.funding_and_conflicts.strip():
        return "no funding and conflict-of-interest statement"
    if "Funding and conflicts of interest" not in html.text:
        return "the funding statement is not shown"
    return None


def _uncertainty(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.conditions:
        return None
    if len(aid.what_numbers_cannot_know) < 3 or "da-cannot-know" not in html.ids:
        return "the aid does not say what the numbers cannot know"
    if aid.conditions and not aid.personalisation.method.strip():
        return "the personalisation method is not stated"
    return None


# --- quality criteria ----------------------------------------------------------------------


def _plain_language(aid: DecisionAid, html: HtmlFacts) -> str | None:
    overall = overall_readability(aid)
    if not overall.above_target:
        return None
    problem = f"Flesch-Kincaid grade {overall.grade:.1f} is above the target of {GRADE_TARGET:g}"
    hardest = sorted(
        (s for s in section_readability(aid) if s.above_target), key=lambda s: -s.grade
    )
    if hardest:
        problem += " (hardest: " + "; ".join(f"{s.title} {s.grade:.1f}" for s in hardest) + ")"
    return problem


def _questions(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if aid.conditions and len(aid.questions_for_surgeon) < 5:
        return "fewer than 5 questions to ask the surgeon"
    return None


def _second_opinion(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if not aid.conditions:
        return None
    if not aid.second_opinion.strip() or "da-second-opinion" not in html.ids:
        return "no second-opinion prompt"
    return None


def _accessible_icons(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if html.svg_problems:
        return html.svg_problems[0]
    if any(True for _ in all_numbers(aid)) and html.svgs == 0:
        return "numbers are shown without icon arrays"
    return None


def _no_sales_pitch(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if aid.mode == "not_yet":
        if aid.not_yet is None or "da-not-yet" not in html.ids:
            return "a person who is not a candidate is not told why"
        if any(o.kind != "non_surgical" and o.shown_as == "option" for _, o in _options(aid)):
            return "surgery is offered as a current option to a person who is not a candidate"
    if aid.mode in ("emergency_first", "urgent_first"):
        if aid.notice is None or not html.ids or "da-notice" not in html.ids:
            return "emergency or urgent advice is not shown"
        if any(o.kind == "non_surgical" and o.shown_as == "option" for _, o in _options(aid)):
            return "waiting is offered as an ordinary option in an emergency or urgent situation"
        first_option = next((i for i in html.ids if i.startswith("da-option-")), None)
        if first_option and html.ids.index("da-notice") > html.ids.index(first_option):
            return "emergency or urgent advice does not come first"
    if aid.mode == "outside_scope" and (aid.conditions or not aid.not_covered):
        return "an aid outside its scope must say so and offer no options"
    return None


def _self_contained(aid: DecisionAid, html: HtmlFacts) -> str | None:
    if html.scripts:
        return "the page contains scripts"
    if html.event_handlers:
        return f"inline event handler {html.event_handlers[0]}"
    if html.external:
        return f"external resource {html.external[0]}"
    return None


CRITERIA: tuple[Criterion, ...] = (
    Criterion("Q1", "qualifying", "Describes the health condition", _describes_condition),
    Criterion("Q2", "qualifying", "States the decision explicitly", _states_decision),
    Criterion(
        "Q3", "qualifying", "Describes the options, including non-surgical care", _describes_options
    ),
    Criterion("Q4", "qualifying", "Describes positive features of each option", _positive_features),
    Criterion("Q5", "qualifying", "Describes negative features of each option", _negative_features),
    Criterion(
        "Q6", "qualifying", "Describes what it is like to experience each option", _what_it_is_like
    ),
    Criterion("C1", "certifying", "Describes the natural course without surgery", _natural_course),
    Criterion(
        "C2",
        "certifying",
        "Gives outcome probabilities with horizon, population and source",
        _outcome_probabilities,
    ),
    Criterion(
        "C3",
        "certifying",
        "Compares probabilities with the same denominator and time period",
        _same_denominator_and_period,
    ),
    Criterion("C4", "certifying", "Presents benefits and harms in equal detail", _balanced),
    Criterion(
        "C5", "certifying", "Helps clarify values and records the leaning", _values_clarification
    ),
    Criterion("C6", "certifying", "Cites the sources of evidence", _sources),
    Criterion("C7", "certifying", "Gives the date of the content", _dates),
    Criterion("C8", "certifying", "States the update policy", _update_policy),
    Criterion("C9", "certifying", "States funding and conflicts of interest", _funding),
    Criterion(
        "C10", "certifying", "Describes uncertainty and what the numbers cannot know", _uncertainty
    ),
    Criterion(
        "P1",
        "quality",
        f"Plain language: Flesch-Kincaid grade {GRADE_TARGET:g} or below overall",
        _plain_language,
    ),
    Criterion("P2", "quality", "Gives questions to ask the clinician", _questions),
    Criterion("P3", "quality", "Prompts a second opinion", _second_opinion),
    Criterion("P4", "quality", "Icon arrays have text equivalents", _accessible_icons),
    Criterion(
        "P5",
        "quality",
        "Not a sales pitch: non-candidates told why, emergencies first",
        _no_sales_pitch,
    ),
    Criterion(
        "P6",
        "quality",
        "Self-contained page: no scripts, handlers or external resources",
        _self_contained,
    ),
)


# IPDASi v4.0 quality criteria that depend on how the aid was developed and evaluated, or on a
# reader's judgement. Wording follows a transcription of the 44 IPDASi v4.0 items (6
# qualifying, 10 certifying, 28 quality) in a public implementation of the instrument; it has
# not been checked word for word against the table in Joseph-Williams et al., Med Decis Making
# 2014;34(6):699-710. The numbers in the comments are the items' places among the 28 quality
# criteria in that transcription. The 4 certifying and 5 quality items for screening tests are
# left out: this aid is about treatment, not a test.
HUMAN_REVIEW: tuple[HumanReviewItem, ...] = (
    HumanReviewItem(
        "H1",  # quality 10
        "quality",
        "Provides a step-by-step way to make a decision",
        "whether the page guides a decision step by step is a judgement about its design",
    ),
    HumanReviewItem(
        "H2",  # quality 12
        "quality",
        "The development process included a needs assessment with clients or patients",
        "a fact about how the aid was made, not visible in the aid",
    ),
    HumanReviewItem(
        "H3",  # quality 13
        "quality",
        "The development process included a needs assessment with health professionals",
        "a fact about how the aid was made, not visible in the aid",
    ),
    HumanReviewItem(
        "H4",  # quality 14
        "quality",
        "The development process included review by clients/patients not involved in producing "
        "the decision support intervention",
        "needs a record of independent patient review",
    ),
    HumanReviewItem(
        "H5",  # quality 15
        "quality",
        "The development process included review by professionals not involved in producing the "
        "decision support intervention",
        "needs a record of independent professional review",
    ),
    HumanReviewItem(
        "H6",  # quality 16
        "quality",
        "Was field tested with patients who were facing the decision",
        "needs a record of field testing with patients",
    ),
    HumanReviewItem(
        "H7",  # quality 17
        "quality",
        "Was field tested with practitioners who counsel patients who face the decision",
        "needs a record of field testing with practitioners",
    ),
    HumanReviewItem(
        "H8",  # quality 18
        "quality",
        "(Or associated documentation) describes how research evidence was selected or synthesized",
        "whether the description is adequate is a reviewer's judgement",
    ),
    HumanReviewItem(
        "H9",  # quality 19
        "quality",
        "(Or associated documentation) describes the quality of the research evidence used",
        "whether the evidence is appraised fairly is a reviewer's judgement",
    ),
    HumanReviewItem(
        "H10",  # quality 20
        "quality",
        "Includes authors'/developers' credentials or qualifications",
        "a program can see that authors are named, not that their credentials are given",
    ),
    HumanReviewItem(
        "H11",  # quality 22
        "quality",
        "There is evidence that the patient decision aid improves the match between the "
        "preferences of the informed patient and the option that is chosen",
        "needs an evaluation study of this aid",
    ),
    HumanReviewItem(
        "H12",  # quality 23
        "quality",
        "There is evidence that the patient decision aid helps patients improve their knowledge "
        "about options' features",
        "needs an evaluation study of this aid",
    ),
)


def run_checklist(aid: DecisionAid, html: str) -> list[CriterionResult]:
    """Every machine criterion as met or not met, then every item left to human review."""
    facts = html_facts(html)
    results = []
    for criterion in CRITERIA:
        problem = criterion.check(aid, facts)
        results.append(
            CriterionResult(
                code=criterion.code,
                category=criterion.category,
                title=criterion.title,
                status="met" if problem is None else "not met",
                detail=problem or "met",
            )
        )
    results.extend(
        CriterionResult(
            code=item.code,
            category=item.category,
            title=item.title,
            status="needs human review",
            detail=item.reason,
        )
        for item in HUMAN_REVIEW
    )
    return results


def failures(aid: DecisionAid, html: str) -> list[CriterionResult]:
    """The machine criteria that are not met (items for human review are not failures)."""
    return [r for r in run_checklist(aid, html) if r.status == "not met"]
