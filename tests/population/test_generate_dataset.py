"""The synthetic population data set: every table conforms to the data model, the tables join up,
the dates make sense, the intakes are the NDJSON intakes, the configured shares come out, the
clinics differ, and the command writes the directory all or nothing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency  # type: ignore[import-untyped, unused-ignore]
from typer.testing import CliRunner

from spinepath.instruments import catalogue
from spinepath.population import generate_dataset
from spinepath.population.care_codes import SYSTEM_URIS, CareCodeError, coded, load_codes
from spinepath.population.care_plan import CareSettings, calibrated, care_plan, clinic_id
from spinepath.population.events_base import Case
from spinepath.population.events_treatment import imaging_group
from spinepath.population.generate import SUBGROUPS, labelled_people, load_cohort, ndjson_chunks
from spinepath.population.generate_dataset import dataset_chunks, write_dataset
from spinepath.population.generate_events import CareEvents, episode_code_id, startback_group
from spinepath.population.tables import (
    CONDITION_CATEGORIES,
    DRUG_CLASSES,
    PROCEDURE_KINDS,
    TABLES,
    TIMEPOINTS,
    conform,
    scan,
    table_path,
)

COHORT = 20_000
SEED = 5
YEAR = 2025
Tables = dict[str, pl.DataFrame]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """A 20,000-person data set, written and read back through the data model's ``scan``."""
    directory = tmp_path_factory.mktemp("dataset")
    write_dataset(directory, COHORT, SEED, settings=CareSettings(clinics=40, year=YEAR))
    return {table: scan(directory, table).collect() for table in TABLES}


def _concat(count: int, seed: int, chunk: int, clinics: int = 40) -> Tables:
    parts: dict[str, list[pl.DataFrame]] = {table: [] for table in TABLES}
    for _, tables in dataset_chunks(
        count, seed, chunk=chunk, settings=CareSettings(clinics=clinics)
    ):
        for table, frame in tables.items():
            parts[table].append(frame)
    return {table: pl.concat(frames) for table, frames in parts.items()}


def _day(value: date) -> int:
    return value.toordinal()


# --- the data model ---------------------------------------------------------------------------


def test_every_table_is_written_with_exactly_its_columns_and_types(dataset: Tables) -> None:
    for table, frame in dataset.items():
        assert frame.schema == pl.Schema(TABLES[table]), table
        assert conform(table, frame).equals(frame), table
        assert frame.height > 0, table


def test_categorical_columns_hold_only_the_data_models_values(dataset: Tables) -> None:
    assert set(dataset["people"]["sex"]) <= {"female", "male", "other", "unknown"}
    assert set(dataset["episodes"]["region"]) == {"low_back", "neck", "upper_back"}
    assert set(dataset["episodes"]["setting"]) <= {
        "outpatient",
        "emergency",
        "telehealth",
        "specialist",
    }
    assert set(dataset["conditions"]["category"]) <= set(CONDITION_CATEGORIES)
    assert set(dataset["imaging"]["modality"]) == {"xray", "ct", "mri"}
    assert set(dataset["imaging"]["body_site"]) == {"lumbar", "thoracic", "cervical"}
    assert set(dataset["imaging"]["ordered_by_setting"]) == {
        "primary_care",
        "specialist",
        "emergency",
    }
    assert set(dataset["medications"]["drug_class"]) <= set(DRUG_CLASSES)
    assert set(dataset["procedures"]["kind"]) <= set(PROCEDURE_KINDS)
    assert set(dataset["referrals"]["kind"]) <= {
        "surgical_opinion",
        "physiotherapy",
        "pain_service",
    }
    assert set(dataset["proms"]["timepoint"]) == set(TIMEPOINTS)


def test_every_coded_row_carries_a_code_of_the_codes_file(dataset: Tables) -> None:
    known = {(entry.system_uri, entry.code) for entry in load_codes().values()}
    for table in ("episodes", "conditions", "imaging", "medications", "procedures", "referrals"):
        pairs = set(dataset[table].select("code_system", "code").unique().iter_rows())
        assert pairs <= known, (table, pairs - known)
        assert {system for system, _ in pairs} <= set(SYSTEM_URIS.values())


