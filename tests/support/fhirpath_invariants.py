"""HL7's FHIRPath invariants, evaluated by fhirpathpy on every node of a FHIR R4 resource.

The invariants are the ``constraint`` elements of the R4 4.0.1 StructureDefinitions, vendored in
tests/interop/vendor/fhir-r4-invariants.json with the type of every element. A resource is walked
the way HL7's validator walks it: each JSON property is matched to its element definition, a
node of a data type (Quantity, Reference, Extension...) also gets that type's own invariants,
nested items reached through a contentReference get the invariants of the element they
reuse, and resources inside the resource (Bundle entries, contained) get their own type's. Each
constraint is evaluated on the node it is defined for, with %resource and %rootResource set.

A constraint passes only when its expression gives ``true``: ``false``, an empty result and an
error all fail it, as in HL7's validator. An ``error`` constraint that fails is an error; a
``warning`` is collected, and :func:`assert_invariants` fails on any warning outside the
accepted list (each accepted one with its reason). An expression that fhirpathpy cannot evaluate
is an error unless its constraint is on :data:`SKIPPED`, which says why. A few R4 expressions
are known to be wrong; :data:`CORRECTED` lists what is evaluated instead of each, and why.

Other exporters' tests call ``assert_invariants(resource)`` with a resource as a JSON dict (or a
fhir.resources model).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import FP_Quantity, ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

INVARIANTS_PATH = (
    Path(__file__).resolve().parents[1] / "interop" / "vendor" / "fhir-r4-invariants.json"
)

Json = dict[str, Any]

# fhirpathpy ships no annotations for these; the names below are what it is called through.
_parse: Callable[[str], Json] = parse
_apply: Callable[..., list[Any]] = apply_parsed_path
_create_node: Callable[[Any, str], Any] = ResourceNode.create_node
_R4_MODEL: Json = models["r4"]


@dataclass(frozen=True)
class Skip:
    function: str
    reason: str


# Constraints fhirpathpy cannot evaluate, by key: each uses a FHIR-specific function that it does
# not implement. tests/interop/test_fhir_invariants.py proves each function is still missing and
# each expression still calls it, so an entry goes stale loudly.
SKIPPED: dict[str, Skip] = {
    "txt-1": Skip(
        "htmlChecks",
        "the XHTML rules for Narrative.div (allowed elements and attributes) are the "
        "validator's own code, not FHIRPath; fhirpathpy has no htmlChecks(). The JSON schema "
        "test still checks that div is there and is a string.",
    ),
    "txt-2": Skip(
        "htmlChecks",
        "the same htmlChecks() (non-whitespace content in Narrative.div).",
    ),
}


@dataclass(frozen=True)
class Correction:
    original: str
    replacement: str
    source: str
    reason: str


_VALIDATOR = (
    "HL7's reference validator, which evaluates this corrected text in place of R4's "
    "(org.hl7.fhir.core, org.hl7.fhir.validation/.../instance/utils/FHIRPathExpressionFixer.java"
    " fixExpr, commit e48457b0d1d3ffe2498cd220b587e7887981e3a9)"
)
_NAME_PATTERN = Correction(
    original="name.matches('[A-Z]([A-Za-z0-9_]){0,254}')",
    replacement="name.exists() implies name.matches('^[A-Z]([A-Za-z0-9_]){0,254}$')",
    source=_VALIDATOR,
    reason=(
        "R4's text is empty when there is no name (a warning for an optional element) and, "
        "unanchored, accepts a name that merely contains an identifier"
    ),
)
_REFERENCE = (
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))"
)

# R4 4.0.1 expressions that are known to be wrong, evaluated in their corrected form: the ones
# HL7's reference validator corrects itself, and two that fhirpathpy cannot evaluate as written,
# replaced by the text later HL7 releases carry. A correction applies only to its exact R4 text;
# tests/interop/test_fhir_invariants.py shows, for each, a verdict that the original gets wrong.
CORRECTED: dict[str, Correction] = {
    "bdl-8": Correction(
        original="fullUrl.contains('/_history/').not()",
        replacement="fullUrl.exists() implies fullUrl.contains('/_history/').not()",
        source=_VALIDATOR,
        reason="R4's text is empty, so fails, on an entry without a fullUrl (which R4 allows)",
    ),
    "ras-2": Correction(
        original="probability is decimal implies (probability as decimal) <= 100",
        replacement=(
            "probability.empty() or ((probability is decimal) implies"
            " ((probability as decimal) <= 100))"
        ),
        source=_VALIDATOR,
        reason="R4's text is empty, so fails, on a prediction without a probability",
    ),
    "ref-1": Correction(
        original=_REFERENCE,
        replacement=f"reference.exists() implies (reference = '#' or ({_REFERENCE}))",
        source=_VALIDATOR,
        reason=(
            "R4's text is empty, so fails, on a reference by identifier or display only, and "
            "on '#' (a contained resource pointing back at its container)"
        ),
    ),
    "que-12": Correction(
        original="enableWhen.count() > 2 implies enableBehavior.exists()",
        replacement="enableWhen.count() >= 2 implies enableBehavior.exists()",
        source=_VALIDATOR,
        reason=(
            "the human text (and Questionnaire.item.enableBehavior's definition) asks for "
            "enableBehavior when there is more than one enableWhen; R4's text waits for three"
        ),
    ),
    "que-0": _NAME_PATTERN,
    "csd-0": _NAME_PATTERN,
    "que-7": Correction(
        original="operator = 'exists' implies (answer is Boolean)",
        replacement="operator = 'exists' implies (answer is boolean)",
        source="hl7.fhir.r4b.core 4.3.0 and R5, Questionnaire que-7",
        reason=(
            "Boolean is System.Boolean, and a FHIR boolean is of the FHIR type boolean, so "
            "fhirpathpy (rightly) fails R4's text on every enableWhen with operator 'exists'"
        ),
    ),
    "dom-3": Correction(
        original=(
            "contained.where((('#'+id in (%resource.descendants().reference"
            " | %resource.descendants().as(canonical) | %resource.descendants().as(uri)"
            " | %resource.descendants().as(url))) or descendants().where(reference = '#').exists()"
            " or descendants().where(as(canonical) = '#').exists()"
            " or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id)"
            ".empty()"
        ),
        replacement=(
            "contained.where((('#'+id in (%resource.descendants().reference"
            " | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri)"
            " | %resource.descendants().ofType(url))) or descendants().where(reference = '#')"
            ".exists() or descendants().where(ofType(canonical) = '#').exists()"
            " or descendants().where(ofType(canonical) = '#').exists()).not())"
            ".trace('unmatched', id).empty()"
        ),
        source="R5 (5.0.0), DomainResource dom-3",
        reason=(
            "R4 applies as(type) to all descendants at once; FHIRPath defines as() on a single "
            "item and fhirpathpy raises on more, so every resource with a contained one would "
            "error. R5 wrote the same check with ofType(), which filters a collection."
        ),
    ),
}

# Warnings that spinepath's exports trigger on purpose, each with why. assert_invariants fails on
# any other warning, and the invariant tests fail on an entry here that no export triggers.
ACCEPTED_WARNINGS: dict[str, str] = {
    "dom-6": (
        "HL7's best-practice warning that a resource should carry a narrative (text.div); "
        "spinepath's exports carry none yet: they are data for the receiving system to render"
    ),
}


def _has_value(values: list[Any]) -> list[bool]:
    # hasValue() is one of the functions FHIR adds to FHIRPath (R4's FHIRPath page lists it with
    # resolve(), htmlChecks() and the rest) and fhirpathpy does not have it, yet ele-1, on every
    # element, needs it, as do per-1, age-1, cnt-3 and bdl-10. True for a
    # single primitive that has a value; a complex node, or a primitive that is only an
    # extension (its "_x" object), has none. fhirpathpy turns a UCUM Quantity into FP_Quantity.
    if len(values) != 1:
        return [False]
    value = values[0]
    return [value is not None and not isinstance(value, Mapping | list | FP_Quantity)]


_OPTIONS: Json = {
    "userInvocationTable": {"hasValue": {"fn": _has_value}},
    # trace() prints to stdout unless given somewhere else to report to.
    "traceFn": lambda label, value: None,
}


@dataclass(frozen=True)
class Finding:
    key: str
    severity: str
    location: str
    human: str
    expression: str
    outcome: str

    def __str__(self) -> str:
        return (
            f"{self.key} ({self.severity}) at {self.location}: {self.human}\n"
            f"    {self.expression}\n    -> {self.outcome}"
        )


@dataclass
class Report:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Every constraint evaluated, by resource type (of the resource holding the node) and key.
    evaluated: Counter[tuple[str, str]] = field(default_factory=Counter)

    def merge(self, other: Report) -> None:
        self.errors += other.errors
        self.warnings += other.warnings
        self.skipped += other.skipped
        self.evaluated.update(other.evaluated)


@dataclass(frozen=True)
class Element:
    path: str
    types: tuple[str, ...]
    constraints: tuple[str, ...]
    content_reference: str | None


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    constraints: Mapping[str, Json]
    elements: Mapping[str, Element]
    # parent path -> JSON property name -> (element, type when the element is a choice)
    children: Mapping[str, Mapping[str, tuple[Element, str | None]]]


def _definition(name: str, raw: Json) -> Definition:
    elements = {
        path: Element(
            path=path,
            types=tuple(entry.get("types", ())),
            constraints=tuple(entry.get("constraints", ())),
            content_reference=entry.get("contentReference"),
        )
        for path, entry in raw["elements"].items()
    }
    children: dict[str, dict[str, tuple[Element, str | None]]] = {}
    for path, element in elements.items():
        if "." not in path:
            continue
        parent, name_ = path.rsplit(".", 1)
        slot = children.setdefault(parent, {})
        if name_.endswith("[x]"):
            stem = name_.removesuffix("[x]")
            for code in element.types:
                slot[stem + code[0].upper() + code[1:]] = (element, code)
        else:
            slot[name_] = (element, None)
    return Definition(name, raw["kind"], raw["constraints"], elements, children)


@cache
def vendored() -> Json:
    loaded: Json = json.loads(INVARIANTS_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def definitions() -> dict[str, Definition]:
    return {name: _definition(name, raw) for name, raw in vendored()["definitions"].items()}


def typed_node(data: Any, base: str) -> Any:
    """``data`` as fhirpathpy's node of type (or element path) ``base``."""
    return _create_node(data, base)


