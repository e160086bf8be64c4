"""Trajectory plots (PNG or SVG, rendered offline) with the MCID band shaded around baseline."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from spinepath.extras import needs_extra
from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.progress import InstrumentProgress, ProgressReport

with needs_extra("plots", "Trajectory plots"):
    import altair as alt
    import vl_convert as vlc

FORMATS = (".png", ".svg")


def _series_chart(series: InstrumentProgress) -> alt.LayerChart | alt.Chart | alt.FacetChart:
    rows = [
        {"date": p.date.isoformat(), "score": p.score, "band": p.band.label if p.band else ""}
        for p in series.points
        if p.valid and p.score is not None
    ]
    y_scale = alt.Scale(domain=[series.score_min, series.score_max])
    y_title = f"{series.short_name} ({series.score_unit})"
    base = alt.Chart(alt.InlineData(values=rows))
    line = base.mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        x=alt.X("date:T", title="Date"),
        y=alt.Y("score:Q", scale=y_scale, title=y_title),
        tooltip=["date:T", "score:Q", "band:N"],
    )
    title: dict[str, Any] = {"text": f"{series.name} ({series.version})"}
    layers: list[alt.Chart] = []
    subtitle: list[str] = []
    absolute = series.mcid.absolute
    if series.baseline_score is not None and absolute is not None:
        low = max(series.score_min, series.baseline_score - absolute)
        high = min(series.score_max, series.baseline_score + absolute)
        band = alt.Chart(alt.InlineData(values=[{"low": low, "high": high}])).mark_rect(
            opacity=0.18, color="#4c78a8"
        )
        layers.append(band.encode(y=alt.Y("low:Q", scale=y_scale), y2="high:Q"))
        baseline = alt.Chart(alt.InlineData(values=[{"baseline": series.baseline_score}]))
        layers.append(
            baseline.mark_rule(strokeDash=[4, 4], color="#4c78a8").encode(
                y=alt.Y("baseline:Q", scale=y_scale)
            )
        )
        subtitle.append(
            f"Shaded: within {absolute:g} of baseline (MCID; {', '.join(series.mcid.sources)})"
        )
    # The licence notice travels with every display of an instrument, plots included.
    subtitle += textwrap.wrap(series.licence_notice, width=110)
    title["subtitle"] = subtitle
    title["subtitleFontSize"] = 9
    chart = alt.layer(*layers, line) if layers else line
    return chart.properties(width=620, height=220, title=title)


def trajectory_spec(report: ProgressReport) -> dict[str, Any]:
    """The Vega-Lite specification: one panel per instrument, stacked vertically."""
    if not report.series:
        raise InstrumentError("progress: nothing to plot (no responses)")
    panels = [_series_chart(s) for s in report.series]
    chart = alt.vconcat(*panels) if len(panels) > 1 else panels[0]
    spec: dict[str, Any] = chart.to_dict()
    return spec


def save_plot(report: ProgressReport, path: Path) -> Path:
    """Writes the trajectory plot as PNG or SVG, chosen by the file suffix."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InstrumentError(f"--plot: {path.name} must end in .png or .svg")
    spec = trajectory_spec(report)
    if suffix == ".png":
        data: bytes = vlc.vegalite_to_png(spec, scale=2)
    else:
        data = vlc.vegalite_to_svg(spec).encode("utf-8")
    # Write to a sibling temporary file first so a failure leaves nothing half-written.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path