def test_the_instruments_are_ids_of_spinepaths_registry_and_fit_the_region(
    dataset: Tables,
) -> None:
    regions = dict(
        dataset["episodes"].filter(_index_episode()).select("person_id", "region").iter_rows()
    )
    by_person: dict[str, set[str]] = {}
    for person, instrument in dataset["proms"].select("person_id", "instrument").iter_rows():
        by_person.setdefault(person, set()).add(instrument)
    expected = {
        "low_back": {"odi", "nrs_back"},
        "neck": {"ndi", "nrs_neck"},
        "upper_back": {"nrs_back"},
    }
    assert all(by_person[p] == expected[regions[p]] for p in regions)
    for code in ("odi", "ndi", "nrs_back", "nrs_neck"):
        catalogue.get(code)  # raises for an id the registry does not have


# --- joins ------------------------------------------------------------------------------------


def _index_episode() -> pl.Expr:
    return pl.col("episode_id").str.ends_with("-1")


def test_people_are_unique_and_every_row_belongs_to_a_person(dataset: Tables) -> None:
    people = dataset["people"]["person_id"]
    assert people.n_unique() == people.len() == COHORT
    assert people[0] == "p0000001"
    assert people[COHORT - 1] == f"p{COHORT:07d}"
    known = set(people)
    for table in TABLES:
        assert set(dataset[table]["person_id"]) <= known, table


def test_each_assessment_points_at_the_persons_own_index_episode(dataset: Tables) -> None:
    episodes = dataset["episodes"]
    assert episodes["episode_id"].n_unique() == episodes.height
    assessments = dataset["assessments"]
    assert assessments.height == COHORT
    assert assessments["assessment_id"].n_unique() == COHORT
    joined = assessments.join(episodes, on=["person_id", "episode_id"], how="left")
    assert joined["region"].null_count() == 0
    assert joined["episode_id"].str.ends_with("-1").all()
    index = episodes.filter(_index_episode())
    assert index["person_id"].n_unique() == index.height == COHORT


def test_clinics_are_the_configured_number_with_unequal_sizes(dataset: Tables) -> None:
    sizes = dataset["people"]["clinic_id"].value_counts()
    assert sizes.height == 40
    assert set(sizes["clinic_id"]) == {f"c{i:03d}" for i in range(1, 41)}
    counts = sorted(sizes["count"])
    # Equal clinics would hold 500 each, give or take about 45 (two binomial SDs).
    assert counts[-1] > 2 * counts[0], counts


# --- dates ------------------------------------------------------------------------------------


