"""The population report: one HTML page that needs no network and no JavaScript to read.

It summarises a population run for a health system's data team and clinic leads, in three
parts: the pathway's decisions (how many people at each urgency level, STarT Back group, with a
surgical opinion due, with imaging indicated), the quality measures per clinic with a funnel plot
each, and the outcome questionnaires' (PROM) mean scores by timepoint. Every chart is drawn with
Altair and rendered to SVG inside the page by vl-convert, and every chart has its numbers in a
table under it, since a chart alone is not readable by everyone.

Sources of what the page says about the measures (each read on the page given):

* NCQA, HEDIS "Use of Imaging Studies for Low Back Pain (LBP)",
  https://www.ncqa.org/hedis/measures/use-of-imaging-studies-for-low-back-pain/ : adults 18-75
  with a principal diagnosis of low back pain who did not have an imaging study (plain X-ray, MRI,
  CT) within 28 days of the diagnosis; a higher score is better. The inverted rate
  (1 - numerator/denominator) was read in NCQA's measure summary on the AHRQ NQMC archive
  (NQMC:009950). CMS166v7 (https://ecqi.healthit.gov/sites/default/files/ecqm/measures/
  CMS166v7.html), the eCQM version, covers ages 18-50.
* NICE QS155, https://www.nice.org.uk/guidance/qs155/chapter/quality-statements : the six
  statements, paraphrased in ``QS155_STATEMENTS``; statements 5 (opioids) and 6 (spinal
  injections) and their process measures were also read on their own pages.
* Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
  2005;24:1185-1202, doi:10.1002/sim.1970 (title, journal, pages and DOI read in a copy of the
  paper): control limits around the overall rate for each unit's number of cases.

The pathway and outcome-questionnaire tables have a row or more per person, so they are never
read whole: the checks read one column at a time with Polars, and the summaries are aggregated
by DuckDB over the Parquet files where they lie (only the columns the report uses), within a
memory limit past which it spills to disk (``measures.memory``). Only counts and means come back.

Not verified in a primary source, so the page does not state it: the numbers of NG59's
recommendations on opioids and spinal injections (their wording was read only in secondary
copies) and NG59's wording on epidurals for sciatica. The page describes each NG59 measure by
what the measure counts (its definition, docs/measures/<id>.md) and cites NG59 as a whole.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import polars as pl
import vl_convert as vlc
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from spinepath import clock
from spinepath.instruments.catalogue import definitions
from spinepath.pathway.assessment import Level
from spinepath.population.measures import memory, statistics
from spinepath.population.measures.query import literal
from spinepath.population.measures.registry import BY_ID
from spinepath.population.measures.results import ALL_CLINICS, MEASURE_RESULTS
from spinepath.population.tables import PATHWAY, PROMS, TIMEPOINTS, Schema

LEVEL_WORDS = {
    Level.EMERGENCY: "Emergency",
    Level.URGENT: "Urgent",
    Level.SOON: "Soon",
    Level.ROUTINE: "Routine",
    Level.SELF_CARE: "Self-care",
}
"""The urgency levels, most urgent first, as the report names them."""

STARTBACK_WORDS = {"low": "Low risk", "medium": "Medium risk", "high": "High risk"}
NOT_ANSWERED = "Not answered"

TIMEPOINT_WORDS = {
    "baseline": "Baseline",
    "6_weeks": "6 weeks",
    "3_months": "3 months",
    "12_months": "12 months",
}


def _kind(dtype: pl.DataType | type[pl.DataType]) -> str:
    if dtype == pl.String:
        return "text"
    if dtype == pl.Boolean:
        return "yes/no"
    return "date" if dtype == pl.Date else "number"


def _columns(schema: Schema, names: Sequence[str] | None = None) -> Mapping[str, str]:
    return {name: _kind(schema[name]) for name in names or schema}


Table = pl.DataFrame | Path
"""A table given to the report: in memory, or a Parquet file that is read only in parts."""


def _lazy(table: Table | pl.LazyFrame) -> pl.LazyFrame:
    if isinstance(table, pl.LazyFrame):
        return table
    return table.lazy() if isinstance(table, pl.DataFrame) else pl.scan_parquet(table)


PATHWAY_COLUMNS = _columns(
    PATHWAY,
    (
        "person_id",
        "assessment_id",
        "assessed_on",
        "level",
        "startback_group",
        "referral_due",
        "imaging_indicated",
    ),
)
"""The columns of the pathway table (``tables.PATHWAY``) that the report reads, with their kind."""

MEASURE_COLUMNS = _columns(MEASURE_RESULTS)
"""The columns of the measure results (``measures.parquet``, ``MEASURE_RESULTS``): one row per
measure and clinic, plus the overall row (clinic ``ALL``). Rates, intervals and funnel limits are
all on the scale of ``reported_rate`` (inverted where the measure is), and ``higher_is_better``
is about it; a whole number where a fraction is expected is accepted."""

PROM_COLUMNS = _columns(PROMS, ("person_id", "instrument", "timepoint", "completed_on", "score"))
"""The columns of the data set's ``proms`` table that the report reads."""

_KIND_CHECKS = {
    "text": lambda dtype: dtype == pl.String,
    "date": lambda dtype: dtype == pl.Date,
    "yes/no": lambda dtype: dtype == pl.Boolean,
    "number": lambda dtype: dtype.is_numeric(),
}

# Okabe and Ito's colours, distinguishable with the common colour-vision deficiencies; every
# colour also comes with its own shape or line style, so none is told apart by colour alone.
_INK = "#1b1b1b"
_GREY = "#6b6b6b"
_POSITION_COLOURS = {
    "within the limits": "#0072B2",
    "outside the 95% limits": "#E69F00",
    "outside the 99.8% limits": "#D55E00",
}
_POSITION_SHAPES = {
    "within the limits": "circle",
    "outside the 95% limits": "triangle-up",
    "outside the 99.8% limits": "square",
}
_GROUP_COLOURS = {
    "Everyone": _INK,
    STARTBACK_WORDS["low"]: "#009E73",
    STARTBACK_WORDS["medium"]: "#E69F00",
    STARTBACK_WORDS["high"]: "#D55E00",
    NOT_ANSWERED: "#999999",
}
_GROUP_SHAPES = ("circle", "triangle-up", "diamond", "square", "cross")
_CHART_WIDTH = 270
_CHART_FONT = 16


