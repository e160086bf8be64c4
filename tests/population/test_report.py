"""The population report: the numbers of hand-built tables, every section and chart with its
text alternative, a page that needs no network, escaped clinic ids, and the command's exit
codes."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import spinepath.cli.population_report  # noqa: F401  (adds the command to the group)
from spinepath.cli.population_group import population
from spinepath.population.measures import statistics
from spinepath.population.measures.registry import BY_ID
from spinepath.population.measures.results import MEASURE_RESULTS
from spinepath.population.report import (
    PATHWAY_COLUMNS,
    PROM_COLUMNS,
    ReportInputError,
    count_ticks,
    funnel_curve,
    funnel_position,
    mean_with_interval,
    measure_text,
    rate_domain,
    render_report,
)
from spinepath.population.tables import PATHWAY, PROMS
from support.cli import command_app
from support.memory_limits import recording_limits

ON = date(2025, 3, 1)
ESCAPED_CLINIC = "<b>x</b>"

# person, assessment, assessed on, level, STarT Back group, surgical opinion due, imaging
PATHWAY_ROWS = [
    ("p1", "a1", date(2025, 1, 2), "emergency", "low", True, True),
    ("p2", "a2", date(2025, 1, 3), "urgent", "high", False, True),
    ("p3", "a3", date(2025, 1, 4), "soon", "medium", False, False),
    ("p4", "a4", date(2025, 1, 5), "soon", None, None, False),
    ("p5", "a5", date(2025, 1, 6), "routine", "low", True, False),
    ("p6", "a6", date(2025, 1, 7), "routine", "medium", False, False),
    ("p7", "a7", date(2025, 1, 8), "routine", None, False, False),
    # p8 is counted at the later of two assessments: self-care, low risk, imaging indicated.
    ("p8", "a8", date(2025, 1, 1), "urgent", "high", True, False),
    ("p8", "a9", date(2025, 2, 1), "self_care", "low", False, True),
]

# Counted by hand from PATHWAY_ROWS: 8 people (p8 at a9), shares of 8.
EXPECTED_FUNNEL = [
    ("People assessed", "8", "100.0%"),
    ("Emergency", "1", "12.5%"),
    ("Urgent", "1", "12.5%"),
    ("Soon", "2", "25.0%"),
    ("Routine", "3", "37.5%"),
    ("Self-care", "1", "12.5%"),
    ("Low risk", "3", "37.5%"),
    ("Medium risk", "2", "25.0%"),
    ("High risk", "1", "12.5%"),
    ("Not answered", "2", "25.0%"),
    ("Surgical opinion due", "2", "25.0%"),
    ("Not known", "1", "12.5%"),
    ("Imaging indicated", "3", "37.5%"),
]


def pathway_frame(rows: Sequence[tuple[Any, ...]] = PATHWAY_ROWS) -> pl.DataFrame:
    columns = (
        "person_id",
        "assessment_id",
        "assessed_on",
        "level",
        "startback_group",
        "referral_due",
        "imaging_indicated",
    )
    records = [
        {
            **dict(zip(columns, row, strict=True)),
            "concerns": [],
            "pattern": "non_specific",
            "candidacy": "not_indicated",
            "still_to_ask": [],
            "care_plan": [],
            "not_recommended": [],
        }
        for row in rows
    ]
    return pl.DataFrame(records, schema=dict(PATHWAY))


def measure_row(measure_id: str, clinic_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(MEASURE_RESULTS)
    row.update(measure_id=measure_id, clinic_id=clinic_id, exclusions=0, higher_is_better=True)
    row.update(values)
    row.setdefault("initial_population", row["denominator"])
    return row


def limits(low_95: float, high_95: float, low_998: float, high_998: float) -> dict[str, float]:
    return {
        "funnel_low_95": low_95,
        "funnel_high_95": high_95,
        "funnel_low_998": low_998,
        "funnel_high_998": high_998,
    }


def measures_frame() -> pl.DataFrame:
    """Three measures; every rate, interval and limit is on the reported scale, as the measures
    write them, so the report prints them as they are."""
    rows = [
        # Inverted: 10 of 40 imaged, reported 30 of 40 = 75.0%.
        measure_row(
            "lbp-imaging",
            "ALL",
            initial_population=45,
            exclusions=5,
            denominator=40,
            numerator=10,
            rate=0.25,
            reported_rate=0.75,
            ci_low=0.6,
            ci_high=0.86,
        ),
        # 2 of 20 imaged: 90.0%, inside 55%-95%.
        measure_row(
            "lbp-imaging",
            "A",
            denominator=20,
            numerator=2,
            rate=0.1,
            reported_rate=0.9,
            **limits(0.55, 0.95, 0.45, 0.99),
        ),
        # 8 of 15 imaged: 7 / 15 = 46.7%, below 50% but above 42%.
        measure_row(
            "lbp-imaging",
            "B",
            denominator=15,
            numerator=8,
            rate=8 / 15,
            reported_rate=7 / 15,
            **limits(0.5, 0.95, 0.42, 0.98),
        ),
        # None of 5 imaged: 100.0%, above 99%.
        measure_row(
            "lbp-imaging",
            ESCAPED_CLINIC,
            denominator=5,
            numerator=0,
            rate=0.0,
            reported_rate=1.0,
            **limits(0.3, 0.95, 0.2, 0.99),
        ),
        measure_row("lbp-imaging", "Z", denominator=0, numerator=0),
        # A time to event measure: lower is not better here, higher share seen is.
        measure_row(
            "time-to-surgical-opinion",
            "ALL",
            denominator=8,
            numerator=6,
            rate=0.75,
            reported_rate=0.75,
            ci_low=0.41,
            ci_high=0.93,
            median_days=35.0,
            p25_days=20.0,
            p75_days=60.0,
        ),
        measure_row(
            "time-to-surgical-opinion",
            "A",
            denominator=8,
            numerator=6,
            rate=0.75,
            reported_rate=0.75,
            median_days=35.0,
            **limits(0.4, 1.0, 0.2, 1.0),
        ),
        # Case-mix adjusted: clinic C's crude 50.0% is within the limits, its adjusted 80.0%
        # above them.
        measure_row(
            "prom-mcid-responders",
            "ALL",
            denominator=30,
            numerator=15,
            rate=0.5,
            reported_rate=0.5,
            ci_low=0.33,
            ci_high=0.67,
            expected=15.0,
            adjusted_rate=0.5,
        ),
        measure_row(
            "prom-mcid-responders",
            "C",
            denominator=30,
            numerator=15,
            rate=0.5,
            reported_rate=0.5,
            expected=9.375,
            adjusted_rate=0.8,
            **limits(0.32, 0.68, 0.22, 0.78),
        ),
    ]
    return pl.DataFrame(rows, schema=dict(MEASURE_RESULTS))


def proms_frame() -> pl.DataFrame:
    def prom(person: str, timepoint: str, score: float | None) -> dict[str, Any]:
        return {
            "person_id": person,
            "instrument": "odi",
            "timepoint": timepoint,
            "due_on": date(2025, 1, 1),
            "completed_on": None if score is None else date(2025, 1, 2),
            "score": score,
        }

    rows = [
        prom("p1", "baseline", 10.0),
        prom("p2", "baseline", 20.0),
        prom("p9", "baseline", 30.0),  # not in the pathway table: counted in "Everyone" only
        prom("p1", "6_weeks", 10.0),
        prom("p2", "6_weeks", 14.0),
        prom("p9", "6_weeks", None),
        prom("p1", "12_months", None),
        prom("p2", "12_months", None),
    ]
    return pl.DataFrame(rows, schema=dict(PROMS))


@pytest.fixture(scope="module")
def report() -> str:
    return render_report(
        pathway_frame(),
        measures_frame(),
        proms_frame(),
        inputs={"Pathway results": "pathway.parquet"},
        generated_on=ON,
    )


def table_rows(page: str, table_id: str) -> list[tuple[str, ...]]:
    """The text of every row of the table with ``table_id``, cell by cell."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert table is not None, table_id
    return [
        tuple(html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells)
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
        )
        if cells
    ]