def test_onset_precedes_diagnosis_and_matches_the_intakes_duration(dataset: Tables) -> None:
    index = dataset["episodes"].filter(_index_episode())
    weeks = dataset["assessments"].select(
        "person_id",
        pl.col("intake").struct.field("regions").list.first().struct.field("duration_weeks"),
    )
    joined = index.join(weeks, on="person_id")
    days = (pl.col("diagnosis_date") - pl.col("onset_date")).dt.total_days()
    # onset = diagnosis - 7 x weeks - 0..6 days, so whole weeks elapsed = the intake's weeks.
    assert joined.select((days // 7 == pl.col("duration_weeks")).all()).item()
    first, last = index["diagnosis_date"].min(), index["diagnosis_date"].max()
    assert first is not None
    assert last is not None
    assert (first, last) == (date(YEAR, 1, 1), date(YEAR, 12, 31))


def test_an_earlier_episode_ended_before_the_current_pain_began(dataset: Tables) -> None:
    episodes = dataset["episodes"]
    prior = episodes.filter(~_index_episode())
    joined = prior.join(episodes.filter(_index_episode()), on="person_id", suffix="_index")
    gap = (pl.col("onset_date_index") - pl.col("diagnosis_date")).dt.total_days()
    gaps = joined.select(gap).to_series().to_list()
    assert min(gaps) >= 30
    assert max(gaps) <= 720
    assert (joined["onset_date"] <= joined["diagnosis_date"]).all()
    since = (pl.col("diagnosis_date_index") - pl.col("diagnosis_date")).dt.total_days()
    spans = joined.select(since).to_series()
    # Some inside and some outside HEDIS's 180-day negative diagnosis history.
    assert (spans <= 180).any()
    assert (spans > 180).any()


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_the_birth_date_gives_the_intakes_age_on_the_diagnosis_date(dataset: Tables) -> None:
    ages = dataset["assessments"].select("person_id", pl.col("intake").struct.field("age"))
    index = dataset["episodes"].filter(_index_episode()).select("person_id", "diagnosis_date")
    joined = dataset["people"].join(index, on="person_id").join(ages, on="person_id")
    wrong = [
        row
        for row in joined.iter_rows(named=True)
        if _age(row["birth_date"], row["diagnosis_date"]) != row["age"]
    ]
    assert not wrong, wrong[:3]


def test_the_assessment_is_on_or_soon_after_the_diagnosis(dataset: Tables) -> None:
    index = dataset["episodes"].filter(_index_episode())
    joined = dataset["assessments"].join(index, on=["person_id", "episode_id"])
    delay = joined.select((pl.col("assessed_on") - pl.col("diagnosis_date")).dt.total_days())
    delays = delay.to_series().to_list()
    assert min(delays) == 0
    assert max(delays) == 14


def _days_after_diagnosis(dataset: Tables, table: str, column: str) -> pl.DataFrame:
    index = dataset["episodes"].filter(_index_episode()).select("person_id", "diagnosis_date")
    return (
        dataset[table]
        .join(index, on="person_id")
        .with_columns(days=(pl.col(column) - pl.col("diagnosis_date")).dt.total_days())
    )


def test_imaging_falls_within_28_days_or_on_day_29_to_60(dataset: Tables) -> None:
    days = _days_after_diagnosis(dataset, "imaging", "performed_on")["days"].to_list()
    assert min(days) == 0
    assert max(days) == 60
    assert 28 in days
    assert 29 in days


def test_conditions_are_recorded_before_within_and_after_the_first_28_days(
    dataset: Tables,
) -> None:
    days = _days_after_diagnosis(dataset, "conditions", "recorded_on")["days"]
    assert (days < 0).any()
    assert days.is_between(0, 28).any()
    assert (days > 28).any()
    trauma = _days_after_diagnosis(dataset, "conditions", "recorded_on").filter(
        pl.col("category") == "trauma"
    )
    # Recent injuries fall inside CMS166's 90-day trauma look-back, old ones outside it.
    assert trauma["days"].is_between(-90, 0).any()
    assert (trauma["days"] < -90).any()
    assert (trauma["ended_on"] > trauma["recorded_on"]).all()


def test_proms_are_due_on_the_schedule_and_completed_after_their_due_date(
    dataset: Tables,
) -> None:
    proms = dataset["proms"].join(
        dataset["assessments"].select("person_id", "assessed_on"), on="person_id"
    )
    offsets = {"baseline": 0, "6_weeks": 42, "3_months": 91, "12_months": 365}
    for timepoint, offset in offsets.items():
        rows = proms.filter(pl.col("timepoint") == timepoint)
        due = (rows["due_on"] - rows["assessed_on"]).dt.total_days()
        assert (due == offset).all(), timepoint
    late = (proms["completed_on"] - proms["due_on"]).dt.total_days().drop_nulls().to_list()
    assert min(late) == 0
    assert max(late) == 21
    assert (proms["completed_on"].is_null() == proms["score"].is_null()).all()


def test_scores_stay_within_each_instruments_scale(dataset: Tables) -> None:
    proms = dataset["proms"].drop_nulls("score")
    for instrument, rows in proms.group_by("instrument"):
        scoring = catalogue.get(str(instrument[0])).scoring
        scores = rows["score"].to_list()
        assert min(scores) >= scoring.primary_min
        assert max(scores) <= scoring.primary_max
    odi = proms.filter(pl.col("instrument") == "odi")["score"]
    assert (odi % 2 == 0).all()  # the ODI % is the 0-50 section sum times 2


def test_the_baseline_pain_rating_is_the_intakes_own_rating(dataset: Tables) -> None:
    intensity = dataset["assessments"].select(
        "person_id",
        pl.col("intake").struct.field("regions").list.first().struct.field("intensity"),
    )
    baseline = dataset["proms"].filter(
        (pl.col("timepoint") == "baseline") & pl.col("instrument").str.starts_with("nrs_")
    )
    joined = baseline.drop_nulls("score").join(intensity, on="person_id")
    assert (joined["score"] == joined["intensity"]).all()


def test_disability_improves_on_average_and_some_people_do_not_improve(dataset: Tables) -> None:
    odi = dataset["proms"].filter(pl.col("instrument") == "odi").drop_nulls("score")
    means = dict(odi.group_by("timepoint").agg(pl.col("score").mean()).iter_rows())
    assert means["baseline"] > means["6_weeks"] > means["3_months"] > means["12_months"]
    wide = odi.pivot(on="timepoint", index="person_id", values="score").drop_nulls(
        ["baseline", "12_months"]
    )
    change = (wide["baseline"] - wide["12_months"]).to_list()
    assert sum(c >= 10 for c in change) / len(change) > 0.4  # most pass the ODI MCID of 10
    assert sum(c <= 0 for c in change) / len(change) > 0.1  # and some do not improve at all


# --- the intakes ------------------------------------------------------------------------------


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def test_each_intake_is_the_ndjson_intake_of_the_same_person(dataset: Tables) -> None:
    lines = "".join(text for _, text in ndjson_chunks(COHORT, SEED)).splitlines()
    intakes = dataset["assessments"]["intake"].to_list()
    assert len(lines) == len(intakes) == COHORT
    # The column holds the intake model's nesting; a question left out of the line is null.
    for i in range(0, COHORT, 97):
        assert _drop_nulls(intakes[i]) == json.loads(lines[i]), i


# --- determinism --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_tables_whatever_the_chunk_size() -> None:
    # 2,500 people span three events blocks of 1,024; 333 and 1,000 cut across them.
    whole = _concat(2_500, 4, chunk=2_500)
    for chunk in (333, 1_000):
        parts = _concat(2_500, 4, chunk=chunk)
        for table in TABLES:
            assert parts[table].equals(whole[table]), (chunk, table)


def test_worker_processes_draw_the_same_rows_as_one_process() -> None:
    serial = _concat(2_500, 6, chunk=1_000)
    parts: dict[str, list[pl.DataFrame]] = {table: [] for table in TABLES}
    chunks = dataset_chunks(2_500, 6, chunk=1_000, workers=2, settings=CareSettings(clinics=40))
    sizes = []
    for people, tables in chunks:
        sizes.append(people)
        for table, frame in tables.items():
            parts[table].append(frame)
    # Worker chunks are whole events blocks of 1,024 people.
    assert sizes == [1_024, 1_024, 452]
    for table in TABLES:
        assert pl.concat(parts[table]).equals(serial[table]), table


def test_files_are_written_in_whole_row_groups_whatever_the_chunks(tmp_path: Path) -> None:
    whole = _concat(90, 3, chunk=90, clinics=3)
    with generate_dataset.ParquetTables(tmp_path, row_group=7) as writer:
        for _, tables in dataset_chunks(90, 3, chunk=11, settings=CareSettings(clinics=3)):
            writer.write(tables)
    for table in TABLES:
        rows = whole[table].height
        if rows == 0:
            continue
        metadata = pq.ParquetFile(table_path(tmp_path, table)).metadata
        groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert groups == [7] * (rows // 7) + ([rows % 7] if rows % 7 else []), table
        assert scan(tmp_path, table).collect().equals(whole[table]), table


def test_a_chunk_drawn_alone_must_start_a_block() -> None:
    events = CareEvents(1)
    events.start_at(2 * 1_024)
    with pytest.raises(ValueError, match="multiple of 1024"):
        events.start_at(1_000)


def test_only_large_cohorts_use_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert generate_dataset.default_workers(49_999) == 0
    assert generate_dataset.default_workers(50_000) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert generate_dataset.default_workers(1_000_000) == 0


def test_different_seeds_give_different_care() -> None:
    first, second = _concat(200, 1, chunk=200), _concat(200, 2, chunk=200)
    assert not first["medications"].equals(second["medications"])


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    count=st.integers(min_value=1, max_value=60),
    chunk=st.integers(min_value=1, max_value=70),
)
def test_chunking_never_changes_the_rows(seed: int, count: int, chunk: int) -> None:
    whole = _concat(count, seed, chunk=count, clinics=3)
    parts = _concat(count, seed, chunk=chunk, clinics=3)
    for table in TABLES:
        assert parts[table].equals(whole[table]), table
    assert whole["people"].height == count


# --- configured shares ----------------------------------------------------------------------------


def _group_of(dataset: Tables) -> pl.DataFrame:
    """Each person's imaging group, recomputed from the drawn subgroup and the intake."""
    clinic = CareEvents(SEED).clinics[0]
    groups = []
    for i, (subgroup, intake) in enumerate(labelled_people(COHORT, SEED)):
        case = Case(f"p{i + 1:07d}", subgroup, intake, clinic, "", 0, "", "", 0, 0, "")
        groups.append((case.person_id, imaging_group(case)))
    return pl.DataFrame(groups, schema=["person_id", "group"], orient="row")


def test_imaging_within_28_days_comes_out_at_the_configured_shares(dataset: Tables) -> None:
    figure = load_cohort().figures["imaging_within_28_days"].mix()
    imaged = (
        _days_after_diagnosis(dataset, "imaging", "performed_on")
        .filter(pl.col("days") <= 28)
        .select("person_id")
        .unique()
        .with_columns(imaged=pl.lit(True))
    )
    people = _group_of(dataset).join(imaged, on="person_id", how="left").fill_null(False)
    for group in ("non_specific", "non_specific_red_flag", "radicular"):
        rows = people.filter(pl.col("group") == group)
        share = rows["imaged"].mean()
        assert isinstance(share, float)
        # Binomial SD at these group sizes is at most about 0.012; clinic sizes add a little.
        assert abs(share - figure[group]) < 0.03, (group, rows.height, share)


def test_opioids_among_people_with_chronic_pain_come_out_at_the_configured_share(
    dataset: Tables,
) -> None:
    chronic_above = load_cohort().figures["duration_bands_weeks"].mix()["chronic_above"]
    figure = load_cohort().figures["opioid_share_by_duration"].mix()["chronic"]
    weeks = dataset["assessments"].select(
        "person_id",
        pl.col("intake").struct.field("regions").list.first().struct.field("duration_weeks"),
    )
    chronic = weeks.filter(pl.col("duration_weeks") > chronic_above)
    opioid = (
        dataset["medications"].filter(pl.col("drug_class") == "opioid").select("person_id").unique()
    )
    share = chronic.join(opioid, on="person_id", how="semi").height / chronic.height
    # About 6,000 people with chronic pain: binomial SD about 0.006.
    assert abs(share - figure) < 0.02, (chronic.height, share)


def test_prom_completion_falls_by_timepoint_at_the_configured_shares(dataset: Tables) -> None:
    figure = load_cohort().figures["prom_completion_share"].mix()
    one_per_person = dataset["proms"].filter(pl.col("instrument").str.starts_with("nrs_"))
    shares = dict(
        one_per_person.group_by("timepoint")
        .agg(pl.col("completed_on").is_not_null().mean())
        .iter_rows()
    )
    for timepoint in TIMEPOINTS:
        # 20,000 people: binomial SD at most 0.0035.
        assert abs(shares[timepoint] - figure[timepoint]) < 0.015, (timepoint, shares)


def test_clinics_differ_in_practice_beyond_chance(dataset: Tables) -> None:
    answered = dataset["assessments"].filter(
        pl.col("intake").struct.field("startback").is_not_null()
    )
    stratified = (
        dataset["procedures"]
        .filter(pl.col("kind") == "risk_stratification")
        .select("person_id")
        .with_columns(done=pl.lit(True))
    )
    people = (
        answered.select("person_id")
        .join(dataset["people"].select("person_id", "clinic_id"), on="person_id")
        .join(stratified, on="person_id", how="left")
        .fill_null(False)
    )
    table = people.group_by("clinic_id").agg(
        pl.col("done").sum().alias("yes"), (~pl.col("done")).sum().alias("no")
    )
    _, p_value, _, _ = chi2_contingency(table.select("yes", "no").to_numpy())
    assert p_value < 1e-6
    rates = table.select(pl.col("yes") / (pl.col("yes") + pl.col("no"))).to_series().to_list()
    assert max(rates) - min(rates) > 0.2


# --- the pieces, by hand --------------------------------------------------------------------------


@given(
    share=st.floats(min_value=0.001, max_value=0.999),
    offsets=st.lists(st.floats(min_value=-3, max_value=3), min_size=1, max_size=8),
    data=st.data(),
)
def test_calibration_keeps_the_weighted_mean_and_the_clinic_order(
    share: float, offsets: list[float], data: st.DataObject
) -> None:
    raw = data.draw(
        st.lists(
            st.floats(min_value=0.01, max_value=1), min_size=len(offsets), max_size=len(offsets)
        )
    )
    weights = [w / sum(raw) for w in raw]
    shares = calibrated(share, offsets, weights)
    assert abs(sum(w * s for w, s in zip(weights, shares, strict=True)) - share) < 1e-9
    # A clinic with a larger offset never gets a smaller share.
    by_offset = [s for _, s in sorted(zip(offsets, shares, strict=True))]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(by_offset))


def test_calibration_of_no_offsets_is_the_share_itself() -> None:
    assert calibrated(0.3, [0.0, 0.0, 0.0], [0.2, 0.3, 0.5]) == pytest.approx([0.3, 0.3, 0.3])
    assert calibrated(0.0, [1.0, -1.0], [0.5, 0.5]) == [0.0, 0.0]
    assert calibrated(1.0, [1.0, -1.0], [0.5, 0.5]) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("agree", "bothersome", "group"),
    [
        # Keele: psychosocial subscale (items 5-9) 4 or 5 is high; else total 0-3 low, 4-9 medium.
        ((), "not_at_all", "low"),
        ((1, 2, 3), "slightly", "low"),
        ((1, 2, 3, 4), "moderately", "medium"),
        ((1, 2, 3), "very_much", "medium"),
        ((5, 6, 7), "extremely", "high"),
        ((5, 6, 7, 8), "not_at_all", "high"),
        ((1, 2, 3, 4, 5, 6, 7), "moderately", "medium"),
    ],
)
def test_startback_groups_follow_keeles_scoring(
    agree: tuple[int, ...], bothersome: str, group: str
) -> None:
    answers: dict[str, object] = {f"q{i}": i in agree for i in range(1, 9)}
    answers["q9"] = bothersome
    assert startback_group({"startback": answers}) == group
    assert startback_group({}) == "unanswered"


