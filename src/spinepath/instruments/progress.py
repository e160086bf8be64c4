"""Progress over time: change from baseline, MCID responder status and the follow-up schedule.

Input is a series of dated responses, each either item answers (scored here) or an already
computed primary score. Each instrument forms its own series; its baseline is its earliest
validly scored entry. All our outcome measures are "higher is worse", so improvement is
``baseline - score``.

Responder status reports both published thresholds separately (absolute MCID and relative
improvement) and, where the instrument has both, calls a person a responder only when both are
met (Ostelo 2008). The definition used is spelled out in every result.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from spinepath.instruments import catalogue
from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.models import InstrumentDefinition
from spinepath.instruments.scoring import BandResult, band_for, score

# Floating-point slack for threshold comparisons (e.g. 35.56 - 25.56 must count as 10 points).
_EPSILON = 1e-9
DEFAULT_SCHEDULE = "0d,6w,3m,6m,12m,24m"
DEFAULT_TOLERANCE_DAYS = 14
"""An operational default (not a clinical figure): a follow-up counts as done within ±14 days."""


class SeriesEntry(BaseModel):
    """One dated response: ``answers`` to score, or an already computed ``score``."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    date: date
    instrument: str
    answers: dict[str, Any] | None = None
    score: float | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SeriesEntry:
        if (self.answers is None) == (self.score is None):
            raise ValueError("give exactly one of 'answers' or 'score'")
        return self


SERIES_ADAPTER = TypeAdapter(list[SeriesEntry])