class ReportInputError(ValueError):
    """A table given to the report lacks a column, has one of the wrong type, or holds a value
    the report does not know; the message names the table, the column and the value."""


@dataclass(frozen=True)
class MeasureText:
    """What the report says a measure is, and where that comes from."""

    title: str
    what: str
    source: str


_NCQA_LBP = (
    "NCQA HEDIS, Use of Imaging Studies for Low Back Pain (LBP), "
    "https://www.ncqa.org/hedis/measures/use-of-imaging-studies-for-low-back-pain/; "
    "eCQM CMS166v7, https://ecqi.healthit.gov/sites/default/files/ecqm/measures/CMS166v7.html"
)
_QS155 = "NICE quality standard QS155 (2017), https://www.nice.org.uk/guidance/qs155"
_NG59 = "NICE guideline NG59 (2016, updated 2020), https://www.nice.org.uk/guidance/ng59"

QS155_STATEMENTS: Mapping[int, str] = {
    1: "Primary care services have an approach to risk stratification for people presenting "
    "with a new episode of low back pain with or without sciatica.",
    2: "People with low back pain with or without sciatica do not have imaging requested by a "
    "non-specialist service unless serious underlying pathology is suspected.",
    3: "People with low back pain with or without sciatica are given advice and information to "
    "manage their condition themselves.",
    4: "People are not given paracetamol alone, gabapentinoids, antiepileptics or "
    "antidepressants to treat low back pain without sciatica.",
    5: "People are not given opioids to treat chronic low back pain without sciatica.",
    6: "People do not have spinal injections for low back pain without sciatica, except "
    "radiofrequency denervation for people who meet its criteria.",
}
"""The statements of NICE QS155 (which says "young people and adults": it covers people aged
16 and over), in brief."""

MEASURE_DESCRIPTIONS: Mapping[str, tuple[str, str]] = {
    "lbp-imaging": (
        "People with a new diagnosis of low back pain and none of the measure's exclusions: "
        "the share who did not have an imaging study (plain X-ray, MRI or CT) within 28 days "
        "of the diagnosis, reported as an inverted rate (1 − imaged ÷ denominator) as HEDIS "
        "reports it.",
        _NCQA_LBP,
    ),
    "ng59-spinal-injections": (
        "People with low back pain given a spinal injection other than radiofrequency "
        "denervation or an epidural for acute and severe sciatica.",
        f"{_NG59}; {_QS155}, statement 6",
    ),
    "ng59-exercise": (
        "People for whom the pathway recommended an exercise programme: the share who took one up.",
        _NG59,
    ),
    "ng59-psychological": (
        "People at high risk on the STarT Back tool: the share who took part in a combined "
        "physical and psychological programme.",
        _NG59,
    ),
    "lbp-opioids-chronic": (
        "People with chronic low back pain, with or without sciatica, who were prescribed an "
        "opioid.",
        f"{_NG59}; {_QS155}, statement 5",
    ),
    "time-to-surgical-opinion": (
        "People whose assessment met the pathway's criteria for a spinal surgeon's opinion: "
        "the share seen within the target time, and the days from that assessment to being "
        "seen (median and 25th to 75th centiles, counting the people not yet seen).",
        "spinepath's pathway (the surgical candidacy rules of its knowledge base)",
    ),
    "prom-mcid-responders": (
        "People with a baseline and a follow-up disability score: the share whose score "
        "improved by at least the instrument's minimal clinically important difference (held "
        "with its source in spinepath's instrument registry), adjusted for case mix by "
        "indirect standardisation (observed ÷ expected responders × the overall rate).",
        "spinepath's instrument registry",
    ),
}
"""What each measure counts, in a sentence, and its source, by measure id. QS155 measures
(``qs155-<n>…``) and PROM completion (``prom-completion-<timepoint>``) are described by their
id's prefix; the title comes from the measure's definition."""


def _description(measure_id: str) -> tuple[str, str]:
    if measure_id in MEASURE_DESCRIPTIONS:
        return MEASURE_DESCRIPTIONS[measure_id]
    statement = re.match(r"qs155-(\d+)", measure_id)
    if statement and int(statement.group(1)) in QS155_STATEMENTS:
        number = int(statement.group(1))
        return (
            f"NICE's statement {number}: {QS155_STATEMENTS[number]}",
            f"{_QS155}, statement {number}",
        )
    timepoint = measure_id.removeprefix("prom-completion-").replace("-", "_")
    if timepoint in TIMEPOINT_WORDS:
        when = TIMEPOINT_WORDS[timepoint].lower()
        return (
            f"People with an outcome questionnaire due at {when}: the share who completed it.",
            "spinepath's follow-up schedule",
        )
    return "The report holds no description of this measure.", ""


def measure_text(measure_id: str) -> MeasureText:
    """A measure's title (from its definition, or its id when it has none), what it counts
    and its source; the definition document is ``docs/measures/<id>.md``."""
    definition = BY_ID.get(measure_id)
    what, source = _description(measure_id)
    document = f"definition: docs/measures/{measure_id}.md" if definition else ""
    return MeasureText(
        definition.title if definition else measure_id,
        what,
        "; ".join(part for part in (source, document) if part),
    )


# Checking the inputs