def text_of(page: str) -> str:
    """The page's words, without tags and SVG drawings, entities decoded, spaces collapsed."""
    without_svg = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without_svg)))


# 1. The pathway funnel


def test_the_funnel_counts_each_person_once_with_hand_computed_shares(report: str) -> None:
    rows = [row for row in table_rows(report, "pathway-funnel") if row[1]]
    assert rows[1:] == EXPECTED_FUNNEL


def test_the_funnel_says_how_many_assessments_it_read(report: str) -> None:
    assert "8 people assessed (9 assessments)" in text_of(report)


def test_an_empty_pathway_table_says_so() -> None:
    text = text_of(render_report(pathway_frame([]), generated_on=ON))
    assert "The pathway table has no assessments." in text
    assert "No measure results were given." in text
    assert "No data set was given" in text


def test_empty_measure_results_and_questionnaires_say_so() -> None:
    text = text_of(render_report(pathway_frame(), measures_frame().clear(), proms_frame().clear()))
    assert "The measure results have no rows." in text
    assert "The data set has no outcome questionnaires." in text


def test_an_instrument_with_no_completed_questionnaire_has_no_chart() -> None:
    proms = proms_frame().filter(pl.col("completed_on").is_null())
    page = render_report(pathway_frame(), None, proms, generated_on=ON)
    assert "No questionnaire was completed with a score." in text_of(page)
    assert table_rows(page, "completion-odi")[1:] == [
        ("6 weeks", "1", "0", "0.0%"),
        ("12 months", "2", "0", "0.0%"),
    ]