@pytest.mark.parametrize(
    ("subgroup", "region", "leg_worse", "code_id"),
    [
        ("low_back", "low_back", None, "episode.low_back"),
        ("neck", "neck", None, "episode.neck"),
        ("upper_back", "upper_back", None, "episode.upper_back"),
        ("fracture", "low_back", None, "episode.low_back"),
        ("radiculopathy", "low_back", True, "episode.disc_radiculopathy"),
        ("radiculopathy", "low_back", False, "episode.radiculopathy_lumbar"),
        ("stenosis", "low_back", None, "episode.stenosis_lumbar"),
        ("cervical_radiculopathy", "neck", None, "episode.radiculopathy_cervical"),
        ("cauda_equina", "low_back", None, "episode.disc_radiculopathy"),
    ],
)
def test_the_episode_code_follows_the_pain_pattern(
    subgroup: str, region: str, leg_worse: bool | None, code_id: str
) -> None:
    intake = {"radiation": {"leg_pain_worse_than_back": leg_worse}}
    clinic = CareEvents(0, CareSettings(clinics=1)).clinics[0]
    case = Case("p1", subgroup, intake, clinic, region, 0, "acute", "low", 0, 0, "outpatient")
    assert episode_code_id(case) == code_id


def test_an_unknown_code_id_is_an_error_naming_it() -> None:
    with pytest.raises(CareCodeError, match=r"no code 'drug\.unknown'"):
        coded("drug.unknown")