def check_columns(
    frame: pl.DataFrame | pl.LazyFrame, columns: Mapping[str, str], table: str
) -> None:
    """Raise ``ReportInputError`` naming every column of ``columns`` that ``frame`` lacks or
    holds with the wrong type; extra columns are ignored."""
    schema = frame.collect_schema()
    wrong = []
    for name, kind in columns.items():
        dtype = schema.get(name)
        if dtype is None:
            wrong.append(f"{name} (missing)")
        elif dtype != pl.Null and not _KIND_CHECKS[kind](dtype):
            wrong.append(f"{name} ({dtype} instead of {kind})")
    if wrong:
        raise ReportInputError(f"{table}: wrong or missing columns: {', '.join(wrong)}")


def _check_values(
    frame: pl.LazyFrame, column: str, allowed: Sequence[str], table: str, *, nullable: bool
) -> None:
    # One column's distinct values: a streaming query never holds the table.
    values = frame.select(pl.col(column).unique()).collect(engine="streaming").get_column(column)
    found = (values.drop_nulls() if nullable else values).to_list()
    unknown = sorted(("empty" if v is None else repr(v)) for v in found if v not in allowed)
    if unknown:
        raise ReportInputError(
            f"{table}: {column}: unknown value {unknown[0]} "
            f"(expected one of {', '.join(allowed)}{', or empty' if nullable else ''})"
        )


# Formatting


def slug(text: str) -> str:
    """``text`` as a fragment of an HTML id: lower case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower())


def _count(n: int) -> str:
    return f"{n:,}"


def _percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _share(part: int, whole: int) -> str:
    return _percent(part / whole) if whole else "—"


def _present(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


# Charts


@dataclass(frozen=True)
class Chart:
    """A chart as inline SVG, with the same numbers as a table for people who cannot see it."""

    id: str
    title: str
    svg: Markup
    summary: str
    note: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _config(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with the report's type sizes: 16 px at the drawing's own size,
    which is about the size it is shown at on a phone."""
    configured = chart.configure_axis(
        labelFontSize=_CHART_FONT,
        titleFontSize=_CHART_FONT,
        labelColor=_INK,
        titleColor=_INK,
        titleFontWeight="normal",
    )
    configured = configured.configure_legend(
        labelFontSize=_CHART_FONT,
        titleFontSize=_CHART_FONT,
        orient="bottom",
        direction="vertical",
        labelLimit=0,
    ).configure_view(stroke=None)
    spec: dict[str, Any] = configured.to_dict()
    return spec