# 2. Measures


def test_each_measure_shows_its_reported_rate_interval_and_counts(report: str) -> None:
    text = text_of(report)
    assert "Overall: 75.0% 95% confidence interval 60.0% to 86.0%" in text
    assert "Numerator 10 of a denominator of 40 (initial population 45, 5 excluded)." in text
    assert "Median 35 days (25th to 75th centile 20 to 60 days)." in text
    assert "Adjusted for case mix: 50.0% (expected in the numerator: 15.0)." in text


def test_clinics_outside_the_limits_are_listed_with_which_side_and_whether_it_is_better(
    report: str,
) -> None:
    text = text_of(report)
    assert "B: 46.7% of 15 people, outside the 95% limits, below the limits: worse than" in text
    assert (
        f"{ESCAPED_CLINIC}: 100.0% of 5 people, outside the 99.8% limits, above the limits: "
        "better than expected"
    ) in text
    assert "A: 90.0%" not in text
    assert "1 clinic has no one in the denominator and is not plotted." in text


def test_a_funnel_plots_numbers_are_in_a_table_under_it(report: str) -> None:
    rows = table_rows(report, "chart-lbp-imaging-table")
    assert rows[0] == (
        "Clinic",
        "Denominator",
        "Inverted rate",
        "95% limits",
        "99.8% limits",
        "Position",
    )
    assert (
        "B",
        "15",
        "46.7%",
        "50.0% to 95.0%",
        "42.0% to 98.0%",
        "outside the 95% limits",
    ) in rows
    # In order of clinic id ("<" sorts before "A"); Z, with no one in the denominator, is not
    # plotted, so not in the chart's table.
    assert [row[0] for row in rows[1:]] == [ESCAPED_CLINIC, "A", "B"]


def test_a_case_mix_adjusted_measure_compares_the_adjusted_rate(report: str) -> None:
    assert "C: 80.0% of 30 people, outside the 99.8% limits" in text_of(report)


def test_a_measure_with_no_clinic_outside_says_so(report: str) -> None:
    section = report[report.index("time-to-surgical-opinion") :]
    section = section[: section.index("</article>")]
    assert "No clinic is outside the 95% limits." in text_of(section)


def test_every_measure_of_the_definitions_has_a_description() -> None:
    for measure_id, measure in BY_ID.items():
        text = measure_text(measure_id)
        assert text.title == measure.title
        assert "no description" not in text.what, measure_id
        assert text.source.endswith(f"definition: docs/measures/{measure_id}.md"), measure_id


@pytest.mark.parametrize(
    ("measure_id", "words"),
    [
        ("qs155-4a-anticonvulsants", "NICE's statement 4: People are not given paracetamol alone"),
        ("qs155-2-imaging", "statement 2: People with low back pain with or without sciatica"),
        ("prom-completion-6-weeks", "questionnaire due at 6 weeks"),
        ("prom-completion-12-months", "questionnaire due at 12 months"),
        ("lbp-imaging", "within 28 days of the diagnosis"),
    ],
)
def test_measures_are_described_by_their_id(measure_id: str, words: str) -> None:
    assert words in measure_text(measure_id).what


