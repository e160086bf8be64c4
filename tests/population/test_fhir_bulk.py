"""A population data set through FHIR Bulk Data NDJSON and back: valid R4, the export manifest,
kinds read back by code, every table given back as it was, errors as rows, all-or-nothing
directories, and the two commands."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import spinepath.cli.population_import  # noqa: F401 - registers the commands on the group
from spinepath.cli.population_group import population
from spinepath.interop.intake_response import ResponseError, intake_from_response
from spinepath.pathway.intake import Intake
from spinepath.population import fhir_bulk_in, fhir_to_rows, rows_to_fhir, tables
from spinepath.population.fhir_bulk_in import SourceError, import_fhir_bulk, source_files
from spinepath.population.fhir_bulk_out import RESOURCE_TYPES, write_fhir_bulk
from spinepath.population.fhir_elements import FieldError
from spinepath.population.fhir_value_sets import load
from spinepath.population.generate import people
from spinepath.population.intake_column import intake_record
from spinepath.population.output_dir import OutputDirError
from spinepath.population.table_sink import DatasetWriter
from support.cli import command_app
from support.fhir_schema import schema_errors
from support.fhirpath_invariants import (
    Definition,
    Element,
    _Walker,
    assert_report,
    definitions,
)

D = date
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "https://spinepath.org/fhir/CodeSystem/care-event"
WHEN = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
Row = dict[str, Any]


def _intakes() -> list[dict[str, Any]]:
    return [intake_record(Intake.model_validate(p)) for p in people(4, 21)]


# Each category, kind and class with a code of its own value set (fhir_value_sets.yaml), chosen
# by hand: the kind is read back from the code alone. A data set names code systems by URI.
CONDITION_CODES = {
    "cancer": (ICD10, "C50.9"),
    "trauma": (ICD10, "S33.5"),
    "iv_drug_use": (SNOMED, "228388006"),
    "neurological_impairment": (ICD10, "G83.1"),
    "hiv": (ICD10, "B24"),
    "spinal_infection": (ICD10, "M46.3"),
    "organ_transplant": (ICD10, "Z94.0"),
    "osteoporosis": (ICD10, "M81.9"),
    "fragility_fracture": (ICD10, "M80.08"),
    "spondylopathy": (ICD10, "M48.06"),
    "lumbar_surgery": (ICD10, "Z98.1"),
    "palliative_care": (ICD10, "Z51.5"),
    "hospice": (SNOMED, "385763009"),
    "cauda_equina": (ICD10, "G83.4"),
    "axial_spondyloarthritis": (ICD10, "M45.9"),
}
DRUG_CODES = {
    "opioid": (ATC, "N02AX02"),
    "gabapentinoid": (ATC, "N03AX16"),
    "benzodiazepine": (ATC, "N05BA01"),
    "nsaid": (ATC, "M01AE01"),
    "paracetamol": (ATC, "N02BE01"),
    "antidepressant": (ATC, "N06AA09"),
    "systemic_corticosteroid": (ATC, "H02AB06"),
    "osteoporosis_therapy": (ATC, "M05BA04"),
    "other": (ATC, "A10BA02"),
}
PROCEDURE_CODES = {
    "risk_stratification": (LOINC, "91349-1"),
    "exercise_programme": (SNOMED, "229065009"),
    "psychological_programme": (SNOMED, "228557008"),
    "manual_therapy": (LOCAL, "manual_therapy"),
    "spinal_injection": (LOCAL, "spinal_injection"),
    "radiofrequency_denervation": (LOCAL, "radiofrequency_denervation"),
    "epidural_injection": (LOCAL, "epidural_injection"),
    "surgical_opinion": (LOCAL, "surgical_opinion"),
    "spinal_surgery": (SNOMED, "42515009"),
}
REFERRAL_CODES = {
    "surgical_opinion": (SNOMED, "183545006"),
    "physiotherapy": (LOCAL, "physiotherapy"),
    "pain_service": (LOCAL, "pain_service"),
    "imaging": (LOINC, "24968-0"),
}
EPISODE_CODES = [(ICD10, "M54.5"), (ICD10, "M54.2"), (ICD10, "M54.6"), (ICD10, "M51.1")]


def _fixture_rows() -> dict[str, list[Row]]:
    """A data set with every table, every kind and category, and the empty values."""
    intakes = _intakes()
    rows: dict[str, list[Row]] = {
        "people": [
            {"person_id": "p1", "clinic_id": "c1", "sex": "female", "birth_date": D(1970, 5, 1)},
            {"person_id": "p2", "clinic_id": "c1", "sex": "male", "birth_date": D(1988, 2, 29)},
            {"person_id": "p3", "clinic_id": "c.2", "sex": "other", "birth_date": None},
            {"person_id": "p4", "clinic_id": None, "sex": "unknown", "birth_date": None},
            {"person_id": "p-5", "clinic_id": None, "sex": None, "birth_date": None},
        ],
        "episodes": [
            _episode("p1", "e1", "low_back", "outpatient", (ICD10, "M54.5")),
            _episode("p2", "e2", "neck", "emergency", (ICD10, "M54.2")),
            _episode("p3", "e3", "upper_back", "telehealth", (ICD10, "M54.6")),
            _episode("p4", "e4", "low_back", "specialist", (ICD10, "M51.1")),
            _episode("p4", "e5", None, None, (ICD10, "M48.06")),
            _episode("p-5", "e6", "neck", None, (None, None)),
        ],
        "assessments": [
            _assessment("p1", "a1", "e1", D(2025, 1, 10), intakes[0]),
            _assessment("p2", "a2", "e2", D(2025, 2, 1), intakes[1]),
            _assessment("p-5", "a3", None, None, intakes[2]),
            _assessment("p4", "a4", "e4", D(2025, 3, 3), intakes[3]),
        ],
        "conditions": [
            {
                "person_id": "p1",
                "category": category,
                "code_system": system,
                "code": code,
                "recorded_on": D(2020, 1, 1 + i),
                "ended_on": D(2021, 1, 1) if i % 3 == 0 else None,
            }
            for i, (category, (system, code)) in enumerate(CONDITION_CODES.items())
        ],
        "imaging": [
            _imaging("p1", "xray", "lumbar", "primary_care", (LOINC, "24972-2")),
            _imaging("p1", "ct", "thoracic", "emergency", (LOINC, "24978-9")),
            _imaging("p2", "mri", "cervical", "specialist", (LOINC, "24935-9")),
            _imaging("p3", None, "other", None, (None, None)),
            _imaging("p4", "mri", None, None, (LOINC, "24968-0")),
        ],
        "medications": [
            {
                "person_id": "p2",
                "prescribed_on": D(2025, 2, 1 + i),
                "drug_class": drug_class,
                "code_system": system,
                "code": code,
                "days_supply": 7 * i if i % 2 else None,
            }
            for i, (drug_class, (system, code)) in enumerate(DRUG_CODES.items())
        ]
        + [
            _medication("opioid", (RXNORM, "7052")),
            _medication("other", ("http://example.org/fhir/CodeSystem/formulary", "F-12")),
            _medication(None, (None, None)),
        ],
        "procedures": [
            {
                "person_id": "p3",
                "performed_on": D(2025, 4, 1 + i),
                "kind": kind,
                "code_system": system,
                "code": code,
            }
            for i, (kind, (system, code)) in enumerate(PROCEDURE_CODES.items())
        ],
        "referrals": [
            {
                "person_id": "p4",
                "referred_on": D(2025, 5, 1 + i),
                "kind": kind,
                "code_system": system,
                "code": code,
            }
            for i, (kind, (system, code)) in enumerate(REFERRAL_CODES.items())
        ],
        "proms": [
            _prom("p1", "odi", "baseline", D(2025, 1, 10), D(2025, 1, 10), 42.0),
            _prom("p1", "odi", "6_weeks", D(2025, 2, 21), None, None),
            _prom("p2", "ndi", "baseline", D(2025, 2, 1), D(2025, 2, 3), 18.0),
            _prom("p2", "nrs_neck", None, None, D(2025, 3, 1), None),
            _prom("p3", "nrs_back", "3_months", D(2025, 4, 10), D(2025, 4, 12), 3.5),
            _prom("p3", "nrs_back", "12_months", None, None, None),
        ],
    }
    return rows


def _episode(
    person: str, episode: str, region: str | None, setting: str | None, code: tuple[Any, Any]
) -> Row:
    return {
        "person_id": person,
        "episode_id": episode,
        "region": region,
        "diagnosis_date": D(2025, 1, 10) if setting else None,
        "onset_date": D(2024, 12, 1) if region else None,
        "setting": setting,
        "code_system": code[0],
        "code": code[1],
    }


def _assessment(
    person: str, assessment: str, episode: str | None, day: date | None, intake: Row
) -> Row:
    return {
        "person_id": person,
        "assessment_id": assessment,
        "episode_id": episode,
        "assessed_on": day,
        "intake": intake,
    }


def _imaging(
    person: str, modality: str | None, site: str | None, setting: str | None, code: tuple[Any, Any]
) -> Row:
    return {
        "person_id": person,
        "performed_on": D(2025, 1, 20),
        "modality": modality,
        "body_site": site,
        "ordered_by_setting": setting,
        "code_system": code[0],
        "code": code[1],
    }


def _medication(drug_class: str | None, code: tuple[Any, Any]) -> Row:
    return {
        "person_id": "p4",
        "prescribed_on": None,
        "drug_class": drug_class,
        "code_system": code[0],
        "code": code[1],
        "days_supply": 30,
    }


def _prom(
    person: str,
    instrument: str,
    timepoint: str | None,
    due: date | None,
    done: date | None,
    score: float | None,
) -> Row:
    return {
        "person_id": person,
        "instrument": instrument,
        "timepoint": timepoint,
        "due_on": due,
        "completed_on": done,
        "score": score,
    }


def write_dataset(directory: Path, rows: dict[str, list[Row]], chunk_rows: int = 3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with DatasetWriter(directory, chunk_rows=chunk_rows) as writer:
        for table, table_rows in rows.items():
            for row in table_rows:
                writer.add(table, row)
        writer.close()
    return directory


def _sorted(directory: Path, table: str) -> pl.DataFrame:
    schema = tables.TABLES[table]
    keys = [name for name, dtype in schema.items() if not isinstance(dtype, pl.Struct)]
    return tables.scan(directory, table).collect().sort(keys, nulls_last=True)


def assert_same_tables(expected: Path, found: Path) -> None:
    """Every table holds the same rows (row order is not part of a data set)."""
    for table in tables.TABLES:
        want, got = _sorted(expected, table), _sorted(found, table)
        assert got.equals(want), f"{table}:\nexpected {want}\nfound {got}"


def _resources(export: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path in sorted(export.glob("*.ndjson")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield path.name, number, json.loads(line)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset", _fixture_rows())


@pytest.fixture
def export(dataset: Path, tmp_path: Path) -> Path:
    summary = write_fhir_bulk(dataset, tmp_path / "export", transaction_time=WHEN, batch_rows=4)
    assert (summary.errors, summary.warnings) == (0, 0)
    return tmp_path / "export"


# --- Data set -> FHIR ------------------------------------------------------------------------


def test_the_export_has_one_file_per_type_and_a_manifest_counting_them(export: Path) -> None:
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["transactionTime"] == "2025-06-01T12:00:00Z"
    assert manifest["request"].startswith("file://")
    assert manifest["request"].endswith("/$export")
    assert manifest["requiresAccessToken"] is False
    assert manifest["error"] == []
    assert [item["type"] for item in manifest["output"]] == list(RESOURCE_TYPES)
    for item in manifest["output"]:
        path = Path(item["url"].removeprefix("file://"))
        assert path == export / f"{item['type']}.ndjson"
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == item["count"]
        assert {json.loads(line)["resourceType"] for line in lines} == {item["type"]}
    # By hand from the fixture: 5 people, 2 clinics, 6 episodes (a Condition and an Encounter
    # each) + 15 conditions, 9 procedures, 4 referrals, 5 studies, 12 prescriptions, 4
    # completed PROMs (Observations), 4 assessments + 2 PROMs not done (QuestionnaireResponses).
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {
        "Patient": 5,
        "Organization": 2,
        "Condition": 21,
        "Encounter": 6,
        "Procedure": 9,
        "ServiceRequest": 4,
        "ImagingStudy": 5,
        "MedicationRequest": 12,
        "Observation": 4,
        "QuestionnaireResponse": 6,
    }


def test_every_resource_passes_the_official_r4_json_schema(export: Path) -> None:
    for name, number, resource in _resources(export):
        assert schema_errors(resource) == [], f"{name} line {number}"


# R4 element types of what the export writes on resource types whose invariants are not vendored
# (tests/interop/vendor): their data types' invariants (Reference, Coding, Extension, Period,
# Duration, Identifier, every element's ele-1) are checked, not the resources' own.
_NOT_VENDORED: dict[str, dict[str, Any]] = {
    "Organization": {"id": "id", "active": "boolean", "identifier": "Identifier"},
    "Condition": {
        "id": "id",
        "clinicalStatus": "CodeableConcept",
        "category": "CodeableConcept",
        "code": "CodeableConcept",
        "bodySite": "CodeableConcept",
        "subject": "Reference",
        "encounter": "Reference",
        "onsetDateTime": "dateTime",
        "recordedDate": "dateTime",
        "abatementDateTime": "dateTime",
    },
    "Encounter": {
        "id": "id",
        "status": "code",
        "class": "Coding",
        "type": "CodeableConcept",
        "subject": "Reference",
        "period": "Period",
        "diagnosis": {"condition": "Reference"},
    },
    "ImagingStudy": {
        "id": "id",
        "extension": "Extension",
        "status": "code",
        "modality": "Coding",
        "subject": "Reference",
        "started": "dateTime",
        "procedureCode": "CodeableConcept",
        "series": {"uid": "id", "modality": "Coding", "bodySite": "Coding"},
    },
    "MedicationRequest": {
        "id": "id",
        "status": "code",
        "intent": "code",
        "medicationCodeableConcept": "CodeableConcept",
        "subject": "Reference",
        "authoredOn": "dateTime",
        "dispenseRequest": {"expectedSupplyDuration": "Duration"},
    },
    "Procedure": {
        "id": "id",
        "status": "code",
        "code": "CodeableConcept",
        "subject": "Reference",
        "performedDateTime": "dateTime",
    },
    "OperationOutcome": {
        "id": "id",
        "issue": {"severity": "code", "code": "code", "diagnostics": "string"},
    },
}


def _stand_in(name: str, element_types: dict[str, Any]) -> Definition:
    elements = {name: Element(name, (), (), None)}
    children: dict[str, dict[str, tuple[Element, str | None]]] = {}

    def add(parent: str, types: dict[str, Any]) -> None:
        for key, kind in types.items():
            path = f"{parent}.{key}"
            code = "BackboneElement" if isinstance(kind, dict) else kind
            elements[path] = Element(path, (code,), (), None)
            children.setdefault(parent, {})[key] = (elements[path], None)
            if isinstance(kind, dict):
                add(path, kind)

    add(name, element_types)
    return Definition(name, "resource", {}, elements, children)


def _invariants_hold(resource: dict[str, Any]) -> None:
    walker = _Walker()
    kind = resource["resourceType"]
    if kind in _NOT_VENDORED:
        assert kind not in definitions(), f"{kind} is vendored now: check its own invariants"
        walker.defs = {**walker.defs, kind: _stand_in(kind, _NOT_VENDORED[kind])}
    walker.resource(resource, kind, None)
    assert_report(walker.report)


def test_a_sample_of_every_resource_type_holds_the_r4_invariants(export: Path) -> None:
    seen: dict[str, int] = {}
    for _name, _number, resource in _resources(export):
        kind = resource["resourceType"]
        if seen.get(kind, 0) < 3:
            _invariants_hold(resource)
            seen[kind] = seen.get(kind, 0) + 1
    assert set(seen) == set(RESOURCE_TYPES)
    assert {"Patient", "Observation", "QuestionnaireResponse", "ServiceRequest"} <= set(
        definitions()
    )


def test_resources_carry_the_rows_values_in_the_mapped_elements(export: Path) -> None:
    found = {(r["resourceType"], r["id"]): r for _, _, r in _resources(export)}
    patient = found[("Patient", "p1")]
    assert patient == {
        "resourceType": "Patient",
        "id": "p1",
        "gender": "female",
        "birthDate": "1970-05-01",
        "managingOrganization": {"reference": "Organization/c1"},
    }
    episode = found[("Condition", "e1")]
    assert episode["code"] == {"coding": [{"system": ICD10, "code": "M54.5"}]}
    assert episode["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert episode["bodySite"][0]["coding"][0]["code"] == "1141985005"
    assert (episode["onsetDateTime"], episode["recordedDate"]) == ("2024-12-01", "2025-01-10")
    visit = found[("Encounter", "e4")]
    assert visit["class"]["code"] == "AMB"
    assert visit["type"][0]["coding"][0]["code"] == "specialist"
    assert found[("Encounter", "e2")]["class"]["code"] == "EMER"
    assert found[("Encounter", "e3")]["class"]["code"] == "VR"
    assessment = found[("QuestionnaireResponse", "a1")]
    assert assessment["encounter"] == {"reference": "Encounter/e1"}
    assert assessment["authored"] == "2025-01-10"
    assert assessment["status"] == "completed"
    kinds = [r for (kind, _), r in found.items() if kind == "Observation"]
    baseline = next(r for r in kinds if r["effectiveDateTime"] == "2025-01-10")
    assert baseline["valueQuantity"]["value"] == 42.0
    assert {e["url"].rsplit("/", 1)[1]: e for e in baseline["extension"]}.keys() == {
        "prom-due-date",
        "prom-timepoint",
    }


# --- FHIR -> data set ------------------------------------------------------------------------


def test_the_round_trip_gives_back_every_table(dataset: Path, export: Path, tmp_path: Path) -> None:
    back = tmp_path / "back"
    summary = import_fhir_bulk(export / "manifest.json", back, chunk_rows=2)
    assert summary.errors == 0
    assert not summary.unknown_types
    assert_same_tables(dataset, back)
    assert _error_rows(back) == []
    assert (back / "import-errors.csv").read_text().splitlines() == ["file,line,field,message"]


def test_a_directory_of_files_reads_as_its_manifest_does(export: Path, tmp_path: Path) -> None:
    (export / "manifest.json").unlink()
    import_fhir_bulk(export, tmp_path / "from-directory")
    assert_same_tables(tmp_path / "from-directory", _fixture_dataset(tmp_path / "expected"))


def _fixture_dataset(directory: Path) -> Path:
    return write_dataset(directory, _fixture_rows())


def test_a_moved_export_is_read_from_beside_its_manifest(export: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.move(export, moved)
    import_fhir_bulk(moved / "manifest.json", tmp_path / "back")
    assert_same_tables(tmp_path / "back", _fixture_dataset(tmp_path / "expected"))


@pytest.mark.parametrize(
    ("kind", "concept", "expected"),
    [
        # A display saying something else changes nothing: the code decides.
        ("drug_class", [{"system": ATC, "code": "N02BE01", "display": "opioid"}], "paracetamol"),
        ("drug_class", [{"system": ATC, "code": "N02AJ06"}], "opioid"),
        (
            "drug_class",
            [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7052"}],
            "opioid",
        ),
        ("drug_class", [{"system": ATC, "code": "A10BA02"}], None),
        ("condition_kind", [{"system": ICD10, "code": "M80.08"}], "fragility_fracture"),
        ("condition_kind", [{"system": ICD10, "code": "M48.5"}], "fragility_fracture"),
        ("condition_kind", [{"system": ICD10, "code": "M81"}], "osteoporosis"),
        ("condition_kind", [{"system": ICD10, "code": "M47.1"}], "neurological_impairment"),
        ("condition_kind", [{"system": ICD10, "code": "M47.86"}], "spondylopathy"),
        ("condition_kind", [{"system": ICD10, "code": "M46.9"}], "spondylopathy"),
        ("condition_kind", [{"system": ICD10, "code": "M46.4"}], "spinal_infection"),
        (
            "condition_kind",
            [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.911"}],
            "cancer",
        ),
        ("condition_kind", [{"system": ICD10, "code": "C509"}], "cancer"),
        ("condition_kind", [{"system": ICD10, "code": "I10"}], None),
        # The earliest listed value wins whichever coding comes first.
        (
            "condition_kind",
            [{"system": ICD10, "code": "M48.06"}, {"system": ICD10, "code": "G83.4"}],
            "cauda_equina",
        ),
        ("procedure_kind", [{"system": SNOMED, "code": "229065009"}], "exercise_programme"),
        ("procedure_kind", [{"system": SNOMED, "code": "229065009x"}], None),
        ("referral_kind", [{"system": "http://loinc.org", "code": "24939-1"}], "imaging"),
        ("episode_region", [{"system": SNOMED, "code": "122495006"}], "upper_back"),
        (
            "imaging_modality",
            [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CR"}],
            "xray",
        ),
        (
            "encounter_class",
            [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}],
            "outpatient",
        ),
    ],
)
def test_kinds_are_read_from_codes(kind: str, concept: list[Row], expected: str | None) -> None:
    assert load().mapping(kind).value_of(concept) == expected


def test_every_value_written_reads_back_as_itself() -> None:
    sets = load()
    for mapping in sets.mappings.values():
        for value in mapping.values:
            try:
                coding = mapping.coding(value)
            except ValueError:
                continue  # a value with included codes only is never written
            if (mapping.id, value) == ("encounter_class", "specialist"):
                # An ambulatory visit: the Encounter's type tells it from an outpatient one.
                assert sets.mapping("encounter_type").coding(value)
                continue
            assert mapping.value_of([coding]) == value, (mapping.id, value)


def test_the_value_sets_cover_every_value_of_the_tables() -> None:
    sets = load().mappings
    assert set(sets["condition_kind"].values) == set(tables.CONDITION_CATEGORIES)
    assert set(sets["drug_class"].values) | {"other"} == set(tables.DRUG_CLASSES)
    assert set(sets["procedure_kind"].values) == set(tables.PROCEDURE_KINDS)
    assert set(sets["referral_kind"].values) == set(REFERRAL_CODES)
    assert set(sets["episode_region"].values) == {"low_back", "neck", "upper_back"}
    assert set(sets["encounter_class"].values) == {
        "outpatient",
        "emergency",
        "telehealth",
        "specialist",
    }
    assert set(sets["imaging_body_site"].values) == {"lumbar", "thoracic", "cervical", "other"}


def _lines(path: Path, resources: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in resources),
        encoding="utf-8",
    )
    return path


def _error_rows(directory: Path) -> list[dict[str, str]]:
    with (directory / "import-errors.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_what_cannot_be_read_becomes_an_error_row_and_the_rest_is_imported(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    unmapped = {
        "resourceType": "Condition",
        "id": "x",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": ICD10, "code": "I10", "display": "cancer"}]},
    }
    _lines(
        source / "a.ndjson",
        [
            patient,
            "{not json",
            "[1, 2]",
            {"id": "no-type"},
            {"resourceType": "Device", "id": "d1"},
            {"resourceType": "Device", "id": "d2"},
            unmapped,
            {"resourceType": "Patient", "id": "has space"},
            "",
            {"resourceType": "Patient", "id": "p2", "gender": "woman"},
        ],
    )
    summary = import_fhir_bulk(source, tmp_path / "out")
    found = [(r["file"], r["line"], r["field"]) for r in _error_rows(tmp_path / "out")]
    assert found == [
        ("a.ndjson", "2", ""),
        ("a.ndjson", "3", ""),
        ("a.ndjson", "4", "resourceType"),
        ("a.ndjson", "5", "resourceType"),
        ("a.ndjson", "6", "resourceType"),
        ("a.ndjson", "7", "code"),
        ("a.ndjson", "8", "id"),
        ("a.ndjson", "10", "gender"),
    ]
    assert summary.errors == 8
    assert summary.unknown_types == {"Device": 2}
    assert summary.lines == 10
    assert tables.scan(tmp_path / "out", "people").collect()["person_id"].to_list() == ["p1"]
    saved = json.loads((tmp_path / "out" / "import-summary.json").read_text())
    assert saved["unknown_types"] == {"Device": 2}


def test_a_line_longer_than_the_limit_is_an_error_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fhir_bulk_in, "MAX_LINE_BYTES", 60)
    source = tmp_path / "source"
    source.mkdir()
    long = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}
    _lines(source / "Patient.ndjson", [long, {"resourceType": "Patient", "id": "p2"}])
    import_fhir_bulk(source, tmp_path / "out")
    assert [r["line"] for r in _error_rows(tmp_path / "out")] == ["1"]
    assert tables.scan(tmp_path / "out", "people").collect()["person_id"].to_list() == ["p2"]


def test_an_encounter_is_joined_to_its_episode_whatever_the_file_order(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    _lines(
        source / "1-encounters.ndjson",
        [
            {"resourceType": "Encounter", "id": "v1", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                       "code": "EMER"}},
            {"resourceType": "Encounter", "id": "v2", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                       "code": "AMB"}},
        ],
    )  # fmt: skip
    _lines(
        source / "2-conditions.ndjson",
        [
            {
                "resourceType": "Condition",
                "id": "ep1",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                          "condition-category", "code": "encounter-diagnosis"}]}],
                "code": {"coding": [{"system": ICD10, "code": "M54.5"}]},
                "subject": {"reference": "https://ehr.example/fhir/Patient/p1"},
                "encounter": {"reference": "Encounter/v1"},
                "recordedDate": "2025-02-03T10:15:00+01:00",
            }
        ],
    )  # fmt: skip
    _lines(
        source / "3-responses.ndjson",
        [
            {**rows_to_fhir.assessment(_assessment("p1", "a1", None, None, _intakes()[0])),
             "encounter": {"reference": "Encounter/v1"}}
        ],
    )  # fmt: skip
    import_fhir_bulk(source, tmp_path / "out")
    episodes = tables.scan(tmp_path / "out", "episodes").collect()
    assert episodes.select("episode_id", "person_id", "setting", "diagnosis_date").rows() == [
        ("ep1", "p1", "emergency", D(2025, 2, 3))
    ]
    assessments = tables.scan(tmp_path / "out", "assessments").collect()
    assert assessments["episode_id"].to_list() == ["ep1"]
    errors = _error_rows(tmp_path / "out")
    assert [(r["file"], r["line"]) for r in errors] == [("1-encounters.ndjson", "2")]
    assert "not the diagnosis visit" in errors[0]["message"]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            {"output": [{"type": "Patient", "url": "https://example.org/Patient.ndjson"}]},
            "not a local file",
        ),
        ({"output": [{"type": "Patient", "url": "missing.ndjson"}]}, "no file"),
        ({"transactionTime": "2025-01-01T00:00:00Z"}, "no output list"),
        ({"output": [{"type": "Patient"}]}, "has no url"),
    ],
)
def test_a_manifest_that_cannot_be_followed_is_refused(
    tmp_path: Path, manifest: dict[str, Any], message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        source_files(path)


def test_a_source_without_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no \.ndjson files"):
        source_files(tmp_path)
    with pytest.raises(SourceError, match="no such file"):
        source_files(tmp_path / "nowhere")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(SourceError, match="unreadable JSON"):
        source_files(tmp_path / "broken.json")


def test_a_short_code_system_name_is_written_as_its_uri(tmp_path: Path) -> None:
    rows: dict[str, list[Row]] = {table: [] for table in tables.TABLES}
    rows["procedures"] = [
        {"person_id": "p1", "performed_on": None, "kind": "spinal_surgery",
         "code_system": "snomed", "code": "42515009"},
    ]  # fmt: skip
    write_dataset(tmp_path / "dataset", rows)
    write_fhir_bulk(tmp_path / "dataset", tmp_path / "export")
    procedure = json.loads((tmp_path / "export" / "Procedure.ndjson").read_text())
    assert procedure["code"] == {"coding": [{"system": SNOMED, "code": "42515009"}]}
    import_fhir_bulk(tmp_path / "export", tmp_path / "back")
    assert _sorted(tmp_path / "back", "procedures")["code_system"].to_list() == [SNOMED]


# --- Rows the export cannot write or would not read back the same ------------------------------


def test_rows_that_cannot_be_written_are_operation_outcomes(tmp_path: Path) -> None:
    rows: dict[str, list[Row]] = {table: [] for table in tables.TABLES} | {
        "people": [
            {"person_id": "ok", "clinic_id": None, "sex": None, "birth_date": None},
            {"person_id": "not ok", "clinic_id": None, "sex": None, "birth_date": None},
        ],
        "medications": [
            # Tagged an opioid, coded paracetamol: written, but it reads back as paracetamol.
            {"person_id": "ok", "prescribed_on": None, "drug_class": "opioid",
             "code_system": "atc", "code": "N02BE01", "days_supply": None},
            {"person_id": "ok", "prescribed_on": None, "drug_class": "opioid",
             "code_system": "no such system", "code": "N02AA01", "days_supply": None},
        ],
        "proms": [_prom("ok", "pain_nrs", None, None, None, None)],
    }  # fmt: skip
    write_dataset(tmp_path / "dataset", rows)
    summary = write_fhir_bulk(tmp_path / "dataset", tmp_path / "export")
    assert (summary.errors, summary.warnings) == (3, 1)
    outcomes = [
        json.loads(line)
        for line in (tmp_path / "export" / "OperationOutcome.ndjson").read_text().splitlines()
    ]
    issues = [(o["issue"][0]["severity"], o["issue"][0]["diagnostics"]) for o in outcomes]
    assert [severity for severity, _ in issues] == ["error", "warning", "error", "error"]
    assert issues[0][1].startswith("people row 2, person_id:")
    assert issues[1][1].startswith("medications row 1, drug_class: 'opioid' reads back")
    assert issues[2][1].startswith("medications row 2, code_system: unknown code system")
    assert issues[3][1].startswith("proms row 1, instrument: 'pain_nrs' is not an instrument")
    for outcome in outcomes:
        assert schema_errors(outcome) == []
        _invariants_hold(outcome)
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert [item["type"] for item in manifest["error"]] == ["OperationOutcome"]
    assert summary.counts["Patient"] == 1
    assert summary.counts["MedicationRequest"] == 1


# --- All or nothing ----------------------------------------------------------------------------


def test_a_non_empty_output_directory_is_refused_and_left_alone(
    dataset: Path, export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputDirError, match="not empty"):
        write_fhir_bulk(dataset, out)
    with pytest.raises(OutputDirError, match="not empty"):
        import_fhir_bulk(export, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_failure_half_way_leaves_no_directory_behind(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(resource: dict[str, Any]) -> fhir_to_rows.Rows:
        raise RuntimeError("disk gone")

    monkeypatch.setitem(fhir_to_rows.READERS, "Procedure", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        import_fhir_bulk(export, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "export"]


def test_an_empty_existing_directory_is_filled(dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_fhir_bulk(dataset, tmp_path / "empty")
    assert (tmp_path / "empty" / "manifest.json").is_file()


# --- The intake through FHIR -------------------------------------------------------------------


def _mutations(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield response
    yield {**response, "status": "in-progress"}
    yield {**response, "item": [*response["item"], {"linkId": "nope", "answer": []}]}
    yield {**response, "item": response["item"][1:]}
    first = response["item"][0]
    yield {**response, "item": [{**first, "answer": [{"valueString": "x"}]}, *response["item"][1:]]}


def test_the_intake_is_read_as_the_interop_reader_reads_it() -> None:
    """The bulk reader skips only the pydantic model of the whole response: the same intake, or
    a refusal naming the same first problem."""
    for intake in _intakes():
        response = rows_to_fhir.assessment(_assessment("p", "a", None, None, intake))
        for variant in _mutations(response):
            try:
                expected: Intake | str = intake_from_response(variant)
            except ResponseError as exc:
                expected = str(exc.problems[0].message)
            try:
                found: Intake | str = fhir_to_rows._intake(variant)
            except ResponseError as exc:
                found = str(exc.problems[0].message)
            assert found == expected


# --- A property: any data set of valid rows comes back as it was ------------------------------

_IDS = st.sampled_from(["p1", "p-2", "p.3", "P4", "5"])
_DAYS = st.one_of(st.none(), st.dates(D(1990, 1, 1), D(2030, 12, 31)))
_INTAKES = _intakes()


def _coded(pool: dict[str, tuple[str, str]]) -> st.SearchStrategy[tuple[str, str, str]]:
    return st.sampled_from([(kind, *code) for kind, code in pool.items()])


@st.composite
def _datasets(draw: st.DrawFn) -> dict[str, list[Row]]:
    persons = draw(st.lists(_IDS, min_size=1, max_size=4, unique=True))
    person = st.sampled_from(persons)
    episodes: list[Row] = []
    for number in range(draw(st.integers(0, 3))):
        region = draw(st.sampled_from([None, "low_back", "neck", "upper_back"]))
        code = draw(st.sampled_from([*EPISODE_CODES, (None, None)] if region else EPISODE_CODES))
        episodes.append({
            "person_id": draw(person), "episode_id": f"e{number}", "region": region,
            "diagnosis_date": draw(_DAYS), "onset_date": draw(_DAYS),
            "setting": draw(st.sampled_from([None, "outpatient", "emergency", "telehealth",
                                             "specialist"])),
            "code_system": code[0], "code": code[1],
        })  # fmt: skip
    episode_ids: list[str | None] = [None, *(str(e["episode_id"]) for e in episodes)]
    rows: dict[str, list[Row]] = {
        "people": [
            {"person_id": p, "clinic_id": draw(st.sampled_from([None, "c1", "c-2"])),
             "sex": draw(st.sampled_from([None, *rows_to_fhir.GENDERS])),
             "birth_date": draw(_DAYS)}
            for p in persons
        ],
        "episodes": episodes,
        "assessments": [
            _assessment(draw(person), f"a{n}", draw(st.sampled_from(episode_ids)), draw(_DAYS),
                        draw(st.sampled_from(_INTAKES)))
            for n in range(draw(st.integers(0, 2)))
        ],
    }  # fmt: skip
    rows["conditions"] = [
        {"person_id": draw(person), "category": kind, "code_system": system, "code": code,
         "recorded_on": draw(_DAYS), "ended_on": draw(_DAYS)}
        for kind, system, code in draw(st.lists(_coded(CONDITION_CODES), max_size=3))
    ]  # fmt: skip
    rows["medications"] = [
        {"person_id": draw(person), "prescribed_on": draw(_DAYS), "drug_class": kind,
         "code_system": system, "code": code,
         "days_supply": draw(st.one_of(st.none(), st.integers(0, 2**31 - 1)))}
        for kind, system, code in draw(st.lists(_coded(DRUG_CODES), max_size=3))
    ]  # fmt: skip
    rows["procedures"] = [
        {"person_id": draw(person), "performed_on": draw(_DAYS), "kind": kind,
         "code_system": system, "code": code}
        for kind, system, code in draw(st.lists(_coded(PROCEDURE_CODES), max_size=3))
    ]  # fmt: skip
    rows["referrals"] = [
        {"person_id": draw(person), "referred_on": draw(_DAYS), "kind": kind,
         "code_system": system, "code": code}
        for kind, system, code in draw(st.lists(_coded(REFERRAL_CODES), max_size=2))
    ]  # fmt: skip
    rows["imaging"] = [
        {"person_id": draw(person), "performed_on": draw(_DAYS),
         "modality": draw(st.sampled_from([None, "xray", "ct", "mri"])),
         "body_site": draw(st.sampled_from([None, "lumbar", "thoracic", "cervical", "other"])),
         "ordered_by_setting": draw(st.sampled_from([None, *rows_to_fhir.ORDERING_SETTINGS])),
         "code_system": LOINC, "code": "24968-0"}
        for _ in range(draw(st.integers(0, 2)))
    ]  # fmt: skip
    rows["proms"] = []
    for _ in range(draw(st.integers(0, 3))):
        done = draw(_DAYS)
        score = draw(st.one_of(st.none(), st.floats(0, 100, allow_nan=False))) if done else None
        rows["proms"].append(_prom(
            draw(person), draw(st.sampled_from(["odi", "ndi", "nrs_back", "peg3"])),
            draw(st.sampled_from([None, *tables.TIMEPOINTS])), draw(_DAYS), done, score,
        ))  # fmt: skip
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_datasets())
def test_any_data_set_of_valid_rows_comes_back_as_it_was(rows: dict[str, list[Row]]) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        dataset = write_dataset(work / "dataset", rows)
        summary = write_fhir_bulk(dataset, work / "export")
        assert (summary.errors, summary.warnings) == (0, 0)
        import_fhir_bulk(work / "export" / "manifest.json", work / "back", chunk_rows=2)
        assert_same_tables(dataset, work / "back")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(["Patient/p1", "2025-01-01", "final", "in-progress", ICD10, "M54.5", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "reference",
                    "coding",
                    "system",
                    "code",
                    "value",
                    "url",
                    "valueCode",
                    "start",
                    "modality",
                    "bodySite",
                    "linkId",
                    "item",
                    "answer",
                ]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)
_ELEMENTS = [
    "id", "subject", "code", "category", "bodySite", "encounter", "recordedDate", "status",
    "onsetDateTime", "verificationStatus", "class", "type", "series", "modality", "started",
    "procedureCode", "extension", "medicationCodeableConcept", "intent", "authoredOn",
    "dispenseRequest", "performedDateTime", "performedPeriod", "effectiveDateTime",
    "valueQuantity", "questionnaire", "item", "authored", "gender", "managingOrganization",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(fhir_to_rows.READERS)),
    st.dictionaries(st.sampled_from(_ELEMENTS), _JSON, max_size=8),
)
def test_a_malformed_resource_is_refused_naming_a_field_never_crashing(
    kind: str, body: dict[str, Any]
) -> None:
    try:
        fhir_to_rows.READERS[kind]({"resourceType": kind, **body})
    except FieldError as error:
        refused = error
    else:
        return
    assert refused.message


# --- The commands ------------------------------------------------------------------------------


def _run(*args: str) -> Any:
    app = command_app(population)
    return CliRunner().invoke(app, ["population", *args])


def test_export_fhir_then_import_from_the_command_line(dataset: Path, tmp_path: Path) -> None:
    exported = _run("export-fhir", "--dataset", str(dataset), "--out", str(tmp_path / "fhir"))
    assert exported.exit_code == 0, exported.output
    assert "rows/s" in exported.stderr
    imported = _run(
        "import", "--from", "fhir", "--source", str(tmp_path / "fhir" / "manifest.json"),
        "--out", str(tmp_path / "back"),
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert "rows per table: people 5" in imported.stderr
    assert_same_tables(dataset, tmp_path / "back")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["export-fhir", "--dataset", "{tmp}/nowhere", "--out", "{tmp}/x"], "--dataset"),
        (["export-fhir", "--dataset", "{dataset}", "--out", "{tmp}/busy"], "--out"),
        (["export-fhir", "--dataset", "{dataset}", "--out", "{tmp}/no/such/dir"], "--out"),
        (
            ["import", "--from", "fhir", "--source", "{tmp}/nowhere", "--out", "{tmp}/x"],
            "--source",
        ),
        (["import", "--from", "fhir", "--source", "{dataset}", "--out", "{tmp}/x"], "--source"),
        (["import", "--from", "fhir", "--source", "{tmp}", "--out", "{tmp}/busy"], "--out"),
    ],
)
def test_bad_input_exits_2_naming_the_option_without_a_traceback(
    dataset: Path, tmp_path: Path, args: list[str], named: str
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x", encoding="utf-8")
    found = [a.format(tmp=tmp_path, dataset=dataset) for a in args]
    result = _run(*found)
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_a_data_set_with_a_malformed_table_is_refused(dataset: Path, tmp_path: Path) -> None:
    pl.DataFrame({"person_id": ["p1"]}).write_parquet(tables.table_path(dataset, "people"))
    result = _run("export-fhir", "--dataset", str(dataset), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "people.parquet: wrong or missing columns" in result.stderr