def count_ticks(top: int) -> list[int]:
    """Whole-number axis ticks from 0 to ``top`` or just past it, at most six, in steps of 1, 2
    or 5 times a power of ten (a count of people has no halves)."""
    step = 1
    growth = itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, 100, ...
    while top > 5 * step:
        step = round(step * next(growth))
    last = max(1, -(-top // step)) * step
    return list(range(0, last + 1, step))


def svg_chart(spec: Mapping[str, Any], label: str) -> Markup:
    """The Vega-Lite ``spec`` as an SVG element that scales to its container's width.

    vl-convert gives the root element a fixed size; without it the ``viewBox`` makes the
    drawing as wide as the page allows. ``role="img"`` with ``label`` names the drawing to
    assistive technology, which then skips its marks (the table under it has the numbers).
    No data is fetched: the spec carries its data inline and no base URL is allowed.
    """
    svg = vlc.vegalite_to_svg(dict(spec), allowed_base_urls=[])
    head, bracket, rest = svg.partition(">")
    head = re.sub(r'\s(?:width|height)="[^"]*"', "", head)
    # vl-convert escapes every text it draws, and the label is escaped here.
    return Markup(  # noqa: S704
        f'{head} role="img" aria-label="{escape(label)}" focusable="false"{bracket}{rest}'
    )


# 1. The pathway funnel


@dataclass(frozen=True)
class FunnelRow:
    label: str
    count: str
    share: str
    heading: bool = False


@dataclass(frozen=True)
class PathwaySummary:
    assessments: int
    people: int
    rows: tuple[FunnelRow, ...]
    chart: Chart | None


def check_pathway(pathway: Table | pl.LazyFrame, table: str = "pathway") -> None:
    """Raise ``ReportInputError`` for a missing or mistyped column or an unknown level or
    STarT Back group; messages name the table as ``table``."""
    frame = _lazy(pathway)
    check_columns(frame, PATHWAY_COLUMNS, table)
    levels = [str(level) for level in LEVEL_WORDS]
    _check_values(frame, "level", levels, table, nullable=False)
    _check_values(frame, "startback_group", list(STARTBACK_WORDS), table, nullable=True)


def _per_person(pick: str, values: Sequence[str]) -> str:
    """SQL: one row per person of the view ``pathway`` with ``values`` (as the struct ``row``)
    from the person's first (``pick`` ``arg_min``) or most recent (``arg_max``) assessment, by
    date then assessment id, a missing one coming before any other."""
    fields = ", ".join(f"{name} := {name}" for name in values)
    # Coalesced so that no field of the key is null: how a struct orders a null field is not
    # what the report means by "first", and the flags before them put the missing ones first.
    order = (
        "struct_pack(dated := assessed_on IS NOT NULL, "
        "day := coalesce(assessed_on, DATE '0001-01-01'), "
        "named := assessment_id IS NOT NULL, id := coalesce(assessment_id, ''))"
    )
    return (
        f"SELECT person_id, {pick}(struct_pack({fields}), {order}) AS row "  # noqa: S608
        "FROM pathway GROUP BY person_id"
    )


_PATHWAY_COUNTS = f"""
SELECT row.level AS level, row.startback_group AS startback_group,
       row.referral_due AS referral_due, row.imaging_indicated AS imaging_indicated,
       count(*) AS people
FROM ({_per_person("arg_max", ("level", "startback_group", "referral_due", "imaging_indicated"))})
GROUP BY ALL
"""  # noqa: S608


def _people_where(counts: Sequence[Mapping[str, Any]], column: str, value: object) -> int:
    return sum(
        int(row["people"])
        for row in counts
        if (row[column] is None if value is None else row[column] == value)
    )


def _yes_rows(counts: Sequence[Mapping[str, Any]], column: str, label: str) -> list[FunnelRow]:
    total = sum(int(row["people"]) for row in counts)
    yes = _people_where(counts, column, True)
    rows = [FunnelRow(label, _count(yes), _share(yes, total), heading=True)]
    unknown = _people_where(counts, column, None)
    if unknown:
        rows.append(FunnelRow("Not known", _count(unknown), _share(unknown, total)))
    return rows


def pathway_summary(con: duckdb.DuckDBPyConnection) -> PathwaySummary:
    """How many people the pathway placed at each urgency level and STarT Back group, and how
    many had a surgical opinion due or imaging indicated, from the view ``pathway`` of ``con``
    (:func:`tables_in`). Each person counts once, at their most recent assessment; percentages
    are of the people assessed."""
    counts = _rows(con, _PATHWAY_COUNTS)
    assessments = int(_rows(con, "SELECT count(*) AS n FROM pathway")[0]["n"])
    total = sum(int(row["people"]) for row in counts)
    level_counts = [
        (word, _people_where(counts, "level", str(level))) for level, word in LEVEL_WORDS.items()
    ]
    group_counts = [
        (word, _people_where(counts, "startback_group", key))
        for key, word in STARTBACK_WORDS.items()
    ]
    group_counts.append((NOT_ANSWERED, _people_where(counts, "startback_group", None)))
    rows = [
        FunnelRow("People assessed", _count(total), _share(total, total), heading=True),
        FunnelRow("Urgency level", "", "", heading=True),
        *(FunnelRow(word, _count(n), _share(n, total)) for word, n in level_counts),
        FunnelRow("STarT Back group", "", "", heading=True),
        *(FunnelRow(word, _count(n), _share(n, total)) for word, n in group_counts),
        *_yes_rows(counts, "referral_due", "Surgical opinion due"),
        *_yes_rows(counts, "imaging_indicated", "Imaging indicated"),
    ]
    chart = _level_chart(level_counts, total) if total else None
    return PathwaySummary(assessments, total, tuple(rows), chart)


def _level_chart(counts: Sequence[tuple[str, int]], total: int) -> Chart:
    values = [{"level": word, "people": n, "share": _share(n, total)} for word, n in counts]
    ticks = count_ticks(max(n for _, n in counts))
    order = [word for word, _ in counts]
    base = alt.Chart(alt.InlineData(values=values)).encode(
        y=alt.Y("level:N", sort=order, title=None),
        x=alt.X(
            "people:Q",
            title="People",
            axis=alt.Axis(values=ticks, format=",d"),
            scale=alt.Scale(domain=[0, ticks[-1]]),
        ),
    )
    bars = base.mark_bar(color="#0072B2")
    labels = base.mark_text(align="left", dx=4, fontSize=_CHART_FONT, color=_INK).encode(
        text="share:N"
    )
    spec = _config((bars + labels).properties(width=_CHART_WIDTH - 40, height=5 * 36))
    summary = "Bar chart of people by urgency level: " + "; ".join(
        f"{word} {n:,} ({_share(n, total)})" for word, n in counts
    )
    return Chart(
        id="chart-levels",
        title="People by urgency level",
        svg=svg_chart(spec, summary),
        summary=summary,
        note="Each bar is the number of people at that level; the label is their share.",
        columns=("Urgency level", "People", "Share"),
        rows=tuple((word, _count(n), _share(n, total)) for word, n in counts),
    )


# 2. The measures, per clinic, with funnel plots


@dataclass(frozen=True)
class ClinicResult:
    """One clinic's result, on the scale of the reported rate (inverted where the measure is),
    or of the adjusted rate for a case-mix adjusted measure."""

    clinic_id: str
    numerator: int
    denominator: int
    value: float | None
    low_95: float | None
    high_95: float | None
    low_998: float | None
    high_998: float | None
    centile: float | None
    median_days: float | None
    position: str


@dataclass(frozen=True)
class MeasureSummary:
    id: str
    text: MeasureText
    direction: str
    headline: str
    interval: str
    counts: str
    timing: str | None
    adjustment: str | None
    clinics: tuple[ClinicResult, ...]
    outliers: tuple[str, ...]
    without_denominator: int
    chart: Chart | None
    has_timing: bool
    rate_label: str


def _value(value: float | None) -> float | None:
    return value if _present(value) else None


def funnel_position(value: float | None, limits: tuple[float | None, ...]) -> str:
    """Where a clinic lies against the funnel: inside, outside the 95% or the 99.8% limits.

    A value exactly on a limit is within it; a missing limit does not count as crossed."""
    low_95, high_95, low_998, high_998 = limits
    if value is None:
        return "no one in the denominator"

    def crosses(low: float | None, high: float | None) -> bool:
        return (low is not None and value < low) or (high is not None and value > high)

    if crosses(low_998, high_998):
        return "outside the 99.8% limits"
    if crosses(low_95, high_95):
        return "outside the 95% limits"
    return "within the limits"


def _clinic_result(row: Mapping[str, Any]) -> ClinicResult:
    denominator = int(row["denominator"] or 0)
    adjusted = _value(row["adjusted_rate"])
    value = (
        (adjusted if adjusted is not None else _value(row["reported_rate"]))
        if denominator
        else None
    )
    limits = tuple(
        _value(row[f"funnel_{side}"]) for side in ("low_95", "high_95", "low_998", "high_998")
    )
    return ClinicResult(
        clinic_id=row["clinic_id"],
        numerator=int(row["numerator"] or 0),
        denominator=denominator,
        value=value,
        low_95=limits[0],
        high_95=limits[1],
        low_998=limits[2],
        high_998=limits[3],
        centile=_value(row["centile"]),
        median_days=_value(row["median_days"]),
        position=funnel_position(value, limits),
    )


def _judgement(clinic: ClinicResult, higher_is_better: bool) -> str:
    above = (
        clinic.value is not None and clinic.high_95 is not None and clinic.value > clinic.high_95
    )
    side = "above" if above else "below"
    return f"{side} the limits: {'better' if above == higher_is_better else 'worse'} than expected"


def _outlier_texts(clinics: Sequence[ClinicResult], higher_is_better: bool) -> tuple[str, ...]:
    return tuple(
        f"{c.clinic_id}: {_percent(c.value)} of {c.denominator:,} people, {c.position}, "
        f"{_judgement(c, higher_is_better)}"
        for c in clinics
        if c.position.startswith("outside")
    )


def _counts_text(overall: Mapping[str, Any]) -> str:
    def whole(name: str) -> str:
        return f"{int(overall[name] or 0):,}"

    return (
        f"Numerator {whole('numerator')} of a denominator of {whole('denominator')} (initial "
        f"population {whole('initial_population')}, {whole('exclusions')} excluded)."
    )


def _timing_text(overall: Mapping[str, Any]) -> str | None:
    if not _present(overall["median_days"]):
        return None
    return (
        f"Median {_number(overall['median_days'], 0)} days (25th to 75th centile "
        f"{_number(overall['p25_days'], 0)} to {_number(overall['p75_days'], 0)} days)."
    )


def _adjustment_text(overall: Mapping[str, Any]) -> str | None:
    if not (_present(overall["adjusted_rate"]) or _present(overall["expected"])):
        return None
    return (
        f"Adjusted for case mix: {_percent(_value(overall['adjusted_rate']))} (expected in the "
        f"numerator: {_number(_value(overall['expected']))})."
    )


def _rate_label(measure_id: str, overall: Mapping[str, Any] | None) -> str:
    """What the clinics' rates are: adjusted for case mix, inverted (1 − rate, where the
    measure's definition says so or the results show it), or plain."""
    if overall is None:
        return "Rate"
    if _present(overall["adjusted_rate"]) or _present(overall["expected"]):
        return "Adjusted rate"
    definition = BY_ID.get(measure_id)
    rate, reported = _value(overall["rate"]), _value(overall["reported_rate"])
    shows_inverted = rate is not None and reported is not None and abs(rate - reported) > 1e-9
    inverted = definition.inverted if definition else shows_inverted
    return "Inverted rate" if inverted else "Rate"


def check_measures(measures: pl.DataFrame, table: str = "measures") -> None:
    """Raise ``ReportInputError`` for a missing or mistyped column of ``MEASURE_RESULTS`` or a
    row without a measure or clinic id; messages name the table as ``table``."""
    check_columns(measures, MEASURE_COLUMNS, table)
    for column in ("measure_id", "clinic_id"):
        if measures.get_column(column).null_count():
            raise ReportInputError(f"{table}: {column}: a row has none")


def measure_summaries(measures: pl.DataFrame) -> list[MeasureSummary]:
    """One summary per measure, in the order the results list them."""
    check_measures(measures)
    numbers = [name for name, kind in MEASURE_COLUMNS.items() if kind == "number"]
    measures = measures.with_columns(pl.col(numbers).cast(pl.Float64))
    return [
        _measure_summary(measure_id, measures.filter(pl.col("measure_id") == measure_id))
        for measure_id in measures.get_column("measure_id").unique(maintain_order=True).to_list()
    ]


def _measure_summary(measure_id: str, rows: pl.DataFrame) -> MeasureSummary:
    overall_rows = rows.filter(pl.col("clinic_id") == ALL_CLINICS).to_dicts()
    overall = overall_rows[0] if overall_rows else None
    higher_is_better = bool((overall or rows.row(0, named=True))["higher_is_better"])
    clinic_rows = rows.filter(pl.col("clinic_id") != ALL_CLINICS).sort("clinic_id").to_dicts()
    clinics = tuple(_clinic_result(row) for row in clinic_rows)
    text = measure_text(measure_id)
    rate_label = _rate_label(measure_id, overall)
    plotted = [c for c in clinics if c.value is not None]
    chart = None
    if plotted and overall is not None:
        chart = _funnel_chart(measure_id, text.title, plotted, overall, rate_label)
    return MeasureSummary(
        id=measure_id,
        text=text,
        direction="Higher is better." if higher_is_better else "Lower is better.",
        headline=_percent(_value(overall["reported_rate"])) if overall else "not reported",
        interval=(
            f"95% confidence interval {_percent(_value(overall['ci_low']))} to "
            f"{_percent(_value(overall['ci_high']))}"
            if overall
            else ""
        ),
        counts=_counts_text(overall) if overall else "The results have no overall row.",
        timing=_timing_text(overall) if overall else None,
        adjustment=_adjustment_text(overall) if overall else None,
        clinics=clinics,
        outliers=_outlier_texts(clinics, higher_is_better),
        without_denominator=len(clinics) - len(plotted),
        chart=chart,
        has_timing=any(c.median_days is not None for c in clinics),
        rate_label=rate_label,
    )


def funnel_curve(overall: Mapping[str, Any], top: int) -> list[dict[str, Any]]:
    """The funnel's limits for clinics of 1 to ``top`` people, by the measures' own method
    around the overall rate, on the reported scale: at every size up to 20, where the funnel
    bends most, and at 60 sizes evenly spaced on a log scale up to ``top``."""
    rate, reported = _value(overall["rate"]), _value(overall["reported_rate"])
    if rate is None or reported is None or top < 1:
        return []
    inverted = abs(reported - rate) > 1e-9
    sizes = {*range(1, min(top, 20) + 1), *(round(top ** (i / 60)) for i in range(61))}
    curve = []
    for n in sorted(sizes):
        limits = statistics.funnel(rate, n)
        point: dict[str, Any] = {"n": n}
        for level in ("95", "998"):
            bounds = limits[level]
            if bounds is None:
                continue
            low, high = (1 - bounds[1], 1 - bounds[0]) if inverted else bounds
            point[f"low_{level}"], point[f"high_{level}"] = low, high
        curve.append(point)
    return curve


NAMED_IN_FUNNEL = 6
"""At most this many clinics are named in a funnel plot: past a handful the names fall on one
another and none can be read (every clinic is listed in the table under the chart)."""


def _named(clinics: Sequence[ClinicResult], centre: float | None) -> set[str]:
    """The clinics outside the 99.8% limits furthest from the overall rate, in standard errors
    of a clinic of their size: the ones a reader should find first."""
    outside = [
        c for c in clinics if c.position == "outside the 99.8% limits" and c.value is not None
    ]
    if centre is None or len(outside) <= NAMED_IN_FUNNEL:
        return {c.clinic_id for c in outside}
    spread = max(centre * (1 - centre), 1e-12)

    def distance(c: ClinicResult) -> float:
        assert c.value is not None  # noqa: S101 - filtered above
        return abs(c.value - centre) * math.sqrt(c.denominator / spread)

    return {c.clinic_id for c in sorted(outside, key=distance, reverse=True)[:NAMED_IN_FUNNEL]}


def _funnel_values(clinics: Sequence[ClinicResult], centre: float | None) -> list[dict[str, Any]]:
    named = _named(clinics, centre)
    return [
        {
            "clinic": c.clinic_id,
            "n": c.denominator,
            "value": c.value,
            "position": c.position,
            "label": c.clinic_id if c.clinic_id in named else "",
        }
        for c in clinics
    ]


def rate_domain(values: Sequence[float]) -> list[float]:
    """The y range of a funnel plot: the clinics' rates and the overall rate, widened to the
    nearest 10% and by 10% when they are all alike, within 0% and 100%. The limits are cut at
    its edges, as they run to 0% and 100% for the smallest clinics."""
    low = math.floor(min(values, default=0.0) * 10 + 1e-9)
    high = math.ceil(max(values, default=1.0) * 10 - 1e-9)
    if high - low < 1:
        low, high = low - 1, high + 1
    return [max(0, low) / 10, min(10, high) / 10]


def _funnel_layers(
    points: list[dict[str, Any]],
    curve: list[dict[str, Any]],
    y: Callable[[str], alt.Y],
    top: int,
) -> list[alt.Chart]:
    ticks = count_ticks(top)
    x = alt.X(
        "n:Q",
        title="People in the denominator",
        axis=alt.Axis(values=ticks, format=",d"),
        scale=alt.Scale(domain=[0, ticks[-1]]),
    )
    lines = alt.Chart(alt.InlineData(values=curve))
    layers = [
        lines.mark_line(color=_GREY, strokeDash=dash, clip=True, interpolate="monotone").encode(
            x=x, y=y(field)
        )
        for field, dash in (
            ("low_998", []),
            ("high_998", []),
            ("low_95", [5, 4]),
            ("high_95", [5, 4]),
        )
    ]
    dots = alt.Chart(alt.InlineData(values=points))
    positions = list(_POSITION_COLOURS)
    layers.append(
        dots.mark_point(filled=True, size=90, opacity=0.9).encode(
            x=x,
            y=y("value"),
            color=alt.Color(
                "position:N",
                title=None,
                scale=alt.Scale(domain=positions, range=list(_POSITION_COLOURS.values())),
            ),
            shape=alt.Shape(
                "position:N",
                title=None,
                scale=alt.Scale(domain=positions, range=list(_POSITION_SHAPES.values())),
            ),
        )
    )
    layers.append(
        dots.mark_text(align="left", dx=7, dy=-7, fontSize=_CHART_FONT - 1, color=_INK).encode(
            x=x, y=y("value"), text="label:N"
        )
    )
    return layers


def _funnel_chart(
    measure_id: str,
    title: str,
    clinics: Sequence[ClinicResult],
    overall: Mapping[str, Any],
    y_title: str,
) -> Chart:
    top = max(c.denominator for c in clinics)
    centre = _value(overall["reported_rate"])
    points, curve = _funnel_values(clinics, centre), funnel_curve(overall, top)
    domain = rate_domain(
        [c.value for c in clinics if c.value is not None] + ([centre] if centre is not None else [])
    )

    def y(field: str) -> alt.Y:
        return alt.Y(
            f"{field}:Q", title=y_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=domain)
        )

    layers = _funnel_layers(points, curve, y, top)
    if centre is not None:
        rule = alt.Chart(alt.InlineData(values=[{"overall": centre}])).mark_rule(color=_INK)
        layers.insert(0, rule.encode(y=y("overall")))
    spec = _config(alt.layer(*layers).properties(width=_CHART_WIDTH, height=300))
    outside_95 = sum(c.position != "within the limits" for c in clinics)
    outside_998 = sum(c.position == "outside the 99.8% limits" for c in clinics)
    summary = (
        f"Funnel plot of {title} for {len(clinics)} clinics against the overall rate "
        f"{_percent(centre)}: {outside_95} outside the 95% limits, {outside_998} of them "
        "outside the 99.8% limits."
    )
    named = (
        "Clinics outside the 99.8% limits are named."
        if outside_998 <= NAMED_IN_FUNNEL
        else f"The {NAMED_IN_FUNNEL} clinics furthest outside the 99.8% limits are named; every "
        "clinic is in the table."
    )
    return Chart(
        id=f"chart-{slug(measure_id)}",
        title=f"{title}: clinics against the overall rate",
        svg=svg_chart(spec, summary),
        summary=summary,
        note=(
            "Each dot is a clinic, placed by its number of people in the denominator and its "
            f"{y_title.lower()}. The solid horizontal line is the overall rate; the dashed "
            f"curves are the 95% limits and the solid curves the 99.8% limits. {named}"
        ),
        columns=("Clinic", "Denominator", y_title, "95% limits", "99.8% limits", "Position"),
        rows=tuple(
            (
                c.clinic_id,
                _count(c.denominator),
                _percent(c.value),
                f"{_percent(c.low_95)} to {_percent(c.high_95)}",
                f"{_percent(c.low_998)} to {_percent(c.high_998)}",
                c.position,
            )
            for c in clinics
        ),
    )


# 3. Outcome questionnaires (PROMs)


@dataclass(frozen=True)
class PromSummary:
    instrument: str
    anchor: str
    name: str
    direction: str
    chart: Chart | None
    completion: tuple[tuple[str, str, str, str], ...]


def check_proms(proms: Table | pl.LazyFrame, table: str = "proms") -> None:
    """Raise ``ReportInputError`` for a missing or mistyped column, an unknown timepoint or a
    row without an instrument; messages name the table as ``table``."""
    frame = _lazy(proms)
    check_columns(frame, PROM_COLUMNS, table)
    _check_values(frame, "timepoint", TIMEPOINTS, table, nullable=False)
    missing = frame.select(pl.col("instrument").null_count()).collect(engine="streaming").item()
    if missing:
        raise ReportInputError(f"{table}: instrument: a row has no instrument")


def mean_with_interval(n: int, mean: float, sd: float | None) -> tuple[float | None, float | None]:
    """The 95% confidence interval of a mean from ``n`` scores, by Student's t distribution;
    ``(None, None)`` for fewer than two scores, whose spread is unknown."""
    if n < 2 or sd is None or math.isnan(sd):
        return None, None
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


_SCORED = "SELECT * FROM proms WHERE completed_on IS NOT NULL AND score IS NOT NULL"


def _means(scores: str) -> str:
    """SQL: the number, mean and standard deviation of ``score`` by ``instrument``, ``grp``
    and ``timepoint`` of the rows of ``scores``.

    Threads add up floating-point numbers in whatever order they finish, which changes the last
    bits of a sum from run to run (and the drawing with them); the scores are therefore counted
    by value first, and the sums taken over those counts in the order of the values."""
    return f"""
WITH counted AS (
    SELECT instrument, grp, timepoint, score, count(*) AS c FROM ({scores}) GROUP BY ALL
),
means AS (
    SELECT instrument, grp, timepoint, sum(c) AS n, sum(score * c ORDER BY score) / sum(c) AS mean
    FROM counted GROUP BY ALL
)
SELECT m.instrument, m.grp, m.timepoint, m.n, m.mean,
       CASE WHEN m.n > 1 THEN sqrt(sum(k.c * (k.score - m.mean) ** 2 ORDER BY k.score)
                                   / (m.n - 1)) END AS sd
FROM means m JOIN counted k ON k.instrument = m.instrument AND k.timepoint = m.timepoint
    AND k.grp IS NOT DISTINCT FROM m.grp
GROUP BY m.instrument, m.grp, m.timepoint, m.n, m.mean
"""  # noqa: S608


_EVERYONE_MEANS = _means(f"SELECT *, 'Everyone' AS grp FROM ({_SCORED})")  # noqa: S608

_GROUP_MEANS = _means(
    f"SELECT s.*, f.row.startback_group AS grp FROM ({_SCORED}) s "  # noqa: S608
    f"JOIN ({_per_person('arg_min', ('startback_group',))}) f ON f.person_id = s.person_id"
)


def _score_groups(con: duckdb.DuckDBPyConnection, by_group: bool) -> list[dict[str, Any]]:
    """The completed, scored questionnaires' number, mean and standard deviation by instrument,
    group and timepoint: everyone, and (with ``by_group``) each STarT Back group at the person's
    first assessment (people the pathway did not assess are in no group)."""
    rows = [{**row, "group": row.pop("grp")} for row in _rows(con, _EVERYONE_MEANS)]
    if by_group:
        for row in _rows(con, _GROUP_MEANS):
            group = STARTBACK_WORDS.get(row.pop("grp"), NOT_ANSWERED)
            rows.append({**row, "group": group})
    return rows


def _trajectory_rows(scored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in scored:
        low, high = mean_with_interval(row["n"], row["mean"], row["sd"])
        rows.append(
            {
                "group": row["group"],
                "timepoint": row["timepoint"],
                "n": row["n"],
                "mean": row["mean"],
                "sd": row["sd"],
                "low": low,
                "high": high,
                "when": TIMEPOINT_WORDS[row["timepoint"]],
            }
        )
    groups = list(_GROUP_COLOURS)
    return sorted(rows, key=lambda r: (groups.index(r["group"]), TIMEPOINTS.index(r["timepoint"])))


def _trajectory_chart(instrument: str, name: str, rows: list[dict[str, Any]]) -> Chart:
    present = [g for g in _GROUP_COLOURS if any(r["group"] == g for r in rows)]
    whens = [TIMEPOINT_WORDS[t] for t in TIMEPOINTS if any(r["timepoint"] == t for r in rows)]
    colour = alt.Color(
        "group:N",
        title=None,
        sort=present,
        scale=alt.Scale(domain=present, range=[_GROUP_COLOURS[g] for g in present]),
    )
    shape = alt.Shape(
        "group:N",
        title=None,
        sort=present,
        scale=alt.Scale(domain=present, range=list(_GROUP_SHAPES[: len(present)])),
    )
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=alt.X(
            "when:N",
            sort=whens,
            title=None,
            # "12 months" on two lines, so four timepoints fit a phone's width.
            axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')"),
        ),
        xOffset=alt.XOffset("group:N", sort=present),
        color=colour,
    )
    y_title = f"Mean {name} score"
    y = alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False))
    layers = [
        base.mark_line(strokeWidth=2).encode(y=y),
        base.mark_rule(strokeWidth=2).encode(y=alt.Y("low:Q", title=y_title), y2="high:Q"),
        base.mark_point(filled=True, size=80, opacity=1).encode(y=y, shape=shape),
    ]
    spec = _config(alt.layer(*layers).properties(width=_CHART_WIDTH, height=280))
    summary = f"Line chart of the mean {name} score by timepoint: " + "; ".join(
        f"{r['group']} at {r['when'].lower()} {_number(r['mean'])} (n={r['n']:,})" for r in rows
    )
    return Chart(
        id=f"chart-trajectory-{slug(instrument)}",
        title=f"{name}: mean score by timepoint",
        svg=svg_chart(spec, summary),
        summary=summary,
        note="Each point is a mean score; the vertical bar through it is its 95% confidence "
        "interval. One line per group.",
        columns=("Group", "Timepoint", "People", "Mean", "95% confidence interval"),
        rows=tuple(
            (
                r["group"],
                r["when"],
                _count(r["n"]),
                _number(r["mean"]),
                f"{_number(r['low'])} to {_number(r['high'])}" if r["low"] is not None else "—",
            )
            for r in rows
        ),
    )


