"""The population data set: one Parquet file per table, whatever the data came from.

Every way in (spinepath's own database, intake NDJSON, FHIR Bulk Data NDJSON, the synthetic
cohort generator) writes these tables, and everything downstream (the columnar pathway, the
quality measures, the report) reads only these. A data set is a directory holding
``<table>.parquet`` for each table below; a table with no rows is still written, with its
columns, so a reader never has to guess. Dates are calendar dates (no time of day): the
measures count whole days.

``person_id`` is the key that joins every table; ``clinic_id`` is the clinic (practice, service)
the person is registered with, which the measures compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from spinepath.pathway.fact_columns import intake_schema

Schema = Mapping[str, pl.DataType | type[pl.DataType]]

PEOPLE: Schema = {
    "person_id": pl.String,
    "clinic_id": pl.String,
    "sex": pl.String,  # female | male | other | unknown
    "birth_date": pl.Date,
}
"""One row per person."""

EPISODES: Schema = {
    "person_id": pl.String,
    "episode_id": pl.String,
    "region": pl.String,  # low_back | neck | upper_back
    "diagnosis_date": pl.Date,  # first recorded visit for this episode (HEDIS's episode date)
    "onset_date": pl.Date,  # when the pain began, if known
    "setting": pl.String,  # outpatient | emergency | telehealth | specialist
    "code_system": pl.String,
    "code": pl.String,
}
"""Episodes of back or neck pain, one row per episode (a person may have several)."""

ASSESSMENTS: Schema = {
    "person_id": pl.String,
    "assessment_id": pl.String,
    "episode_id": pl.String,
    "assessed_on": pl.Date,
    "intake": pl.Struct(intake_schema()),  # the intake, nested as the intake model nests it
}
"""Questionnaires answered: the intake the pathway reads, as a nested column typed by the intake
model (``spinepath schema intake``), not JSON text, so the pathway reads it column by column
without parsing. Build it from intake JSON objects with :func:`intakes_column`. The pathway's
decisions are not stored here: they are computed from ``intake`` by the columnar pathway, so
every engine and every knowledge-base version derives them the same way."""

CONDITIONS: Schema = {
    "person_id": pl.String,
    "category": pl.String,  # see CONDITION_CATEGORIES
    "code_system": pl.String,
    "code": pl.String,
    "recorded_on": pl.Date,
    "ended_on": pl.Date,  # null while active
}
"""Diagnoses other than the back-pain episode that matter to the measures (exclusions)."""

CONDITION_CATEGORIES = (
    "cancer",
    "trauma",
    "iv_drug_use",
    "neurological_impairment",
    "hiv",
    "spinal_infection",
    "organ_transplant",
    "osteoporosis",
    "fragility_fracture",
    "spondylopathy",
    "lumbar_surgery",
    "palliative_care",
    "hospice",
    "cauda_equina",
    "axial_spondyloarthritis",
)

IMAGING: Schema = {
    "person_id": pl.String,
    "performed_on": pl.Date,
    "modality": pl.String,  # xray | ct | mri
    "body_site": pl.String,  # lumbar | thoracic | cervical | other
    "ordered_by_setting": pl.String,  # primary_care | specialist | emergency
    "code_system": pl.String,
    "code": pl.String,
}
"""Imaging studies done (ImagingStudy, or a completed ServiceRequest)."""

MEDICATIONS: Schema = {
    "person_id": pl.String,
    "prescribed_on": pl.Date,
    "drug_class": pl.String,  # see DRUG_CLASSES
    "code_system": pl.String,
    "code": pl.String,
    "days_supply": pl.Int32,
}
"""Prescriptions issued (MedicationRequest)."""

DRUG_CLASSES = (
    "opioid",
    "gabapentinoid",
    "benzodiazepine",
    "nsaid",
    "paracetamol",
    "antidepressant",
    "systemic_corticosteroid",
    "osteoporosis_therapy",
    "other",
)

PROCEDURES: Schema = {
    "person_id": pl.String,
    "performed_on": pl.Date,
    "kind": pl.String,  # see PROCEDURE_KINDS
    "code_system": pl.String,
    "code": pl.String,
}
"""Care given (Procedure / Encounter): stratification, programmes, injections, opinions, surgery."""

PROCEDURE_KINDS = (
    "risk_stratification",  # a validated tool such as STarT Back completed
    "exercise_programme",
    "psychological_programme",  # combined physical and psychological programme (NG59 1.2.7)
    "manual_therapy",
    "spinal_injection",
    "radiofrequency_denervation",
    "epidural_injection",
    "surgical_opinion",  # seen by a spinal surgeon
    "spinal_surgery",
)

REFERRALS: Schema = {
    "person_id": pl.String,
    "referred_on": pl.Date,
    "kind": pl.String,  # surgical_opinion | physiotherapy | pain_service | imaging
    "code_system": pl.String,
    "code": pl.String,
}
"""Referrals made (ServiceRequest)."""

PROMS: Schema = {
    "person_id": pl.String,
    "instrument": pl.String,  # an instrument id of spinepath's registry, e.g. odi, ndi, pain_nrs
    "timepoint": pl.String,  # baseline | 6_weeks | 3_months | 12_months
    "due_on": pl.Date,
    "completed_on": pl.Date,  # null when not completed
    "score": pl.Float64,  # null when not completed
}
"""Outcome questionnaires due and (if completed) their scores (QuestionnaireResponse,
Observation)."""

TIMEPOINTS = ("baseline", "6_weeks", "3_months", "12_months")

TABLES: Mapping[str, Schema] = {
    "people": PEOPLE,
    "episodes": EPISODES,
    "assessments": ASSESSMENTS,
    "conditions": CONDITIONS,
    "imaging": IMAGING,
    "medications": MEDICATIONS,
    "procedures": PROCEDURES,
    "referrals": REFERRALS,
    "proms": PROMS,
}
"""Every table of a population data set, by file name (without ``.parquet``)."""


PATHWAY: Schema = {
    "person_id": pl.String,
    "assessment_id": pl.String,
    "assessed_on": pl.Date,
    "level": pl.String,  # emergency | urgent | soon | routine | self_care
    "concerns": pl.List(pl.String),  # concern codes of the red-flag rules that fired
    "pattern": pl.String,  # the primary pain pattern, or non_specific
    "candidacy": pl.String,  # the surgical status (see the knowledge base's statuses)
    "referral_due": pl.Boolean,  # candidacy is refer_surgical_opinion
    "imaging_indicated": pl.Boolean,
    "startback_group": pl.String,  # low | medium | high; null when not answered
    "still_to_ask": pl.List(pl.String),  # facts whose answer could change the decision
    "care_plan": pl.List(pl.String),  # care-plan item ids recommended
    "not_recommended": pl.List(pl.String),  # not-recommended item ids shown
    "review_after_weeks": pl.Int64,  # when the care plan says to review
}
"""What the columnar pathway decides for each assessment (``spinepath population assess``):
not a table of the data set but derived from its ``assessments``; the measures read both."""


class DatasetError(ValueError):
    """A data set directory is missing a table, or a table has the wrong columns."""


def intakes_column(intakes: list[dict[str, object]]) -> pl.Series:
    """Intake JSON objects (already valid against the intake model) as the ``intake`` column.

    A question left out of an intake is null in the column, as in the file it came from."""
    return pl.Series("intake", intakes, dtype=ASSESSMENTS["intake"], strict=True)


def table_path(directory: Path, table: str) -> Path:
    return directory / f"{table}.parquet"


def empty(table: str) -> pl.DataFrame:
    """A table with its columns and no rows."""
    return pl.DataFrame(schema=dict(TABLES[table]))


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the table's columns, in order, cast to their types.

    A missing column is an error naming it; an extra one is an error too, so a typo in a
    converter cannot silently drop data."""
    schema = TABLES[table]
    missing = [c for c in schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unknown {', '.join(extra)}")
        raise DatasetError(f"{table}: {'; '.join(parts)}")
    return frame.select(pl.col(name).cast(dtype, strict=True) for name, dtype in schema.items())


def scan(directory: Path, table: str) -> pl.LazyFrame:
    """One table of a data set, lazily, checked against its schema."""
    path = table_path(directory, table)
    if not path.is_file():
        raise DatasetError(f"{directory}: no {path.name}")
    frame = pl.scan_parquet(path)
    found = frame.collect_schema()
    expected = TABLES[table]
    wrong = [
        f"{name} ({found.get(name)} instead of {dtype})"
        for name, dtype in expected.items()
        if found.get(name) != dtype
    ]
    if wrong:
        raise DatasetError(f"{path}: wrong or missing columns: {', '.join(wrong)}")
    return frame.select(list(expected))
