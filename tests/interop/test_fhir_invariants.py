"""Every FHIR export meets HL7's FHIRPath invariants, evaluated by a maintained engine.

The invariants come from the R4 4.0.1 StructureDefinitions (vendored, with their provenance, in
tests/interop/vendor/fhir-r4-invariants.json) and are evaluated by fhirpathpy through
tests/support/fhirpath_invariants.py. Deliberately broken resources show that the check fails
when it should, and the engine's known gaps are pinned so that they cannot widen unnoticed.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from types import ModuleType
from typing import Any

import fhirpathpy
import pytest

from interop.test_fhir_schema import DAY, complete_answers, scored
from spinepath.instruments import catalogue
from spinepath.instruments.scoring import score
from spinepath.instruments.wording import find_wording
from spinepath.interop import fhir, terminology
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.fhir_checks import resources_in
from support.fhirpath_invariants import (
    ACCEPTED_WARNINGS,
    CORRECTED,
    SKIPPED,
    Report,
    assert_invariants,
    assert_report,
    check,
    definitions,
    evaluate,
    parsed,
    typed_node,
    vendored,
)
from support.files import example_paths

ALL = sorted(catalogue.definitions())
WORDING_DIR = Path(__file__).resolve().parents[1] / "instruments" / "fixtures" / "wording"

# The resource types the vendored file must cover: what the exporters emit or are about to.
EXPORTED_TYPES = {
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
}

Json = dict[str, Any]


def _json(resource: Any) -> Json:
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


# --- what the exporters produce ---------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    name: str
    build: Callable[[], list[Json]]


def _one(build: Callable[[], Json]) -> Callable[[], list[Json]]:
    return lambda: [build()]


def _with_site_wording() -> Json:
    wordings = {}
    for code in ALL:
        wording = find_wording(catalogue.get(code), WORDING_DIR)
        if wording is not None:
            wordings[code] = wording
    assert wordings, f"no site wording fixture in {WORDING_DIR}"
    return _json(fhir.questionnaire_bundle(wordings))


def _unscorable(code: str) -> Json:
    blank = dict.fromkeys(complete_answers(catalogue.get(code)))
    return _json(fhir.score_observation(score(code, blank), effective=DAY))


def _response(code: str) -> Json:
    answers = complete_answers(catalogue.get(code))
    return _json(fhir.questionnaire_response(code, answers, authored=DAY))


def _low_odi() -> Json:
    low: dict[str, object] = dict.fromkeys(catalogue.get("odi").item_codes, 1)
    return _json(fhir.scored_bundle(score("odi", low), low, effective=DAY))


def _resources_from(value: Any) -> list[Json]:
    if isinstance(value, list | tuple):
        return [r for item in value for r in _resources_from(item)]
    if hasattr(value, "model_dump"):
        value = _json(value)
    return [value] if isinstance(value, dict) and "resourceType" in value else []


def _discovered(module: ModuleType) -> list[Json]:
    """What ``fhir_examples()`` returns, or else every zero-argument public builder."""
    hook = getattr(module, "fhir_examples", None)
    if callable(hook):
        builders = [hook]
    else:
        builders = [
            fn
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_")
            and fn.__module__ == module.__name__
            and all(
                p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                for p in inspect.signature(fn).parameters.values()
            )
        ]
    return [r for fn in builders for r in _resources_from(fn())]


def _assessment_bundles(module: ModuleType) -> list[Json]:
    """``assessment_bundle`` for every example intake, and once for a patient in the record."""
    build = module.assessment_bundle
    recorded = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    bundles = []
    for path in example_paths():
        intake = Intake.model_validate_json(path.read_text(encoding="utf-8"))
        bundles.append(_json(build(intake, assess(intake), recorded=recorded)))
    intake = Intake.model_validate_json(example_paths()[0].read_text(encoding="utf-8"))
    subject = "https://ehr.example/fhir/Patient/123"
    bundles.append(_json(build(intake, assess(intake), recorded=recorded, subject=subject)))
    return bundles


# Exporters being written alongside these, checked as soon as they exist, each by the recipe
# that builds what it exports (a module without one here is asked for fhir_examples()).
OPTIONAL_EXPORTERS: dict[str, Callable[[ModuleType], list[Json]]] = {
    "spinepath.interop.assessment_bundle": _assessment_bundles,
    "spinepath.interop.intake_questionnaire": _discovered,
}


def _optional_exporter(
    module_name: str, recipe: Callable[[ModuleType], list[Json]] = _discovered
) -> Callable[[], list[Json]]:
    def build() -> list[Json]:
        found = recipe(importlib.import_module(module_name))
        # Checking nothing would pass silently; say how to give this test something to check.
        assert found, (
            f"{module_name} exists but offers no FHIR resource to check: give it a "
            "fhir_examples() returning representative exports (or a zero-argument builder)"
        )
        return found

    return build


def _exports() -> Iterator[Export]:
    yield Export("questionnaire_bundle", _one(lambda: _json(fhir.questionnaire_bundle())))
    yield Export("questionnaire_bundle with site wording", _one(_with_site_wording))
    for code in ALL:
        yield Export(f"questionnaire_response[{code}]", _one(partial(_response, code)))
        yield Export(f"scored_bundle[{code}]", _one(partial(scored, code)))
        yield Export(f"unscorable score_observation[{code}]", _one(partial(_unscorable, code)))
    yield Export(
        "scored_bundle for a patient in the record",
        _one(lambda: scored("startback", subject="https://ehr.example/fhir/Patient/123")),
    )
    yield Export("scored_bundle with a low ODI band", _one(_low_odi))
    for module_name, recipe in OPTIONAL_EXPORTERS.items():
        if importlib.util.find_spec(module_name) is not None:
            yield Export(module_name, _optional_exporter(module_name, recipe))


EXPORTS = list(_exports())


@cache
def _reports(export: Export) -> tuple[Report, ...]:
    # Built and checked once: the corpus-wide tests below read the same reports.
    return tuple(check(resource) for resource in export.build())


@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_every_export_meets_the_r4_invariants(export: Export) -> None:
    for report in _reports(export):
        assert_report(report)


def _corpus_report() -> Report:
    total = Report()
    for export in EXPORTS:
        for report in _reports(export):
            total.merge(report)
    return total


def test_the_invariants_are_really_evaluated_across_the_exports() -> None:
    report = _corpus_report()
    keys = {key for _, key in report.evaluated}
    # The ones once written out by hand in test_fhir_schema.py, and the element-level ones.
    assert {"que-2", "bdl-7", "dom-3", "obs-6", "obs-7", "csd-1", "qrs-1"} <= keys
    assert {"ele-1", "ext-1", "ref-1", "qty-3", "que-1", "que-5", "bdl-8"} <= keys
    # At least the types fhir.py exports; the exporters written alongside add theirs.
    assert {resource_type for resource_type, _ in report.evaluated} >= {
        "Bundle",
        "CodeSystem",
        "Observation",
        "Patient",
        "Questionnaire",
        "QuestionnaireResponse",
    }
    assert sum(report.evaluated.values()) > 5_000


def test_each_accepted_warning_is_one_the_exports_trigger() -> None:
    fired = {w.key for w in _corpus_report().warnings}
    assert fired == set(ACCEPTED_WARNINGS)


# --- the check fails when it should -----------------------------------------------------------


def _scored_part(index: int) -> Json:
    part: Json = copy.deepcopy(resources_in(scored("startback"))[index])
    return part


def _duplicate_full_url() -> Json:
    bundle = scored("odi")
    bundle["entry"][1]["fullUrl"] = bundle["entry"][0]["fullUrl"]
    return bundle


def _answer_and_item() -> Json:
    response = _scored_part(0)
    response["item"][0]["item"] = [{"linkId": "nested", "answer": [{"valueBoolean": True}]}]
    return response


def _unreferenced_contained() -> Json:
    response = _scored_part(0)
    response["subject"] = {"reference": "https://ehr.example/fhir/Patient/123"}
    return response


def _dangling_local_reference() -> Json:
    observation = _scored_part(1)
    del observation["contained"]
    return observation


def _value_and_absent_reason() -> Json:
    observation = _scored_part(1)
    observation["dataAbsentReason"] = {"text": "not asked"}
    return observation


def _component_repeats_the_code() -> Json:
    observation = _scored_part(1)
    observation["component"][0]["code"] = observation["code"]
    return observation


def _duplicate_link_id() -> Json:
    questionnaire = _json(fhir.questionnaire("odi"))
    questionnaire["item"][1]["linkId"] = questionnaire["item"][0]["linkId"]
    return questionnaire


def _options_on_a_boolean_item() -> Json:
    questionnaire = _json(fhir.questionnaire("rmdq"))
    assert questionnaire["item"][0]["type"] == "boolean"
    questionnaire["item"][0]["answerOption"] = [{"valueString": "yes"}]
    return questionnaire


def _duplicate_code() -> Json:
    system = _json(terminology.code_systems()[0])
    system["concept"].append(dict(system["concept"][0]))
    return system


def _extension_with_value_and_extensions() -> Json:
    observation = _scored_part(1)
    observation["extension"] = [
        {
            "url": "https://x.example/a",
            "valueString": "a",
            "extension": [{"url": "b", "valueCode": "b"}],
        }
    ]
    return observation


def _empty_element() -> Json:
    observation = _scored_part(1)
    observation["method"] = {}
    return observation


def _unit_code_without_system() -> Json:
    observation = _scored_part(1)
    del observation["valueQuantity"]["system"]
    return observation


def _period_ending_before_it_starts() -> Json:
    observation = _scored_part(1)
    del observation["effectiveDateTime"]
    observation["effectivePeriod"] = {"start": "2026-01-05", "end": "2026-01-01"}
    return observation


def _nested_group_without_items() -> Json:
    # que-1: a group needs items; reached through Questionnaire.item.item's contentReference.
    questionnaire = _json(fhir.questionnaire("odi"))
    questionnaire["item"][0]["item"] = [{"linkId": "g", "type": "group"}]
    return questionnaire


def _element_not_in_r4() -> Json:
    observation = _scored_part(1)
    observation["valueQuantity"]["precision"] = 2
    return observation


def _resource_type_not_vendored() -> Json:
    bundle = scored("odi")
    bundle["entry"][0]["resource"] = {"resourceType": "Condition", "id": "x"}
    return bundle


BROKEN: dict[str, tuple[Callable[[], Json], str]] = {
    "two entries with one fullUrl": (_duplicate_full_url, "bdl-7"),
    "a response item with both answer and item": (_answer_and_item, "qrs-1"),
    "a contained patient nothing refers to": (_unreferenced_contained, "dom-3"),
    "a local reference with nothing contained": (_dangling_local_reference, "ref-1"),
    "a value and a data-absent reason": (_value_and_absent_reason, "obs-6"),
    "a component with the observation's own code": (_component_repeats_the_code, "obs-7"),
    "two items with one linkId": (_duplicate_link_id, "que-2"),
    "answer options on a boolean item": (_options_on_a_boolean_item, "que-5"),
    "a nested group with no items": (_nested_group_without_items, "que-1"),
    "a code defined twice": (_duplicate_code, "csd-1"),
    "an extension with a value and extensions": (_extension_with_value_and_extensions, "ext-1"),
    "an element with nothing in it": (_empty_element, "ele-1"),
    "a unit code with no system": (_unit_code_without_system, "qty-3"),
    "a period ending before it starts": (_period_ending_before_it_starts, "per-1"),
    "an element R4 does not have": (_element_not_in_r4, "walk"),
    "a resource type with no vendored invariants": (_resource_type_not_vendored, "walk"),
}


@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_resource_fails_exactly_the_invariant_it_breaks(broken: str) -> None:
    build, key = BROKEN[broken]
    resource = build()
    assert {f.key for f in check(resource).errors} == {key}
    with pytest.raises(AssertionError, match=key):
        assert_invariants(resource)


def test_a_warning_outside_the_accepted_list_fails() -> None:
    questionnaire = _json(fhir.questionnaire("odi"))
    questionnaire["name"] = "not a computable name"
    assert [w.key for w in check(questionnaire).warnings] == ["dom-6", "que-0"]
    with pytest.raises(AssertionError, match="que-0"):
        assert_invariants(questionnaire)
    assert_invariants(questionnaire, accepted_warnings={**ACCEPTED_WARNINGS, "que-0": "test"})


def test_a_primitive_carried_only_by_its_extension_has_children_for_ele_1() -> None:
    observation = _scored_part(1)
    del observation["status"]
    observation["_status"] = {"extension": [{"url": "https://x.example/a", "valueCode": "x"}]}
    assert check(observation).errors == []


# --- the engine's gaps, pinned ----------------------------------------------------------------


def _raw(expression: str, resource: Any, base: str, variables: Json | None = None) -> list[Any]:
    # fhirpathpy on its own: without the hasValue() the helper adds.
    return fhirpathpy.evaluate(typed_node(resource, base), expression, variables)


@pytest.mark.parametrize("key", SKIPPED)
def test_each_skipped_invariant_needs_a_function_fhirpathpy_lacks(key: str) -> None:
    function = SKIPPED[key].function
    with pytest.raises(Exception, match=f"Not implemented: {function}"):
        _raw(f"{function}()", {"div": "<div/>"}, "Narrative")
    expressions = {
        d.constraints[key]["expression"] for d in definitions().values() if key in d.constraints
    }
    assert expressions
    assert all(f"{function}(" in e for e in expressions)


def test_skipped_invariants_are_reported_as_skipped_not_passed() -> None:
    observation = _scored_part(1)
    observation["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">score</div>',
    }
    report = check(observation)
    assert sorted(key for key, _ in report.skipped) == ["txt-1", "txt-2"]
    assert report.errors == []


def test_has_value_is_supplied_because_fhirpathpy_lacks_it() -> None:
    with pytest.raises(Exception, match="Not implemented: hasValue"):
        _raw("status.hasValue()", _scored_part(1), "Observation")
    observation = _scored_part(1)
    assert evaluate("status.hasValue()", observation, "Observation") == [True]
    assert evaluate("code.hasValue()", observation, "Observation") == [False]
    assert evaluate("valueQuantity.hasValue()", observation, "Observation") == [False]
    observation["_issued"] = {"extension": [{"url": "https://x.example/a", "valueCode": "x"}]}
    assert evaluate("issued.hasValue()", observation, "Observation") == [False]


@dataclass(frozen=True)
class Case:
    node: Any
    base: str
    meets: bool
    root: Json | None = None

    def variables(self) -> Json:
        if self.root is None:
            return {}
        node = typed_node(self.root, self.root["resourceType"])
        return {"resource": node, "rootResource": node}


def _enable_when(operator: str, **answer: Any) -> Json:
    return {"question": "q", "operator": operator, **answer}


def _named(resource_type: str, name: str | None) -> Json:
    resource: Json = {"resourceType": resource_type, "status": "active"}
    if name is not None:
        resource["name"] = name
    return resource


def _item_shown_when(count: int, **more: Any) -> Json:
    shown_when = [_enable_when("exists", answerBoolean=True)] * count
    return {"linkId": "a", "type": "boolean", "enableWhen": shown_when, **more}


_WITH_CONTAINED: Json = {"resourceType": "Observation", "contained": [{"resourceType": "Patient"}]}
_WITH_CONTAINED["contained"][0]["id"] = "p"

# For each correction, instances with the verdict the constraint's human text gives them.
CORRECTION_CASES: dict[str, list[Case]] = {
    "bdl-8": [
        Case({"resource": {"resourceType": "Patient"}}, "Bundle.entry", meets=True),
        Case({"fullUrl": "https://x.example/Patient/1/_history/2"}, "Bundle.entry", meets=False),
    ],
    "ras-2": [
        Case({"outcome": {"text": "recovery"}}, "RiskAssessment.prediction", meets=True),
        Case({"probabilityDecimal": 120}, "RiskAssessment.prediction", meets=False),
        Case({"probabilityDecimal": 12.5}, "RiskAssessment.prediction", meets=True),
    ],
    "ref-1": [
        Case({"display": "the patient"}, "Reference", meets=True, root=_WITH_CONTAINED),
        Case({"reference": "#"}, "Reference", meets=True, root=_WITH_CONTAINED),
        Case({"reference": "#p"}, "Reference", meets=True, root=_WITH_CONTAINED),
        Case({"reference": "#q"}, "Reference", meets=False, root=_WITH_CONTAINED),
    ],
    "que-12": [
        Case(_item_shown_when(2), "Questionnaire.item", meets=False),
        Case(_item_shown_when(2, enableBehavior="any"), "Questionnaire.item", meets=True),
        Case(_item_shown_when(1), "Questionnaire.item", meets=True),
    ],
    "que-0": [
        Case(_named("Questionnaire", None), "Questionnaire", meets=True),
        Case(_named("Questionnaire", "Odi"), "Questionnaire", meets=True),
        Case(_named("Questionnaire", "Odi form"), "Questionnaire", meets=False),
    ],
    "csd-0": [
        Case(_named("CodeSystem", None), "CodeSystem", meets=True),
        Case(_named("CodeSystem", "Scores"), "CodeSystem", meets=True),
        Case(_named("CodeSystem", "Scores!"), "CodeSystem", meets=False),
    ],
    "que-7": [
        Case(_enable_when("exists", answerBoolean=True), "Questionnaire.item.enableWhen", True),
        Case(_enable_when("exists", answerString="x"), "Questionnaire.item.enableWhen", False),
        Case(_enable_when("=", answerString="x"), "Questionnaire.item.enableWhen", True),
    ],
    "dom-3": [
        Case(_scored_part(0), "QuestionnaireResponse", meets=True, root=_scored_part(0)),
        Case(
            _unreferenced_contained(),
            "QuestionnaireResponse",
            meets=False,
            root=_unreferenced_contained(),
        ),
    ],
}


@pytest.mark.parametrize("key", CORRECTED)
def test_each_correction_replaces_a_vendored_r4_text_whose_verdict_is_wrong(key: str) -> None:
    correction = CORRECTED[key]
    expressions = {
        d.constraints[key]["expression"] for d in definitions().values() if key in d.constraints
    }
    assert expressions == {correction.original}
    published_wrong = 0
    for case in CORRECTION_CASES[key]:
        variables = case.variables()
        assert evaluate(correction.replacement, case.node, case.base, variables) == [case.meets]
        try:
            published = evaluate(correction.original, case.node, case.base, variables)
        except Exception:  # an error is a wrong verdict like any other
            published = None
        published_wrong += published != [case.meets]
    assert published_wrong, "R4's own text gets these right: the correction is not needed"


def test_every_correction_has_cases() -> None:
    assert set(CORRECTION_CASES) == set(CORRECTED)


def test_every_vendored_expression_parses() -> None:
    expressions = {c["expression"] for d in definitions().values() for c in d.constraints.values()}
    assert len(expressions) > 60
    for expression in expressions | {c.replacement for c in CORRECTED.values()}:
        assert parsed(expression)["children"], expression


# --- the vendored definitions -----------------------------------------------------------------


def test_the_vendored_invariants_are_hl7s_r4_core_package_with_provenance() -> None:
    source = vendored()["source"]
    assert (source["package"], source["version"], source["licence"]) == (
        "hl7.fhir.r4.core",
        "4.0.1",
        "CC0-1.0",
    )
    defs = definitions()
    assert {name for name, d in defs.items() if d.kind == "resource"} >= EXPORTED_TYPES
    assert set(source["sha256"]) == {"package.json"} | {
        f"StructureDefinition-{name}.json" for name in defs
    }
    assert all(len(digest) == 64 for digest in source["sha256"].values())
    cross = source["cross_checked_with"]
    assert set(cross["sha256"]) == {"profiles-resources.json", "profiles-types.json"}


def test_every_constraint_an_element_names_is_defined_and_every_type_is_vendored() -> None:
    defs = definitions()
    for definition in defs.values():
        for element in definition.elements.values():
            assert set(element.constraints) <= set(definition.constraints), element.path
            if element.content_reference is not None:
                assert element.content_reference in definition.elements
            for code in element.types:
                assert (
                    code in defs
                    or code.startswith("System.")
                    or code in {"Element", "BackboneElement", "Resource"}
                ), (element.path, code)


# --- exporters written alongside --------------------------------------------------------------


def _fake_exporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_an_exporter_is_checked_through_its_zero_argument_builders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _fake_exporter(
        tmp_path,
        monkeypatch,
        "fake_exporter_builders",
        "from json import loads\n"
        "def patient(active=True):\n"
        "    return {'resourceType': 'Patient', 'id': 'p', 'active': active}\n"
        "def pair():\n"
        "    return [patient(), patient(False)]\n"
        "def needs_input(assessment):\n"
        "    raise AssertionError('not called: it needs an argument')\n"
        "def _private():\n"
        "    raise AssertionError('not called: private')\n",
    )
    found = _optional_exporter(name)()
    assert sorted(r["active"] for r in found) == [False, True, True]


def test_an_exporter_offering_examples_is_checked_through_them_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _fake_exporter(
        tmp_path,
        monkeypatch,
        "fake_exporter_examples",
        "def fhir_examples():\n"
        "    return [{'resourceType': 'Patient', 'id': 'example'}]\n"
        "def other():\n"
        "    raise AssertionError('not called: fhir_examples() says what to check')\n",
    )
    assert _optional_exporter(name)() == [{"resourceType": "Patient", "id": "example"}]


def test_an_exporter_with_nothing_to_check_fails_rather_than_passing_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _fake_exporter(
        tmp_path, monkeypatch, "fake_exporter_empty", "def build(assessment):\n    return {}\n"
    )
    with pytest.raises(AssertionError, match="fhir_examples"):
        _optional_exporter(name)()
