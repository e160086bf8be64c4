"""Trajectory plots are written as real PNG/SVG files with the data points and MCID band."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.plot import save_plot, trajectory_spec
from spinepath.instruments.progress import ProgressReport, SeriesEntry, progress

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report() -> ProgressReport:
    entries = [
        SeriesEntry(date=date(2026, 1, 5), instrument="odi", score=46),
        SeriesEntry(date=date(2026, 2, 16), instrument="odi", score=38),
        SeriesEntry(date=date(2026, 4, 5), instrument="odi", score=24),
        SeriesEntry(date=date(2026, 1, 5), instrument="nrs_leg", answers={"intensity": 8}),
    ]
    return progress(entries, today=date(2026, 5, 1))


def test_it_writes_a_png(tmp_path: Path, report: ProgressReport) -> None:
    path = save_plot(report, tmp_path / "trajectory.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_it_writes_an_svg_with_every_data_point(tmp_path: Path, report: ProgressReport) -> None:
    path = save_plot(report, tmp_path / "trajectory.svg")
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314 - our own plot
    assert root.tag.endswith("svg")
    labels = [e.get("aria-label", "") for e in root.iter()]
    for value in ("46", "38", "24"):
        assert any(f"score: {value};" in label for label in labels), value
    # The shaded MCID band spans baseline 46 +/- 10 ODI points.
    assert any("low: 36; high: 56" in label for label in labels)


def test_the_band_is_clipped_to_the_scale(tmp_path: Path, report: ProgressReport) -> None:
    svg = save_plot(report, tmp_path / "trajectory.svg").read_text(encoding="utf-8")
    assert "low: 6; high: 10" in svg  # leg pain 8 +/- 2, capped at the scale maximum 10


def test_the_spec_has_one_panel_per_instrument(report: ProgressReport) -> None:
    assert len(trajectory_spec(report)["vconcat"]) == 2


def test_it_refuses_other_file_types_and_writes_nothing(
    tmp_path: Path, report: ProgressReport
) -> None:
    with pytest.raises(InstrumentError, match=r"\.png or \.svg"):
        save_plot(report, tmp_path / "trajectory.pdf")
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_an_empty_report(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="nothing to plot"):
        save_plot(progress([], today=date(2026, 1, 1)), tmp_path / "x.png")