@cache
def parsed(expression: str) -> Json:
    """The expression's syntax tree, parsed once: parsing costs far more than evaluating."""
    return _parse(expression)


def evaluate(
    expression: str, node: Any, base: str, variables: Mapping[str, Any] | None = None
) -> list[Any]:
    """``expression`` on ``node``, typed as ``base`` (for choice types, is and as)."""
    return _apply(
        typed_node(node, base),
        parsed(expression),
        dict(variables or {}),
        _R4_MODEL,
        _OPTIONS,
    )


@dataclass(frozen=True)
class _Context:
    resource_type: str
    variables: Mapping[str, Any]
    root: Any


class _Walker:
    def __init__(self) -> None:
        self.defs = definitions()
        self.report = Report()

    def resource(self, data: Any, location: str, root: Any | None) -> None:
        resource_type = data.get("resourceType") if isinstance(data, Mapping) else None
        definition = self.defs.get(str(resource_type))
        if definition is None or definition.kind != "resource":
            self._problem(
                location,
                f"no R4 invariants are vendored for resourceType {resource_type!r}: add it to "
                "RESOURCES in tests/interop/vendor/make_fhir_invariants.py and regenerate",
            )
            return
        node = typed_node(data, definition.name)
        root_node = node if root is None else root
        context = _Context(
            definition.name, {"resource": node, "rootResource": root_node}, root_node
        )
        own = definition.elements[definition.name].constraints
        self._check(data, definition.name, [(definition, own)], location, context)
        self._properties(data, definition, definition.name, location, context)

    def _properties(
        self,
        data: Mapping[str, Any],
        definition: Definition,
        path: str,
        location: str,
        context: _Context,
    ) -> None:
        if not isinstance(data, Mapping):
            self._problem(location, f"{path} is a JSON {type(data).__name__}, not an object")
            return
        slots = definition.children.get(path, {})
        for key, value in data.items():
            if key == "resourceType" or (key.startswith("_") and key[1:] in data):
                continue
            name = key.removeprefix("_")
            if name not in slots:
                self._problem(f"{location}.{key}", f"not an element of {path} in R4")
                continue
            element, choice = slots[name]
            sidecar = data.get(f"_{name}") if not key.startswith("_") else value
            main = value if not key.startswith("_") else None
            for index, (item, extra) in enumerate(_pairs(main, sidecar)):
                where = f"{location}.{name}" + (f"[{index}]" if _repeats(main, sidecar) else "")
                self._child(item, extra, definition, element, choice, where, context)

    def _child(
        self,
        item: Any,
        sidecar: Any,
        definition: Definition,
        element: Element,
        choice: str | None,
        location: str,
        context: _Context,
    ) -> None:
        if element.content_reference is not None:
            target = definition.elements[element.content_reference]
            self._check(item, target.path, [(definition, target.constraints)], location, context)
            self._properties(item, definition, target.path, location, context)
            return
        code = choice or (element.types[0] if len(element.types) == 1 else None)
        if code is None:
            self._problem(location, f"{element.path} has types {element.types}; cannot tell which")
            return
        own = (definition, element.constraints)
        if code in ("BackboneElement", "Element"):
            self._check(item, element.path, [own], location, context)
            self._properties(item, definition, element.path, location, context)
        elif code == "Resource":
            self._check(item, element.path, [own], location, context)
            contained = element.path.endswith(".contained")
            # A Bundle entry is a resource in its own right; a contained one lives in its root's.
            self.resource(item, location, context.root if contained else None)
        elif code.startswith("System."):
            self._check(item, code, [own], location, context)
        elif code not in self.defs:
            self._problem(location, f"no R4 invariants are vendored for the data type {code}")
        else:
            datatype = self.defs[code]
            constraints = [own, (datatype, datatype.elements[code].constraints)]
            if datatype.kind == "primitive-type":
                # A primitive with only an extension is its "_x" object, as fhirpathpy sees it.
                node = item if item is not None else sidecar
                self._check(node, code, constraints, location, context)
                if sidecar is not None:
                    self._properties(sidecar, datatype, code, location, context)
            elif sidecar is not None or item is None:
                self._problem(location, f"a {code} is null or has a _ form, as only primitives may")
            else:
                self._check(item, code, constraints, location, context)
                self._properties(item, datatype, code, location, context)

    def _check(
        self,
        node: Any,
        base: str,
        sources: list[tuple[Definition, tuple[str, ...]]],
        location: str,
        context: _Context,
    ) -> None:
        seen: set[str] = set()
        for definition, keys in sources:
            for key in keys:
                if key in seen:
                    continue
                seen.add(key)
                self._one(key, definition.constraints[key], node, base, location, context)

    def _one(
        self, key: str, constraint: Json, node: Any, base: str, location: str, context: _Context
    ) -> None:
        expression: str = constraint["expression"]
        if key in SKIPPED and f"{SKIPPED[key].function}(" in expression:
            self.report.skipped.append((key, location))
            return
        correction = CORRECTED.get(key)
        text = (
            correction.replacement
            if correction is not None and correction.original == expression
            else expression
        )
        self.report.evaluated[(context.resource_type, key)] += 1
        finding = Finding(key, constraint["severity"], location, constraint["human"], text, "")
        try:
            result = evaluate(text, node, base, context.variables)
        except Exception as error:  # any engine failure is reported, never passed
            outcome = f"fhirpathpy raised {type(error).__name__}: {str(error)[:300]}"
            self.report.errors.append(replace(finding, outcome=outcome))
            return
        if result == [True]:
            return
        failed = replace(finding, outcome="empty (not true)" if result == [] else f"{result!r}")
        if constraint["severity"] == "error":
            self.report.errors.append(failed)
        else:
            self.report.warnings.append(failed)

    def _problem(self, location: str, message: str) -> None:
        self.report.errors.append(Finding("walk", "error", location, message, "", ""))


