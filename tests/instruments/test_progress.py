"""Change from baseline, MCID responder flags and the follow-up schedule."""

from __future__ import annotations

from datetime import date

import pytest

from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.progress import (
    SERIES_ADAPTER,
    InstrumentProgress,
    ProgressPoint,
    ScheduleOffset,
    SeriesEntry,
    parse_schedule,
    progress,
)

from .answers import NDI_ITEMS, ODI_SECTIONS, spread

TODAY = date(2026, 6, 1)


def entry(day: date, instrument: str, value: float) -> SeriesEntry:
    return SeriesEntry(date=day, instrument=instrument, score=value)


def follow_up(
    instrument: str, baseline: float, later: float
) -> tuple[InstrumentProgress, ProgressPoint]:
    report = progress(
        [entry(date(2026, 1, 1), instrument, baseline), entry(date(2026, 3, 1), instrument, later)],
        today=TODAY,
    )
    return report.series[0], report.series[0].points[1]


# ODI: MCID 10 points and 30% (Ostelo 2008); responder needs both.
@pytest.mark.parametrize(
    ("baseline", "later", "absolute", "relative", "responder"),
    [
        (50, 35, True, True, True),  # 15 points, 30%
        (50, 40, True, False, False),  # 10 points, 20%
        (30, 21, False, True, False),  # 9 points, 30%
        (30, 20, True, True, True),  # 10 points, 33%
        (40, 38, False, False, False),
    ],
)
def test_odi_responder_needs_both_the_absolute_and_the_relative_threshold(
    baseline: float, later: float, absolute: bool, relative: bool, responder: bool
) -> None:
    series, point = follow_up("odi", baseline, later)
    assert (point.absolute_mcid_met, point.relative_mcid_met, point.responder) == (
        absolute,
        relative,
        responder,
    )
    assert point.change == later - baseline
    assert "OSTELO-2008" in series.mcid.responder_definition


def test_change_is_measured_on_the_scored_percentage_for_odi_answers() -> None:
    entries = [
        SeriesEntry(date=date(2026, 1, 1), instrument="odi", answers=spread(ODI_SECTIONS, 25)),
        SeriesEntry(
            date=date(2026, 2, 12),
            instrument="odi",
            answers={**spread(ODI_SECTIONS[:9], 16), "travelling": None},
        ),
    ]
    point = progress(entries, today=TODAY).series[0].points[1]
    # 50% -> 35.56%: 14.4 points and 28.9% improvement.
    assert point.improvement == pytest.approx(50 - 1600 / 45)
    assert point.absolute_mcid_met is True
    assert point.relative_mcid_met is False


def test_an_exact_30_percent_improvement_counts_despite_floating_point() -> None:
    _, point = follow_up("rmdq", 10, 7)  # 3 of 10 = 30%; absolute 3 < 5
    assert point.relative_mcid_met is True
    assert point.absolute_mcid_met is False


def test_ndi_uses_the_absolute_threshold_only_and_says_so() -> None:
    series, point = follow_up("ndi", 20, 15)
    assert point.absolute_mcid_met is True
    assert point.relative_mcid_met is None
    assert point.responder is True
    assert "No relative threshold" in series.mcid.responder_definition


def test_worsening_by_the_mcid_is_flagged_as_deterioration() -> None:
    _, point = follow_up("nrs_back", 4, 6)
    assert point.deteriorated is True
    assert point.responder is False


def test_a_zero_baseline_has_no_relative_change() -> None:
    _, point = follow_up("nrs_back", 0, 0)
    assert point.relative_improvement is None
    assert point.relative_mcid_met is False


def test_unverified_thresholds_are_labelled_in_the_definition_text() -> None:
    series, _ = follow_up("nrs_arm", 6, 3)
    assert "unverified" in series.mcid.responder_definition


def test_startback_shows_change_without_responder_status() -> None:
    answers = {f"q{n}": n < 6 for n in range(1, 9)} | {"q9": "slightly"}
    later = {f"q{n}": False for n in range(1, 9)} | {"q9": "slightly"}
    report = progress(
        [
            SeriesEntry(date=date(2026, 1, 1), instrument="startback", answers=answers),
            SeriesEntry(date=date(2026, 2, 1), instrument="startback", answers=later),
        ],
        today=TODAY,
    )
    point = report.series[0].points[1]
    assert point.change == -5
    assert point.responder is None
    assert report.series[0].mcid.absolute is None


def test_baseline_is_the_earliest_valid_response_whatever_the_input_order() -> None:
    report = progress(
        [
            entry(date(2026, 3, 1), "odi", 30),
            SeriesEntry(date=date(2025, 12, 1), instrument="odi", answers={"lifting": 3}),
            entry(date(2026, 1, 1), "odi", 44),
        ],
        today=TODAY,
    )
    series = report.series[0]
    assert series.baseline_date == date(2026, 1, 1)
    assert [p.valid for p in series.points] == [False, True, True]
    assert series.points[0].reason is not None