def test_a_codes_file_with_an_unverified_secondary_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    entry = '{system: atc, code: "N02AX02", display: "tramadol", verified: false, secondary: true'
    path.write_text(f"version: 1\ncodes:\n  drug.tramadol: {entry}, source: x}}\n", "utf-8")
    with pytest.raises(
        CareCodeError, match=r"(?s)codes\.yaml: .*drug\.tramadol.*verified: true, secondary: true"
    ):
        load_codes(path)


def test_clinic_ids_sort_in_order() -> None:
    assert [clinic_id(n, 40) for n in (1, 9, 40)] == ["c001", "c009", "c040"]
    assert clinic_id(7, 12_000) == "c00007"


@pytest.mark.parametrize("subgroup", SUBGROUPS)
def test_every_subgroup_gives_a_conforming_data_set(subgroup: str) -> None:
    events = CareEvents(3, CareSettings(clinics=5, year=2024))
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
    for i, (name, intake) in enumerate(labelled_people(150, 3, subgroup=subgroup)):
        events.add(i, name, intake, json.dumps(intake), rows)
    frames = {
        table: generate_dataset._frame(table, table_rows) for table, table_rows in rows.items()
    }
    assert frames["people"].height == 150
    for table, frame in frames.items():
        assert conform(table, frame).equals(frame)
    categories = Counter(frames["conditions"]["category"])
    expected = {
        "fracture": "fragility_fracture",
        "cancer": "cancer",
        "cauda_equina": "cauda_equina",
        "infection": "spinal_infection",
        "axial_spa": "axial_spondyloarthritis",
        "stenosis": "spondylopathy",
    }
    if subgroup in expected:
        assert categories[expected[subgroup]] >= 150, categories