def test_an_unknown_measure_is_shown_under_its_id() -> None:
    text = measure_text("local-measure")
    assert (text.title, text.source) == ("local-measure", "")
    assert "no description" in text.what


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, "within the limits"),
        (0.3, "within the limits"),  # on the lower 95% limit: not beyond it
        (0.7, "within the limits"),
        (0.29, "outside the 95% limits"),
        (0.71, "outside the 95% limits"),
        (0.8, "outside the 95% limits"),  # on the 99.8% limit: not beyond it
        (0.8001, "outside the 99.8% limits"),
        (0.19, "outside the 99.8% limits"),
        (None, "no one in the denominator"),
    ],
)
def test_funnel_position(value: float | None, expected: str) -> None:
    assert funnel_position(value, (0.3, 0.7, 0.2, 0.8)) == expected


@pytest.mark.parametrize("inverted", [False, True])
def test_the_funnel_curves_pass_through_the_limits_the_measures_give_each_clinic(
    inverted: bool,
) -> None:
    overall = {"rate": 0.25, "reported_rate": 0.75 if inverted else 0.25}
    curve = {point["n"]: point for point in funnel_curve(overall, 1000)}
    assert min(curve) == 1
    assert max(curve) == 1000
    assert len(curve) <= 81
    for n in (1, 20, 1000):
        limits = statistics.funnel(0.25, n)
        for level in ("95", "998"):
            low, high = limits[level] or (0.0, 0.0)
            if inverted:
                low, high = 1 - high, 1 - low
            assert curve[n][f"low_{level}"] == pytest.approx(low)
            assert curve[n][f"high_{level}"] == pytest.approx(high)


def test_only_the_clinics_furthest_outside_are_named_in_a_crowded_funnel() -> None:
    # Twelve clinics outside the 99.8% limits around 50%: the six furthest in standard errors
    # are named in the drawing (a small clinic far off can be nearer than a large one close by);
    # every clinic stays in the table.
    clinics = {
        f"far-{i:02d}": (400 * (i + 1), 0.5 + (-1) ** i * (0.06 + 0.005 * i)) for i in range(12)
    }
    rows = [
        measure_row(
            "lbp-imaging", "ALL", denominator=30_000, numerator=15_000, rate=0.5, reported_rate=0.5
        )
    ]
    for clinic, (people, rate) in clinics.items():
        rows.append(
            measure_row(
                "lbp-imaging",
                clinic,
                denominator=people,
                numerator=round(people * (1 - rate)),
                rate=1 - rate,
                reported_rate=rate,
                **limits(0.49, 0.51, 0.48, 0.52),
            )
        )
    page = render_report(
        pathway_frame(),
        pl.DataFrame(rows, schema=MEASURE_RESULTS),
        None,
        inputs={"Pathway results": "pathway.parquet"},
        generated_on=ON,
    )
    figure = re.search(r'<figure id="chart-lbp-imaging" class="chart">(.*?)</figure>', page, re.S)
    assert figure is not None
    drawing = figure.group(1).split("<details>")[0]
    table = figure.group(1).split("<details>")[1]
    by_distance = sorted(
        clinics, key=lambda c: abs(clinics[c][1] - 0.5) * clinics[c][0] ** 0.5, reverse=True
    )
    assert {c for c in clinics if c in drawing} == set(by_distance[:6])
    assert all(c in table for c in clinics)
    assert "The 6 clinics furthest outside the 99.8% limits are named" in text_of(figure.group(1))


def test_no_funnel_is_drawn_without_an_overall_rate() -> None:
    assert funnel_curve({"rate": None, "reported_rate": None}, 50) == []


def test_a_missing_limit_is_not_crossed() -> None:
    assert funnel_position(0.99, (None, None, None, None)) == "within the limits"


# 3. PROMs