_COMPLETION = """
SELECT instrument, timepoint, count(*) AS due, count(completed_on) AS done
FROM proms GROUP BY instrument, timepoint
"""


def _completion(counts: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str, str, str], ...]:
    by_timepoint = {row["timepoint"]: row for row in counts}
    rows = []
    for timepoint in TIMEPOINTS:
        row = by_timepoint.get(timepoint)
        if row is not None and row["due"]:
            due, done = int(row["due"]), int(row["done"])
            rows.append((TIMEPOINT_WORDS[timepoint], _count(due), _count(done), _share(done, due)))
    return tuple(rows)


def prom_summaries(
    con: duckdb.DuckDBPyConnection, *, by_startback: bool = True
) -> list[PromSummary]:
    """For each instrument of the view ``proms`` of ``con`` (:func:`tables_in`): the mean score
    with its 95% confidence interval at each timepoint (for everyone and, with
    ``by_startback``, per STarT Back group from the view ``pathway``), and how many
    questionnaires due at each timepoint were completed."""
    known = definitions()
    completion = _rows(con, _COMPLETION)
    scored = _score_groups(con, by_startback)
    summaries = []
    for instrument in sorted({row["instrument"] for row in completion}):
        definition = known.get(instrument)
        name = definition.short_name if definition else instrument
        direction = ""
        if definition:
            direction = (
                "Higher scores mean worse." if definition.higher_is_worse else "Higher is better."
            )
        trajectory = _trajectory_rows([r for r in scored if r["instrument"] == instrument])
        chart = _trajectory_chart(instrument, name, trajectory) if trajectory else None
        counts = [row for row in completion if row["instrument"] == instrument]
        summaries.append(
            PromSummary(instrument, slug(instrument), name, direction, chart, _completion(counts))
        )
    return summaries