class ScheduleOffset(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: int = Field(ge=0)
    unit: Literal["d", "w", "m"]

    @property
    def label(self) -> str:
        if self.amount == 0:
            return "baseline"
        names = {"d": "day", "w": "week", "m": "month"}
        return f"{self.amount} {names[self.unit]}{'s' if self.amount != 1 else ''}"

    def after(self, start: date) -> date:
        if self.unit == "d":
            return start + timedelta(days=self.amount)
        if self.unit == "w":
            return start + timedelta(weeks=self.amount)
        months = start.month - 1 + self.amount
        year, month = start.year + months // 12, months % 12 + 1
        return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def parse_schedule(text: str) -> tuple[ScheduleOffset, ...]:
    """Parses ``"0d,6w,3m,6m,12m,24m"`` (d = days, w = weeks, m = calendar months)."""
    offsets = []
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(r"(\d+)\s*([dwm])", part)
        if match is None:
            raise InstrumentError(f"schedule: {part!r} is not like 6w, 3m or 0d")
        offsets.append(ScheduleOffset.model_validate({"amount": int(match[1]), "unit": match[2]}))
    if not offsets:
        raise InstrumentError("schedule: at least one time point is needed")
    return tuple(offsets)


class ScheduledVisit(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    target: date
    window_start: date
    window_end: date
    status: Literal["completed", "due", "overdue", "upcoming"]
    completed_on: date | None = None


class McidUsed(BaseModel):
    model_config = ConfigDict(frozen=True)

    absolute: float | None
    relative: float | None
    scale: str | None
    sources: list[str]
    responder_definition: str


class ProgressPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: date
    valid: bool
    reason: str | None = None
    score: float | None = None
    band: BandResult | None = None
    is_baseline: bool = False
    days_from_baseline: int | None = None
    change: float | None = Field(default=None, description="score - baseline")
    improvement: float | None = Field(default=None, description="baseline - score")
    relative_improvement: float | None = None
    absolute_mcid_met: bool | None = None
    relative_mcid_met: bool | None = None
    responder: bool | None = None
    deteriorated: bool | None = None


class InstrumentProgress(BaseModel):
    model_config = ConfigDict(frozen=True)

    instrument: str
    name: str
    short_name: str
    version: str
    score_unit: str
    score_min: float
    score_max: float
    baseline_date: date | None
    baseline_score: float | None
    mcid: McidUsed
    points: list[ProgressPoint]
    schedule: list[ScheduledVisit]
    licence_notice: str


class ProgressReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    today: date
    series: list[InstrumentProgress]


def _mcid_used(definition: InstrumentDefinition) -> McidUsed:
    mcid = definition.mcid
    if definition.rates_change:
        # A rating of change is read as it is: its bands say what counts as improved.
        rule = definition.bands.rule if definition.bands else "no interpretation bands."
        return McidUsed(
            absolute=None,
            relative=None,
            scale=None,
            sources=sorted(definition.bands.sources) if definition.bands else [],
            responder_definition=(
                f"{definition.short_name} rates change itself: each answer is read on its own, "
                f"not against a baseline. {rule}"
            ),
        )
    if mcid is None:
        return McidUsed(
            absolute=None,
            relative=None,
            scale=None,
            sources=[],
            responder_definition=(
                f"{definition.short_name} has no minimal clinically important change: "
                "change is shown without responder status."
            ),
        )
    sources = sorted(set(mcid.sources) | set(mcid.relative_sources))
    absolute = (
        f"improvement of at least {mcid.absolute:g} ({mcid.scale}; {', '.join(mcid.sources)})"
    )
    if mcid.relative is None:
        text = f"Responder: {absolute}. No relative threshold is defined for this instrument."
    else:
        relative = (
            f"at least {mcid.relative:.0%} improvement from baseline "
            f"({', '.join(mcid.relative_sources)})"
        )
        text = f"Responder: both an {absolute} and {relative}."
    if mcid.verification == "U":
        text += " Threshold unverified for this measure: " + (mcid.note or "")
    return McidUsed(
        absolute=mcid.absolute,
        relative=mcid.relative,
        scale=mcid.scale,
        sources=sources,
        responder_definition=text,
    )


def _scored_point(definition: InstrumentDefinition, entry: SeriesEntry) -> ProgressPoint:
    if entry.answers is not None:
        result = score(definition, entry.answers)
        return ProgressPoint(
            date=entry.date,
            valid=result.valid,
            reason=result.reason,
            score=result.score,
            band=result.band,
        )
    value = entry.score
    if value is None:
        raise ValueError("value is missing")
    low, high = definition.scoring.primary_min, definition.scoring.primary_max
    if not low <= value <= high:
        raise InstrumentError(
            f"{definition.code} on {entry.date}: score {value:g} is out of range {low:g}-{high:g}"
        )
    if definition.bands is not None and definition.bands.applies_to == "risk_group":
        raise InstrumentError(
            f"{definition.code} on {entry.date}: give answers, not a score "
            "(the risk group needs the item answers)"
        )
    return ProgressPoint(date=entry.date, valid=True, score=value, band=band_for(definition, value))


def _with_change(
    definition: InstrumentDefinition, point: ProgressPoint, baseline: ProgressPoint
) -> ProgressPoint:
    if baseline.score is None:
        raise ValueError("baseline.score is missing")
    if not point.valid or point.score is None:
        return point
    change = point.score - baseline.score
    improvement = baseline.score - point.score if definition.higher_is_worse else change
    relative = improvement / baseline.score if baseline.score != 0 else None
    update: dict[str, Any] = {
        "days_from_baseline": (point.date - baseline.date).days,
        "change": change,
        "improvement": improvement,
        "relative_improvement": relative,
        "is_baseline": point is baseline,
    }
    mcid = definition.mcid
    if mcid is not None and point is not baseline:
        absolute_met = improvement >= mcid.absolute - _EPSILON
        update["absolute_mcid_met"] = absolute_met
        update["deteriorated"] = -improvement >= mcid.absolute - _EPSILON
        if mcid.relative is None:
            update["responder"] = absolute_met
        else:
            relative_met = relative is not None and relative >= mcid.relative - _EPSILON
            update["relative_mcid_met"] = relative_met
            update["responder"] = absolute_met and relative_met
    return point.model_copy(update=update)


def scheduled_visits(
    baseline: date,
    entries: Sequence[date],
    offsets: Sequence[ScheduleOffset],
    tolerance_days: int,
    today: date,
) -> list[ScheduledVisit]:
    """Each time point after ``baseline``: completed by a response in its window, else its status
    on ``today``."""
    tolerance = timedelta(days=tolerance_days)
    visits = []
    for offset in offsets:
        target = offset.after(baseline)
        start, end = target - tolerance, target + tolerance
        done = sorted((d for d in entries if start <= d <= end), key=lambda d: abs(d - target))
        if done:
            status: Literal["completed", "due", "overdue", "upcoming"] = "completed"
        elif today < start:
            status = "upcoming"
        elif today <= end:
            status = "due"
        else:
            status = "overdue"
        visits.append(
            ScheduledVisit(
                label=offset.label,
                target=target,
                window_start=start,
                window_end=end,
                status=status,
                completed_on=done[0] if done else None,
            )
        )
    return visits


def progress(
    entries: Sequence[SeriesEntry],
    *,
    today: date,
    schedule: Sequence[ScheduleOffset] | None = None,
    tolerance_days: int = DEFAULT_TOLERANCE_DAYS,
) -> ProgressReport:
    """Builds the progress report for every instrument in ``entries``."""
    if tolerance_days < 0:
        raise InstrumentError("tolerance_days must be 0 or more")
    offsets = tuple(schedule) if schedule is not None else parse_schedule(DEFAULT_SCHEDULE)
    by_instrument: dict[str, list[SeriesEntry]] = {}
    for entry in entries:
        code = catalogue.get(entry.instrument).code
        by_instrument.setdefault(code, []).append(entry)
    series = []
    for code, group in by_instrument.items():
        definition = catalogue.get(code)
        ordered = sorted(group, key=lambda e: e.date)
        dates = [e.date for e in ordered]
        if len(set(dates)) != len(dates):
            raise InstrumentError(f"{code}: more than one response on the same date")
        points = [_scored_point(definition, e) for e in ordered]
        baseline = (
            None
            if definition.rates_change
            else next((p for p in points if p.valid and p.score is not None), None)
        )
        if baseline is not None:
            points = [_with_change(definition, p, baseline) for p in points]
        series.append(
            InstrumentProgress(
                instrument=code,
                name=definition.name,
                short_name=definition.short_name,
                version=definition.version,
                score_unit=definition.scoring.unit,
                score_min=definition.scoring.primary_min,
                score_max=definition.scoring.primary_max,
                baseline_date=baseline.date if baseline else None,
                baseline_score=baseline.score if baseline else None,
                mcid=_mcid_used(definition),
                points=points,
                schedule=(
                    scheduled_visits(baseline.date, dates, offsets, tolerance_days, today)
                    if baseline
                    else []
                ),
                licence_notice=definition.licence.notice,
            )
        )
    return ProgressReport(today=today, series=series)
