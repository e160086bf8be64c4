"""Hand-built population data sets for the measure tests: a few people, each row written out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from spinepath.population import tables
from spinepath.population.measures import BY_ID, MEASURES, MeasureResults, compute_measures

PERIOD_START = date(2024, 1, 1)
PERIOD_END = date(2024, 12, 31)


class Dataset:
    """Rows of every table, added by name; ``write`` turns them into a data set directory."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables.TABLES}
        self.pathway_rows: list[dict[str, Any]] = []
        self._ids = 0

    def _next(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def person(
        self,
        person_id: str,
        *,
        clinic: str | None = "C1",
        sex: str | None = "female",
        birth: date | None = date(1980, 6, 15),
    ) -> Dataset:
        self.rows["people"].append(
            {"person_id": person_id, "clinic_id": clinic, "sex": sex, "birth_date": birth}
        )
        return self

    def episode(
        self,
        person_id: str,
        diagnosed: date,
        *,
        region: str = "low_back",
        onset: date | None = None,
        setting: str = "outpatient",
        episode_id: str | None = None,
    ) -> str:
        episode_id = episode_id or self._next("E")
        self.rows["episodes"].append(
            {
                "person_id": person_id,
                "episode_id": episode_id,
                "region": region,
                "diagnosis_date": diagnosed,
                "onset_date": onset,
                "setting": setting,
                "code_system": None,
                "code": None,
            }
        )
        return episode_id

    def condition(
        self, person_id: str, category: str, recorded: date, ended: date | None = None
    ) -> Dataset:
        self.rows["conditions"].append(
            {
                "person_id": person_id,
                "category": category,
                "code_system": None,
                "code": None,
                "recorded_on": recorded,
                "ended_on": ended,
            }
        )
        return self

    def image(
        self,
        person_id: str,
        performed: date,
        *,
        modality: str = "mri",
        body_site: str = "lumbar",
        ordered_by: str = "primary_care",
    ) -> Dataset:
        self.rows["imaging"].append(
            {
                "person_id": person_id,
                "performed_on": performed,
                "modality": modality,
                "body_site": body_site,
                "ordered_by_setting": ordered_by,
                "code_system": None,
                "code": None,
            }
        )
        return self

    def medication(
        self, person_id: str, prescribed: date, drug_class: str, days_supply: int | None = 30
    ) -> Dataset:
        self.rows["medications"].append(
            {
                "person_id": person_id,
                "prescribed_on": prescribed,
                "drug_class": drug_class,
                "code_system": None,
                "code": None,
                "days_supply": days_supply,
            }
        )
        return self

    def procedure(self, person_id: str, performed: date, kind: str) -> Dataset:
        self.rows["procedures"].append(
            {
                "person_id": person_id,
                "performed_on": performed,
                "kind": kind,
                "code_system": None,
                "code": None,
            }
        )
        return self

    def prom(
        self,
        person_id: str,
        timepoint: str,
        due: date,
        *,
        instrument: str = "odi",
        completed: date | None = None,
        score: float | None = None,
    ) -> Dataset:
        self.rows["proms"].append(
            {
                "person_id": person_id,
                "instrument": instrument,
                "timepoint": timepoint,
                "due_on": due,
                "completed_on": completed,
                "score": score,
            }
        )
        return self

    def assessment(
        self,
        person_id: str,
        assessed: date,
        *,
        episode_id: str | None = None,
        level: str = "routine",
        pattern: str = "non_specific",
        referral_due: bool = False,
        imaging_indicated: bool = False,
        startback: str | None = None,
        concerns: Sequence[str] = (),
        care_plan: Sequence[str] = (),
    ) -> str:
        assessment_id = self._next("A")
        self.rows["assessments"].append(
            {
                "person_id": person_id,
                "assessment_id": assessment_id,
                "episode_id": episode_id,
                "assessed_on": assessed,
                "intake": None,  # the measures read the pathway's decisions, not the intake
            }
        )
        self.pathway_rows.append(
            {
                "person_id": person_id,
                "assessment_id": assessment_id,
                "assessed_on": assessed,
                "level": level,
                "concerns": list(concerns),
                "pattern": pattern,
                "candidacy": "refer_surgical_opinion" if referral_due else "not_candidate",
                "referral_due": referral_due,
                "imaging_indicated": imaging_indicated,
                "startback_group": startback,
                "still_to_ask": [],
                "care_plan": list(care_plan),
                "not_recommended": [],
            }
        )
        return assessment_id

    def write(self, directory: Path) -> tuple[Path, Path]:
        """The data set directory and the pathway file, written under ``directory``."""
        dataset = directory / "dataset"
        dataset.mkdir(parents=True, exist_ok=True)
        for name, schema in tables.TABLES.items():
            frame = pl.DataFrame(self.rows[name], schema=dict(schema))
            tables.conform(name, frame).write_parquet(tables.table_path(dataset, name))
        pathway = directory / "pathway.parquet"
        pl.DataFrame(self.pathway_rows, schema=dict(tables.PATHWAY)).write_parquet(pathway)
        return dataset, pathway


def run(
    dataset: Dataset,
    directory: Path,
    *measure_ids: str,
    start: date = PERIOD_START,
    end: date = PERIOD_END,
) -> MeasureResults:
    """The given measures (every one when none is named) over ``dataset``; the per-person
    table is written to ``directory/measures``."""
    ds, pathway = dataset.write(directory)
    chosen = [BY_ID[m] for m in measure_ids] if measure_ids else list(MEASURES)
    out = directory / "measures"
    return compute_measures(ds, pathway, out, start=start, end=end, measures=chosen)


def people_of(dataset: Dataset, directory: Path, measure_id: str, **period: date) -> pl.DataFrame:
    """The per-person rows of one measure."""
    return run(dataset, directory, measure_id, **period).read_people()


def row_of(people: pl.DataFrame, person_id: str) -> dict[str, Any]:
    """One person's row; fails unless there is exactly one."""
    [row] = people.filter(pl.col("person_id") == person_id).to_dicts()
    return row


def person_ids(people: pl.DataFrame) -> set[str]:
    return set(people.get_column("person_id").to_list())