def test_each_instrument_forms_its_own_series() -> None:
    report = progress(
        [entry(date(2026, 1, 1), "odi", 40), entry(date(2026, 1, 1), "nrs_leg", 7)], today=TODAY
    )
    assert [s.instrument for s in report.series] == ["odi", "nrs_leg"]


def test_it_rejects_a_score_outside_the_instrument_range() -> None:
    with pytest.raises(InstrumentError, match="score 60 is out of range 0-50"):
        progress([entry(date(2026, 1, 1), "ndi", 60)], today=TODAY)


def test_it_rejects_two_responses_on_the_same_day() -> None:
    with pytest.raises(InstrumentError, match="same date"):
        progress(
            [entry(date(2026, 1, 1), "odi", 40), entry(date(2026, 1, 1), "odi", 30)], today=TODAY
        )


def test_startback_needs_answers_rather_than_a_score() -> None:
    with pytest.raises(InstrumentError, match="give answers"):
        progress([entry(date(2026, 1, 1), "startback", 4)], today=TODAY)


def test_an_entry_needs_exactly_one_of_answers_or_score() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SERIES_ADAPTER.validate_json('[{"date": "2026-01-01", "instrument": "odi"}]')


def test_series_dates_must_be_iso_dates() -> None:
    with pytest.raises(ValueError, match="date"):
        SERIES_ADAPTER.validate_json('[{"date": "01/02/2026", "instrument": "odi", "score": 3}]')


# --- schedule ---------------------------------------------------------------------------------


def test_the_default_schedule_is_baseline_6_weeks_3_6_12_and_24_months() -> None:
    report = progress([entry(date(2026, 1, 31), "odi", 40)], today=date(2026, 2, 1))
    schedule = report.series[0].schedule
    assert [v.label for v in schedule] == [
        "baseline",
        "6 weeks",
        "3 months",
        "6 months",
        "12 months",
        "24 months",
    ]
    assert [v.target for v in schedule] == [
        date(2026, 1, 31),
        date(2026, 3, 14),
        date(2026, 4, 30),  # 31 April does not exist: clamped to the month end
        date(2026, 7, 31),
        date(2027, 1, 31),
        date(2028, 1, 31),
    ]


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 2, 27), "upcoming"),  # window opens 28 Feb (target 14 Mar - 14 days)
        (date(2026, 2, 28), "due"),
        (date(2026, 3, 28), "due"),  # last day of the window
        (date(2026, 3, 29), "overdue"),
    ],
)
def test_a_follow_up_is_upcoming_due_or_overdue_relative_to_today(today: date, status: str) -> None:
    report = progress([entry(date(2026, 1, 31), "odi", 40)], today=today)
    assert report.series[0].schedule[1].status == status


def test_a_response_inside_the_window_completes_the_follow_up() -> None:
    report = progress(
        [entry(date(2026, 1, 31), "odi", 40), entry(date(2026, 3, 20), "odi", 30)],
        today=date(2026, 12, 1),
    )
    six_weeks = report.series[0].schedule[1]
    assert (six_weeks.status, six_weeks.completed_on) == ("completed", date(2026, 3, 20))


def test_the_schedule_and_tolerance_are_configurable() -> None:
    report = progress(
        [entry(date(2026, 1, 1), "odi", 40)],
        today=date(2026, 1, 20),
        schedule=parse_schedule("0d, 2w, 1m"),
        tolerance_days=3,
    )
    schedule = report.series[0].schedule
    assert [(v.label, v.target, v.status) for v in schedule] == [
        ("baseline", date(2026, 1, 1), "completed"),
        ("2 weeks", date(2026, 1, 15), "overdue"),
        ("1 month", date(2026, 2, 1), "upcoming"),
    ]


@pytest.mark.parametrize("text", ["", "6x", "three months", "6w,,3m"])
def test_it_rejects_a_malformed_schedule(text: str) -> None:
    with pytest.raises(InstrumentError, match="schedule"):
        parse_schedule(text)


def test_calendar_months_clamp_to_the_end_of_a_short_month() -> None:
    assert ScheduleOffset(amount=1, unit="m").after(date(2028, 1, 31)) == date(2028, 2, 29)
    assert ScheduleOffset(amount=12, unit="m").after(date(2028, 2, 29)) == date(2029, 2, 28)


def test_ndi_answers_are_scored_on_the_raw_total() -> None:
    report = progress(
        [
            SeriesEntry(date=date(2026, 1, 1), instrument="ndi", answers=spread(NDI_ITEMS, 24)),
            SeriesEntry(date=date(2026, 2, 1), instrument="ndi", answers=spread(NDI_ITEMS, 18)),
        ],
        today=TODAY,
    )
    point = report.series[0].points[1]
    assert (point.score, point.improvement, point.responder) == (18, 6, True)