# Reading the tables


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _add_view(
    con: duckdb.DuckDBPyConnection, name: str, table: Table, columns: Sequence[str]
) -> None:
    listed = ", ".join(f'"{column}"' for column in columns)
    if isinstance(table, pl.DataFrame):
        con.register(f"{name}_frame", table.select(columns).to_arrow())
        source = f"{name}_frame"
    else:
        # A path cannot be a query parameter of a view: it is quoted as a literal instead.
        source = f"read_parquet({literal(str(table))})"
    con.execute(f"CREATE VIEW {name} AS SELECT {listed} FROM {source}")  # noqa: S608


@contextlib.contextmanager
def tables_in(
    pathway: Table,
    proms: Table | None = None,
    *,
    spill_parent: Path | None = None,
    memory_limit: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with the views ``pathway`` and (when given) ``proms``, holding only
    the columns the report reads; past ``memory_limit`` bytes (``memory.memory_limit()`` by
    default) it spills under ``spill_parent``."""
    with memory.connect(spill_parent, limit=memory_limit) as con:
        _add_view(con, "pathway", pathway, list(PATHWAY_COLUMNS))
        if proms is not None:
            _add_view(con, "proms", proms, list(PROM_COLUMNS))
        yield con


# The page


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("spinepath.population", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(
    pathway: Table,
    measures: pl.DataFrame | None = None,
    proms: Table | None = None,
    *,
    inputs: Mapping[str, str] | None = None,
    generated_on: date | None = None,
    by_startback: bool = True,
    spill_parent: Path | None = None,
    memory_limit: int | None = None,
    checked: bool = False,
) -> str:
    """The report as one HTML document, with its styles and charts inside it.

    ``pathway`` is the pathway results table (``tables.PATHWAY``), ``measures`` the measure
    results and ``proms`` the data set's ``proms`` table, each in memory or as a Parquet file;
    a part whose table is ``None`` says it was not given. ``inputs`` names where each table came
    from, for the page's footer. DuckDB spills under ``spill_parent`` (the system's temporary
    directory when none) if the tables outgrow ``memory_limit`` bytes (by default
    ``memory.memory_limit()``). Raises ``ReportInputError``
    naming the table and column for a table the report cannot use; with ``checked``, the caller
    has run :func:`check_pathway` and :func:`check_proms` on them already (each reads columns of
    every row), and they are not run again.
    """
    if not checked:
        check_pathway(pathway)
    measure_parts = measure_summaries(measures) if measures is not None else None
    if proms is not None and not checked:
        check_proms(proms)
    with tables_in(pathway, proms, spill_parent=spill_parent, memory_limit=memory_limit) as con:
        summary = pathway_summary(con)
        prom_parts = prom_summaries(con, by_startback=by_startback) if proms is not None else None
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            pathway=summary,
            measures=measure_parts,
            proms=prom_parts,
            inputs=dict(inputs or {}),
            generated_on=(generated_on or clock.today()).isoformat(),
            by_startback=by_startback,
        )
    )
