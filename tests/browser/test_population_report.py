"""The population report in Chromium, on a 390 px phone and a desktop: it loads nothing from the
network, runs without JavaScript, nothing is wider than the screen, the charts scale to the
column, the text is at least 16 px, and axe finds no serious accessibility problem.

Screenshots: population-report-phone.png and population-report-desktop.png in the shots
directory."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from spinepath.population.measures import statistics
from spinepath.population.measures.results import MEASURE_RESULTS
from spinepath.population.report import render_report
from spinepath.population.tables import PATHWAY, PROMS, TIMEPOINTS
from support.browser import PHONE

from .pages import serious_accessibility_violations

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LONG_CLINIC = "clinic-with-a-long-identifier-that-has-no-spaces-in-it-at-all-0001"
LEVELS = ("emergency", "urgent", "soon", "routine", "routine", "routine", "self_care")
GROUPS = ("low", "low", "medium", "high", None)


def _pathway(rng: random.Random, people: int) -> pl.DataFrame:
    rows: list[dict[str, Any]] = [
        {
            "person_id": f"p{i}",
            "assessment_id": f"a{i}",
            "assessed_on": date(2025, 1, 1) + timedelta(days=i % 200),
            "level": rng.choice(LEVELS),
            "concerns": [],
            "pattern": "non_specific",
            "candidacy": "not_indicated",
            "referral_due": rng.random() < 0.05,
            "imaging_indicated": rng.random() < 0.1,
            "startback_group": rng.choice(GROUPS),
            "still_to_ask": [],
            "care_plan": [],
            "not_recommended": [],
        }
        for i in range(people)
    ]
    return pl.DataFrame(rows, schema=dict(PATHWAY))


def _measure_rows(
    rng: random.Random, measure_id: str, clinics: list[str], *, inverted: bool, higher: bool
) -> list[dict[str, Any]]:
    """Counts drawn per clinic; intervals and limits by the measures' own statistics, on the
    reported scale as the measures write them."""
    drawn = []
    for clinic in clinics:
        n = rng.randint(3, 400)
        drawn.append((clinic, n, min(n, max(0, round(n * rng.uniform(0.15, 0.45))))))
    total_n, total_k = sum(n for _, n, _ in drawn), sum(k for *_, k in drawn)
    p0 = total_k / total_n
    rows = []
    for clinic, n, k in [("ALL", total_n, total_k), *drawn]:

        def reported(bounds: tuple[float, float] | None) -> tuple[Any, Any]:
            if bounds is None:
                return None, None
            return (1 - bounds[1], 1 - bounds[0]) if inverted else bounds

        ci, funnel = reported(statistics.wilson(k, n)), statistics.funnel(p0, n)
        f95, f998 = reported(funnel["95"]), reported(funnel["998"])
        rate = k / n
        rows.append(
            {
                **dict.fromkeys(MEASURE_RESULTS),
                "measure_id": measure_id,
                "clinic_id": clinic,
                "initial_population": n + 2,
                "denominator": n,
                "exclusions": 2,
                "numerator": k,
                "rate": rate,
                "reported_rate": 1 - rate if inverted else rate,
                "ci_low": ci[0],
                "ci_high": ci[1],
                "funnel_low_95": f95[0],
                "funnel_high_95": f95[1],
                "funnel_low_998": f998[0],
                "funnel_high_998": f998[1],
                "centile": None if clinic == "ALL" else rng.uniform(0, 100),
                "higher_is_better": higher,
            }
        )
    return rows


def _proms(rng: random.Random, people: int) -> pl.DataFrame:
    rows = []
    for i in range(people):
        for instrument in ("odi", "nrs_back"):
            start = rng.uniform(20, 60) if instrument == "odi" else rng.uniform(4, 9)
            for step, timepoint in enumerate(TIMEPOINTS):
                done = rng.random() < 0.9 - 0.15 * step
                rows.append(
                    {
                        "person_id": f"p{i}",
                        "instrument": instrument,
                        "timepoint": timepoint,
                        "due_on": date(2025, 1, 1),
                        "completed_on": date(2025, 1, 2) if done else None,
                        "score": max(0.0, start * (1 - 0.12 * step)) if done else None,
                    }
                )
    return pl.DataFrame(rows, schema=dict(PROMS))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(20250301)  # noqa: S311  (reproducible test data, not secrets)
    clinics = [f"clinic-{i:02d}" for i in range(30)] + [LONG_CLINIC, "<b>x</b>"]
    measures = [
        *_measure_rows(rng, "lbp-imaging", clinics, inverted=True, higher=True),
        *_measure_rows(rng, "qs155-2-imaging", clinics, inverted=False, higher=False),
        *_measure_rows(rng, "ng59-exercise", clinics, inverted=False, higher=True),
    ]
    page = render_report(
        _pathway(rng, 2000),
        pl.DataFrame(measures, schema=dict(MEASURE_RESULTS)),
        _proms(rng, 300),
        inputs={"Pathway results": "/a/rather/long/path/to/the/population/run/pathway.parquet"},
        generated_on=date(2025, 3, 1),
    )
    path = tmp_path_factory.mktemp("population-report") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _open(browser: Browser, report: Path, viewport: ViewportSize) -> tuple[Page, list[str]]:
    """The report in a context without JavaScript; every request it makes is refused and
    recorded, since an offline page must make none."""
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    page = context.new_page()
    requests: list[str] = []

    def refuse(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    page.route("**/*", refuse)
    page.set_content(report.read_text(encoding="utf-8"), wait_until="load")
    return page, requests


def _check_layout(page: Page, viewport: ViewportSize) -> None:
    width = viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("window.innerWidth") == width
    for box in page.locator("figure svg").evaluate_all(
        "svgs => svgs.map(s => s.getBoundingClientRect().toJSON())"
    ):
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        assert box["width"] > 0.5 * min(width, 480)
    sizes = page.locator("p, li, td, th, summary").evaluate_all(
        "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))"
    )
    assert min(sizes) >= 16


@pytest.mark.parametrize(
    ("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)], ids=["phone", "desktop"]
)
def test_the_report_fits_the_screen_offline_without_javascript(
    browser: Browser, report: Path, shots: Path, name: str, viewport: ViewportSize
) -> None:
    page, requests = _open(browser, report, viewport)
    try:
        _check_layout(page, viewport)
        # A wide table scrolls inside its own box, not the page.
        details = page.locator("details").filter(has_text="Every clinic's result").first
        details.locator("summary").click()
        assert details.get_attribute("open") is not None
        _check_layout(page, viewport)
        page.screenshot(path=str(shots / f"population-report-{name}.png"), full_page=True)
        assert requests == []
    finally:
        page.context.close()


def test_axe_finds_no_serious_problem(browser: Browser, report: Path) -> None:
    # axe needs JavaScript; the report itself has none.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content(report.read_text(encoding="utf-8"))
        assert serious_accessibility_violations(page) == []
    finally:
        context.close()
