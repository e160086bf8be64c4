"""The written outputs: a valid FHIR R4 Bundle of MeasureReports saying what the results say,
Parquet and CSV that read back to the same table, and the gaps-in-care lists."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fhir.resources.R4B.bundle import Bundle
from polars.testing import assert_frame_equal

from population.measures.builders import Dataset, run
from spinepath.population.measures import (
    BY_ID,
    MEASURE_RESULTS,
    MEASURES,
    PERSON_RESULTS,
    MeasureResults,
    write_measures,
)
from spinepath.population.measures.fhir import POPULATION_SYSTEM
from support.fhir_schema import schema_errors
from support.fhirpath_invariants import ACCEPTED_WARNINGS, check, definitions, evaluate

D = date(2024, 6, 1)
GENERATED = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
Json = dict[str, Any]


def _dataset() -> Dataset:
    ds = Dataset()
    for pid, clinic in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("n1", None)]:
        ds.person(pid, clinic=clinic)
        ds.episode(pid, D)
    ds.image("a1", D)  # imaged within 28 days: a gap of lbp-imaging
    ds.image("n1", D)  # so is the person with no clinic
    ds.procedure("b1", D, "risk_stratification")
    return ds


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[MeasureResults, Path]:
    directory = tmp_path_factory.mktemp("out")
    found = run(_dataset(), directory)
    out = directory / "results"
    write_measures(found, out, generated=GENERATED)
    return found, out


def _bundle(written: tuple[MeasureResults, Path]) -> Json:
    loaded: Json = json.loads((written[1] / "measure-reports.json").read_text(encoding="utf-8"))
    return loaded


def _report(bundle: Json, measure_id: str) -> Json:
    found: list[Json] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["id"] == measure_id
    ]
    [report] = found
    return report


def test_the_bundle_validates_against_the_r4_schema(written: tuple[MeasureResults, Path]) -> None:
    bundle = _bundle(written)
    assert schema_errors(bundle) == []
    for entry in bundle["entry"]:
        assert schema_errors(entry["resource"]) == [], entry["resource"]["id"]


MEASURE_REPORT_INVARIANTS = {
    # R4's StructureDefinition for MeasureReport (4.0.1), as the Firely .NET SDK and IBM's FHIR
    # server carry them; the vendored invariants in tests/interop/vendor lack MeasureReport.
    "mrp-1": "(type != 'data-collection') or group.exists().not()",
    "mrp-2": "group.stratifier.stratum.all(value.exists() xor component.exists())",
}
DATA_TYPES = {
    "period": "Period",
    "measureScore": "Quantity",
    "coding": "Coding",
    "code": "CodeableConcept",
    "value": "CodeableConcept",
    "improvementNotation": "CodeableConcept",
}


def _typed_nodes(node: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every node of the data types above in a MeasureReport, with its type."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, list):
        for item in node:
            found += _typed_nodes(item, key)
    elif isinstance(node, dict):
        if key in DATA_TYPES:
            found.append((DATA_TYPES[key], node))
        for child_key, child in node.items():
            found += _typed_nodes(child, child_key)
    return found


def test_the_bundle_meets_the_fhirpath_invariants(written: tuple[MeasureResults, Path]) -> None:
    report = check(_bundle(written))
    unvendored = [e for e in report.errors if "'MeasureReport'" in e.human]
    assert len(unvendored) == len(MEASURES)  # only MeasureReport's own are not vendored
    assert [e for e in report.errors if e not in unvendored] == []
    assert [w for w in report.warnings if w.key not in ACCEPTED_WARNINGS] == []


def test_each_report_meets_the_measure_report_and_data_type_invariants(
    written: tuple[MeasureResults, Path],
) -> None:
    domain = {
        k: v["expression"]
        for k, v in definitions()["Observation"].constraints.items()
        if k.startswith("dom-") and v["severity"] == "error"
    }
    for entry in _bundle(written)["entry"]:
        resource = entry["resource"]
        for key, expression in {**MEASURE_REPORT_INVARIANTS, **domain}.items():
            assert evaluate(expression, resource, "MeasureReport") == [True], key
        nodes = _typed_nodes(resource)
        assert {t for t, _ in nodes} >= {"Period", "Coding", "CodeableConcept"}
        for type_name, node in nodes:
            definition = definitions()[type_name]
            for key in definition.elements[type_name].constraints:
                outcome = evaluate(definition.constraints[key]["expression"], node, type_name)
                assert outcome == [True], (resource["id"], type_name, key)


def test_the_bundle_parses_with_fhir_resources(written: tuple[MeasureResults, Path]) -> None:
    parsed = Bundle.model_validate(_bundle(written))
    assert parsed.type == "collection"
    assert len(parsed.entry or []) == len(MEASURES)


def _counts(populations: list[Json]) -> dict[str, int]:
    found = {}
    for population in populations:
        [coding] = population["code"]["coding"]
        assert coding["system"] == POPULATION_SYSTEM
        found[coding["code"]] = population["count"]
    return found


def test_each_report_says_what_the_results_say(written: tuple[MeasureResults, Path]) -> None:
    bundle = _bundle(written)
    results = written[0].results
    for measure in MEASURES:
        report = _report(bundle, measure.id)
        assert report["status"] == "complete"
        assert report["type"] == "summary"
        assert report["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
        assert report["date"] == "2025-01-15T09:30:00Z"
        [notation] = report["improvementNotation"]["coding"]
        assert notation["code"] == ("increase" if measure.numerator_is_good else "decrease")
        rows = {
            r["clinic_id"]: r for r in results.filter(pl.col("measure_id") == measure.id).to_dicts()
        }
        [group] = report["group"]
        total = rows.pop("ALL")
        assert _counts(group["population"]) == {
            "initial-population": total["initial_population"],
            "denominator": total["denominator"],
            "denominator-exclusion": total["exclusions"],
            "numerator": total["numerator"],
        }
        if total["rate"] is None:
            assert "measureScore" not in group
        else:
            assert group["measureScore"]["value"] == pytest.approx(total["rate"], abs=1e-6)
        strata = group.get("stratifier", [{"stratum": []}])[0]["stratum"]
        assert {s["value"]["text"] for s in strata} == set(rows)


def test_the_imaging_report_counts_clinics_and_everyone(
    written: tuple[MeasureResults, Path],
) -> None:
    report = _report(_bundle(written), "lbp-imaging")
    [group] = report["group"]
    assert _counts(group["population"])["numerator"] == 2  # a1 and n1 (no clinic)
    [stratifier] = group["stratifier"]
    by_clinic = {s["value"]["text"]: s for s in stratifier["stratum"]}
    assert set(by_clinic) == {"A", "B"}
    assert _counts(by_clinic["A"]["population"])["numerator"] == 1
    assert by_clinic["A"]["measureScore"]["value"] == pytest.approx(0.5)


def test_parquet_and_csv_read_back_to_the_results(written: tuple[MeasureResults, Path]) -> None:
    results, out = written[0].results, written[1]
    assert_frame_equal(pl.read_parquet(out / "measures.parquet"), results)
    from_csv = pl.read_csv(out / "measures.csv", schema=dict(MEASURE_RESULTS))
    assert_frame_equal(from_csv, results)
    people = pl.read_parquet(out / "measure-people.parquet")
    assert people.schema == pl.Schema(PERSON_RESULTS)
    assert_frame_equal(people, written[0].read_people())


def test_a_gap_list_for_every_measure(written: tuple[MeasureResults, Path]) -> None:
    gap_dir = written[1] / "gaps"
    assert sorted(p.name for p in gap_dir.iterdir()) == sorted(f"{m.id}.csv" for m in MEASURES)


def _gaps(written: tuple[MeasureResults, Path], measure_id: str) -> list[dict[str, Any]]:
    return pl.read_csv(written[1] / "gaps" / f"{measure_id}.csv", infer_schema=False).to_dicts()


def test_a_lower_is_better_gap_lists_who_got_the_care(written: tuple[MeasureResults, Path]) -> None:
    gaps = _gaps(written, "lbp-imaging")
    assert [(g["clinic_id"], g["person_id"]) for g in gaps] == [("A", "a1"), (None, "n1")]
    assert gaps[0]["reason"] == (
        f"{BY_ID['lbp-imaging'].gap}: lumbar mri on {D}, 0 days after the diagnosis on {D}"
    )


def test_a_higher_is_better_gap_lists_who_missed_the_care(
    written: tuple[MeasureResults, Path],
) -> None:
    gaps = _gaps(written, "qs155-1-risk-stratification")
    assert [(g["clinic_id"], g["person_id"]) for g in gaps] == [
        ("A", "a1"),
        ("A", "a2"),
        (None, "n1"),
    ]
    assert {g["reason"] for g in gaps} == {BY_ID["qs155-1-risk-stratification"].gap}


def test_a_person_with_no_clinic_counts_only_in_all(written: tuple[MeasureResults, Path]) -> None:
    results = written[0].results.filter(pl.col("measure_id") == "lbp-imaging")
    by_clinic = {r["clinic_id"]: r for r in results.to_dicts()}
    assert set(by_clinic) == {"ALL", "A", "B"}
    assert (by_clinic["ALL"]["denominator"], by_clinic["A"]["denominator"]) == (4, 2)
    assert by_clinic["B"]["denominator"] == 1
    assert by_clinic["A"]["reported_rate"] == pytest.approx(0.5)
    # B had no imaging: inverted rate 1, the best of the two clinics.
    assert (by_clinic["B"]["centile"], by_clinic["A"]["centile"]) == (100.0, 0.0)


def test_writing_twice_with_the_same_moment_gives_the_same_reports(
    written: tuple[MeasureResults, Path], tmp_path: Path
) -> None:
    found = written[0]
    write_measures(found, tmp_path, generated=GENERATED)
    assert (tmp_path / "measure-reports.json").read_bytes() == (
        written[1] / "measure-reports.json"
    ).read_bytes()