def test_prom_means_and_intervals_are_those_computed_by_hand(report: str) -> None:
    rows = table_rows(report, "chart-trajectory-odi-table")
    # Baseline 10, 20, 30: mean 20, sd 10, t(0.975, 2) = 4.303, half-width 4.303 * 10 / √3 =
    # 24.84. 6 weeks 10, 14: mean 12, sd 2.828, t(0.975, 1) = 12.706, half-width 25.41.
    assert ("Everyone", "Baseline", "3", "20.0", "-4.8 to 44.8") in rows
    assert ("Everyone", "6 weeks", "2", "12.0", "-13.4 to 37.4") in rows
    # p1 is low risk at the first assessment, p2 high risk; one score has no interval.
    assert ("Low risk", "Baseline", "1", "10.0", "—") in rows
    assert ("High risk", "6 weeks", "1", "14.0", "—") in rows
    assert not any(row[1] == "12 months" for row in rows)


def test_prom_completion_by_timepoint(report: str) -> None:
    assert table_rows(report, "completion-odi") == [
        ("Timepoint", "Due", "Completed", "Share"),
        ("Baseline", "3", "3", "100.0%"),
        ("6 weeks", "3", "2", "66.7%"),
        ("12 months", "2", "0", "0.0%"),
    ]


def test_a_report_from_parquet_files_is_the_one_from_tables_in_memory(
    tmp_path: Path, report: str
) -> None:
    # Only the columns the report reads are written: it must need no other.
    pathway, proms = tmp_path / "pathway.parquet", tmp_path / "proms.parquet"
    pathway_frame().select(list(PATHWAY_COLUMNS)).write_parquet(pathway)
    proms_frame().select(list(PROM_COLUMNS)).write_parquet(proms)
    page = render_report(
        pathway,
        measures_frame(),
        proms,
        inputs={"Pathway results": "pathway.parquet"},
        generated_on=ON,
    )
    # vl-convert numbers its clip paths across the process: the drawings are otherwise alike.
    assert re.sub(r"clip\d+", "clip", page) == re.sub(r"clip\d+", "clip", report)


def test_the_startback_groups_can_be_left_out() -> None:
    page = render_report(pathway_frame(), None, proms_frame(), generated_on=ON, by_startback=False)
    groups = {row[0] for row in table_rows(page, "chart-trajectory-odi-table")[1:]}
    assert groups == {"Everyone"}


@pytest.mark.parametrize(
    ("n", "sd", "low", "high"),
    [(3, 10.0, 20 - 24.841, 20 + 24.841), (2, 2**1.5, 20 - 25.412, 20 + 25.412)],
)
def test_mean_with_interval_uses_students_t(n: int, sd: float, low: float, high: float) -> None:
    found = mean_with_interval(n, 20.0, sd)
    assert found[0] == pytest.approx(low, abs=1e-3)
    assert found[1] == pytest.approx(high, abs=1e-3)


def test_one_score_has_no_interval() -> None:
    assert mean_with_interval(1, 20.0, None) == (None, None)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(2, 5000),
    mean=st.floats(-100, 100),
    sd=st.floats(0.01, 50),
)
def test_the_interval_is_centred_on_the_mean_and_narrows_with_more_scores(
    n: int, mean: float, sd: float
) -> None:
    low, high = mean_with_interval(n, mean, sd)
    wider_low, wider_high = mean_with_interval(n + 1, mean, sd)
    assert low is not None
    assert high is not None
    assert wider_low is not None
    assert wider_high is not None
    assert low < mean < high
    assert mean - low == pytest.approx(high - mean)
    assert wider_high - wider_low < high - low


# The page as a whole


def test_every_section_is_present(report: str) -> None:
    for section in ("pathway", "measures", "proms"):
        assert f'<section id="{section}"' in report
    for title in ("Use of imaging studies for low back pain", "Seen by a spinal surgeon"):
        assert title in report


def test_every_chart_is_inline_svg_with_a_label_and_a_table_of_its_numbers(report: str) -> None:
    figures = re.findall(r'<figure id="([^"]+)" class="chart">(.*?)</figure>', report, re.S)
    # The urgency levels, three funnel plots, one PROM trajectory.
    assert [name for name, _ in figures] == [
        "chart-levels",
        "chart-lbp-imaging",
        "chart-time-to-surgical-opinion",
        "chart-prom-mcid-responders",
        "chart-trajectory-odi",
    ]
    for name, body in figures:
        svg = re.search(r"<svg\b([^>]*)>", body)
        assert svg is not None, name
        assert 'role="img"' in svg.group(1), name
        assert re.search(r'aria-label="[^"]{20,}"', svg.group(1)), name
        assert "viewBox=" in svg.group(1), name
        # Scales with the page: the drawing's fixed size is gone from its root element.
        assert not re.search(r'\s(width|height)="', svg.group(1)), name
        assert re.search(r"<details>\s*<summary>The numbers in this chart</summary>", body), name
        assert "<table" in body, name