def _pairs(main: Any, sidecar: Any) -> Iterator[tuple[Any, Any]]:
    # A repeating primitive's extensions sit at the same index of the "_x" list, null-padded.
    if isinstance(main, list) or isinstance(sidecar, list):
        mains = main if isinstance(main, list) else []
        sidecars = sidecar if isinstance(sidecar, list) else []
        for index in range(max(len(mains), len(sidecars))):
            yield (
                mains[index] if index < len(mains) else None,
                sidecars[index] if index < len(sidecars) else None,
            )
    else:
        yield main, sidecar


def _repeats(main: Any, sidecar: Any) -> bool:
    return isinstance(main, list) or isinstance(sidecar, list)


def _as_json(resource: Any) -> Json:
    if isinstance(resource, Mapping):
        return dict(resource)
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


def check(resource: Any) -> Report:
    """Every invariant that applies anywhere in ``resource``, evaluated; nothing raised."""
    data = _as_json(resource)
    walker = _Walker()
    walker.resource(data, str(data.get("resourceType", "?")), None)
    return walker.report


def assert_report(report: Report, accepted_warnings: Mapping[str, str] = ACCEPTED_WARNINGS) -> None:
    """Fails, listing each one, on any failed error invariant, any expression fhirpathpy could
    not evaluate (outside SKIPPED) and any warning not in ``accepted_warnings``."""
    problems = report.errors + [w for w in report.warnings if w.key not in accepted_warnings]
    if problems:
        listed = "\n".join(str(p) for p in problems)
        raise AssertionError(f"{len(problems)} FHIRPath invariant failure(s):\n{listed}")


def assert_invariants(
    resource: Any, *, accepted_warnings: Mapping[str, str] = ACCEPTED_WARNINGS
) -> Report:
    """:func:`check` ``resource`` and :func:`assert_report` the outcome; returns the report."""
    report = check(resource)
    assert_report(report, accepted_warnings)
    return report