def test_people_must_be_drawn_in_order() -> None:
    events = CareEvents(1)
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
    (_, intake), *_ = labelled_people(1, 1)
    with pytest.raises(ValueError, match="in order"):
        events.add(5, "low_back", intake, "{}", rows)


def test_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="clinics"):
        CareSettings(clinics=0)
    with pytest.raises(ValueError, match="year"):
        CareSettings(year=1200)


def test_a_missing_figure_is_an_error_naming_it() -> None:
    plan = care_plan()
    assert plan.share("sciatica_surgery_share") == pytest.approx(0.44)
    with pytest.raises(ValueError, match="no figure nonsense"):
        plan.share("nonsense")


# --- the command ----------------------------------------------------------------------------------

_RUN = (
    "import typer; import spinepath.cli.population_generate; "
    "from spinepath.cli.population_group import population; "
    "app = typer.Typer(); app.add_typer(population); app()"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", _RUN, "population", "generate", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _app() -> typer.Typer:
    import spinepath.cli.population_generate  # noqa: F401 - registers the command
    from spinepath.cli.population_group import population

    app = typer.Typer()
    app.add_typer(population)
    return app


def test_the_command_writes_a_data_set_directory(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    result = _cli("--people", "300", "--seed", "2", "--format", "dataset", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    assert "rows/s" in result.stderr
    people = scan(out, "people").collect()
    assert people.height == 300
    assert people["clinic_id"].n_unique() <= 40
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]  # no work directory left


def test_the_command_fills_an_existing_empty_directory(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    result = _cli("--people", "20", "--format", "dataset", "--clinics", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert scan(out, "people").collect()["clinic_id"].n_unique() <= 3


def test_the_year_sets_the_diagnosis_dates(tmp_path: Path) -> None:
    out = tmp_path / "y"
    result = _cli("--people", "50", "--format", "dataset", "--year", "2019", "--out", str(out))
    assert result.returncode == 0, result.stderr
    years = scan(out, "episodes").collect().filter(_index_episode())["diagnosis_date"].dt.year()
    assert set(years) == {2019}


def test_a_non_empty_directory_is_refused_with_exit_2_naming_out(tmp_path: Path) -> None:
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    result = _cli("--people", "5", "--format", "dataset", "--out", str(out))
    assert result.returncode == 2
    assert "--out" in result.stderr
    assert "not empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--clinics", "0"), "--clinics"),
        (("--year", "1800"), "--year"),
        (("--people", "0"), "--people"),
        (("--format", "csv"), "--format"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    out = tmp_path / "x"
    base = ["--people", "5", "--format", "dataset", "--out", str(out)]
    result = CliRunner().invoke(_app(), ["population", "generate", *base, *args])
    assert result.exit_code == 2
    assert named in result.output
    assert not out.exists()


def test_a_missing_parent_directory_exits_2_naming_out(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dataset"
    result = _cli("--people", "5", "--format", "dataset", "--out", str(out))
    assert result.returncode == 2
    assert "--out" in result.stderr


def test_a_failure_part_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_half_way(directory: Path, count: int, seed: int, **_: object) -> dict[str, int]:
        (directory / "people.parquet").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generate_dataset, "write_dataset", fail_half_way)
    out = tmp_path / "dataset"
    args = ["population", "generate", "--people", "5", "--format", "dataset", "--out", str(out)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert "--out" in result.output
    assert "no space left" in result.output.lower()
    assert list(tmp_path.iterdir()) == []