def test_the_page_needs_no_network_and_no_javascript(report: str) -> None:
    assert "<script" not in report.lower()
    assert "<link" not in report.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", report, re.I)
    assert not re.search(r"""url\(\s*['"]?(?!#)""", report, re.I)
    assert not re.search(r"@import", report, re.I)
    # Sources are cited as text, not as links to follow.
    assert "https://www.ncqa.org/hedis/measures/use-of-imaging-studies-for-low-back-pain/" in report


def test_clinic_ids_are_shown_as_text(report: str) -> None:
    assert ESCAPED_CLINIC not in report
    escaped = html.escape(ESCAPED_CLINIC, quote=False)
    # In the list of outliers, the clinics' table and the label drawn in the funnel plot.
    assert report.count(escaped) >= 3


def test_the_page_is_one_column_that_fits_a_phone(report: str) -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in report
    assert "overflow-x: auto" in report
    assert re.search(r"figure svg \{[^}]*width: 100%", report)


# Bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("level"), "pathway: wrong or missing columns: level (missing)"),
        (
            lambda f: f.with_columns(pl.lit(1).alias("level")),
            "pathway: wrong or missing columns: level (Int32 instead of text)",
        ),
        (
            lambda f: f.with_columns(pl.lit("critical").alias("level")),
            "pathway: level: unknown value 'critical'",
        ),
        (
            lambda f: f.with_columns(pl.lit(None, pl.String).alias("level")),
            "pathway: level: unknown value empty",
        ),
        (
            lambda f: f.with_columns(pl.lit("very_high").alias("startback_group")),
            "pathway: startback_group: unknown value 'very_high'",
        ),
    ],
)
def test_a_pathway_table_the_report_cannot_use_is_refused_naming_the_column(
    change: Any, message: str
) -> None:
    with pytest.raises(ReportInputError) as error:
        render_report(change(pathway_frame()), generated_on=ON)
    assert message in str(error.value)


def test_measures_without_a_column_are_refused_naming_it() -> None:
    with pytest.raises(ReportInputError, match=r"measures: .*centile \(missing\)"):
        render_report(pathway_frame(), measures_frame().drop("centile"), generated_on=ON)


def test_proms_with_an_unknown_timepoint_are_refused_naming_it() -> None:
    proms = proms_frame().with_columns(pl.lit("2_years").alias("timepoint"))
    with pytest.raises(ReportInputError, match=r"proms: timepoint: unknown value '2_years'"):
        render_report(pathway_frame(), None, proms, generated_on=ON)


# Axis ticks


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_count_ticks_are_few_whole_and_evenly_spaced_from_zero_past_the_top(top: int) -> None:
    ticks = count_ticks(top)
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert ticks[0] == 0
    assert ticks[-1] >= top
    assert 2 <= len(ticks) <= 6
    assert len(steps) == 1
    step = steps.pop()
    assert ticks[-1] - step < max(top, 1)
    assert step / 10 ** (len(str(step)) - 1) in (1, 2, 5)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_the_funnel_plot_range_holds_every_rate_in_tenths_within_0_and_1(
    rates: list[float],
) -> None:
    low, high = rate_domain(rates)
    assert 0 <= low <= min(rates)
    assert max(rates) <= high <= 1
    assert high - low >= 0.1 - 1e-9
    for end in (low, high):
        assert end * 10 == pytest.approx(round(end * 10))


# The command


@pytest.fixture
def files(tmp_path: Path) -> Path:
    pathway_frame().write_parquet(tmp_path / "pathway.parquet")
    (tmp_path / "measures").mkdir()
    measures_frame().write_parquet(tmp_path / "measures" / "measures.parquet")
    (tmp_path / "dataset").mkdir()
    proms_frame().write_parquet(tmp_path / "dataset" / "proms.parquet")
    return tmp_path


def run(*args: str | Path) -> Any:
    group = typer.Typer()
    group.add_typer(population)
    return CliRunner().invoke(command_app(group), ["population", "report", *map(str, args)])


def test_the_command_writes_the_report(files: Path) -> None:
    out = files / "report.html"
    result = run(
        "--pathway",
        files / "pathway.parquet",
        "--measures",
        files / "measures",
        "--dataset",
        files / "dataset",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert ("Emergency", "1", "12.5%") in table_rows(page, "pathway-funnel")
    assert "Overall: 75.0%" in text_of(page)
    assert table_rows(page, "completion-odi")[1] == ("Baseline", "3", "3", "100.0%")
    assert str(files / "measures" / "measures.parquet") in page
    assert "rows/s" in result.stderr


def test_the_measures_may_be_given_as_their_file(files: Path) -> None:
    out = files / "report.html"
    result = run(
        "--pathway",
        files / "pathway.parquet",
        "--measures",
        files / "measures" / "measures.parquet",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "No data set was given" in out.read_text(encoding="utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--pathway", "missing.parquet"], "--pathway {dir}/missing.parquet: no such file"),
        (
            ["--pathway", "measures/measures.parquet"],
            "--pathway {dir}/measures/measures.parquet: wrong or missing columns: person_id",
        ),
        (
            ["--pathway", "pathway.parquet", "--measures", "dataset"],
            "--measures {dir}/dataset/measures.parquet: no such file",
        ),
        (
            ["--pathway", "pathway.parquet", "--measures", "pathway.parquet"],
            "--measures {dir}/pathway.parquet: wrong or missing columns: measure_id (missing)",
        ),
        (
            ["--pathway", "pathway.parquet", "--dataset", "measures"],
            "--dataset {dir}/measures: no proms.parquet",
        ),
        (
            ["--pathway", "pathway.parquet", "--dataset", "nowhere"],
            "--dataset {dir}/nowhere: no such directory",
        ),
        (["--pathway", "not-parquet.txt"], "--pathway {dir}/not-parquet.txt: cannot be read"),
    ],
)
def test_bad_input_exits_2_naming_the_file_and_writes_nothing(
    files: Path, arguments: list[str], message: str
) -> None:
    (files / "not-parquet.txt").write_text("not a table", encoding="utf-8")
    out = files / "report.html"
    out.write_text("the report from before", encoding="utf-8")
    paths = [str(files / a) if not a.startswith("--") else a for a in arguments]
    result = run(*paths, "--out", out)
    assert result.exit_code == 2, result.output
    assert message.format(dir=files) in _flat(result.stderr)
    assert "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "the report from before"


def test_an_unknown_level_in_the_pathway_file_exits_2_naming_it(files: Path) -> None:
    bad = files / "bad.parquet"
    pathway_frame().with_columns(pl.lit("critical").alias("level")).write_parquet(bad)
    result = run("--pathway", bad, "--out", files / "report.html")
    assert result.exit_code == 2
    assert f"--pathway {bad}: level: unknown value 'critical'" in _flat(result.stderr)
    assert not (files / "report.html").exists()


def test_the_report_is_never_written_over_an_input(files: Path) -> None:
    pathway = files / "pathway.parquet"
    before = pathway.read_bytes()
    result = run("--pathway", pathway, "--out", pathway)
    assert result.exit_code == 2
    assert "it is the input file" in _flat(result.stderr)
    assert pathway.read_bytes() == before


def test_the_memory_limit_reaches_duckdb(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = recording_limits(monkeypatch)
    out = files / "report.html"
    result = run(
        "--pathway", files / "pathway.parquet", "--dataset", files / "dataset", "--out", out,
        "--memory-limit", "1.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert limits == [int(1.5 * 1024**3)]
    assert [p.name for p in files.iterdir() if p.name.startswith(".")] == []  # no spill left


def test_a_memory_limit_too_small_is_refused(files: Path) -> None:
    out = files / "report.html"
    result = run("--pathway", files / "pathway.parquet", "--out", out, "--memory-limit", "0.1")
    assert result.exit_code == 2
    assert "--memory-limit must be at least 0.25" in _flat(result.stderr)
    assert not out.exists()
