"""Reading a FHIR record into intake facts: one case per fact class, the statuses that withdraw a
fact, the provenance every fact carries, and pre-filling that never overwrites an answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.interop import codes
from spinepath.interop.record import RecordFact, UnreadableRecordError, prefill, record_facts
from spinepath.pathway.intake import Intake
from support.fhir_record import (
    ATC,
    ICD10,
    ICD10_CM,
    LOINC,
    RXNORM,
    SNOMED,
    bundle,
    concept,
    condition,
    medication,
    observation,
    patient,
    procedure,
    report,
    service_request,
)

TODAY = date(2026, 3, 2)


def _facts(*resources: dict[str, Any]) -> list[RecordFact]:
    return record_facts(bundle(*resources), TODAY)


def _fields(*resources: dict[str, Any]) -> dict[str, object]:
    return {f.field: f.value for f in _facts(*resources)}


# One row per fact class: a resource as an EHR would send it, and the fact it must give.
FACT_CASES: list[tuple[str, dict[str, Any], str, object]] = [
    ("prostate cancer", condition("C61"), "history.cancer", True),
    ("breast cancer, ICD-10-CM", condition("C50.911", ICD10_CM), "history.cancer", True),
    ("cancer in remission", condition("C91.0", clinical="remission"), "history.cancer", True),
    ("cancer resolved long ago", condition("C18.7", clinical="resolved"), "history.cancer", True),
    ("personal history of cancer", condition("Z85.3"), "history.cancer", True),
    ("cancer, SNOMED", condition("363346000", SNOMED), "history.cancer", True),
    (
        "prednisolone, ATC",
        medication("H02AB06"),
        "history.long_term_steroids",
        True,
    ),
    (
        "prednisone, RxNorm ingredient",
        medication("8640", RXNORM, kind="MedicationRequest"),
        "history.long_term_steroids",
        True,
    ),
    ("azathioprine", medication("L04AX01"), "history.immunosuppression", True),
    ("HIV disease", condition("B20"), "history.immunosuppression", True),
    ("kidney transplant", condition("Z94.0"), "history.immunosuppression", True),
    ("immunodeficiency", condition("D84.9"), "history.immunosuppression", True),
    ("injecting drug user", condition("228388006", SNOMED), "history.iv_drug_use", True),
    ("osteoporosis", condition("M81.0"), "history.osteoporosis", True),
    (
        "osteoporotic fracture",
        condition("M80.08"),
        "history.previous_fragility_fracture",
        True,
    ),
    ("collapsed vertebra", condition("M48.56"), "history.previous_fragility_fracture", True),
    ("spinal TB", condition("A18.0"), "history.tuberculosis", True),
    ("pulmonary TB", condition("A15.0", clinical="resolved"), "history.tuberculosis", True),
    ("AAA", condition("I71.4"), "history.known_aaa", True),
    ("ankylosing spondylitis", condition("M45.X6"), "history.stiff_spine_disease", True),
    ("DISH", condition("M48.1"), "history.stiff_spine_disease", True),
    ("warfarin", medication("B01AA03"), "health.anticoagulants", True),
    ("apixaban", medication("B01AF02"), "health.anticoagulants", True),
    ("type 2 diabetes", condition("E11.9"), "health.diabetes", True),
    ("post-laminectomy", condition("M96.1"), "history.prior_spine_surgery", True),
    (
        "spinal fusion done",
        procedure("55705006", performed="2019-04-01"),
        "history.prior_spine_surgery",
        True,
    ),
    (
        "recent discectomy",
        procedure("42515009", performed="2026-02-01"),
        "history.recent_spinal_procedure",
        True,
    ),
    ("discitis", condition("M46.46"), "record.spinal_infection", True),
    ("cauda equina", condition("G83.4"), "record.cauda_equina", True),
    ("paraplegia", condition("G82.2"), "record.neurological_deficit", True),
    ("foot drop", condition("M21.37", ICD10_CM), "record.neurological_deficit", True),
    ("L1 fracture", condition("S32.01"), "record.spinal_fracture", True),
    ("recent back injury", condition("S33.5", onset="2026-02-10"), "record.recent_trauma", True),
    ("open orthopaedic referral", service_request("183545006"), "record.surgical_referral", True),
    ("opioid dependence", condition("F11.2"), "record.drug_use_disorder", True),
    (
        "acute low back pain",
        condition("M54.5", onset="2026-02-16"),
        "record.low_back_pain_weeks",
        2,
    ),
    ("undated low back pain", condition("M54.50", ICD10_CM), "record.low_back_pain_weeks", None),
    (
        "current smoker",
        observation("72166-2", concept(SNOMED, "449868002")),
        "health.smoking",
        "current",
    ),
    ("ex-smoker", observation("72166-2", concept(SNOMED, "8517006")), "health.smoking", "former"),
    (
        "never smoker",
        observation("72166-2", concept(SNOMED, "266919005")),
        "health.smoking",
        "never",
    ),
    ("age from birth date", patient("1970-03-03"), "age", 55),
    ("age on the birthday", patient("1970-03-02"), "age", 56),
    ("sex", patient(gender="male"), "sex", "male"),
    (
        "lumbar MRI with a disc finding",
        report("30679-5", effective="2026-01-05", conclusion="M51.1"),
        "imaging",
        {"modality": "mri", "weeks_ago": 8, "finding": "disc_herniation"},
    ),
    ("cervical X-ray, no coded finding", report("24942-5"), "imaging", {"modality": "xray"}),
]


@pytest.mark.parametrize(
    ("resource", "field", "value"),
    [pytest.param(r, f, v, id=name) for name, r, f, v in FACT_CASES],
)
def test_each_fact_class_is_read_from_the_record(
    resource: dict[str, Any], field: str, value: object
) -> None:
    found = [f for f in _facts(resource) if f.field == field]
    assert [f.value for f in found] == [value]


# Resources that must give no fact: withdrawn, inactive where only current counts, not yet done,
# outside a recency window, or simply not about anything the intake asks.
NO_FACT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("cancer entered in error", condition("C61", verification="entered-in-error")),
    ("cancer refuted", condition("C61", verification="refuted")),
    ("diabetes resolved", condition("E11.9", clinical="resolved")),
    ("stopped steroid", medication("H02AB06", status="stopped")),
    ("completed steroid course", medication("H02AB06", status="completed")),
    ("steroid cream is not systemic", medication("D07AA02")),
    ("aspirin is an antiplatelet, not an anticoagulant", medication("B01AC06")),
    ("old back injury", condition("S33.5", onset="2025-06-01", clinical="resolved")),
    ("old injury, still open but dated", condition("S33.5", onset="2025-06-01")),
    ("spinal surgery not done yet", procedure("55705006", status="preparation")),
    ("draft referral is not open", service_request("183545006", status="draft")),
    (
        "smoking observation cancelled",
        observation("72166-2", concept(SNOMED, "77176002"), status="cancelled"),
    ),
    ("other observation", observation("8867-4", concept(SNOMED, "77176002"))),
    ("unknown system", condition("C61", "http://example.org/local")),
    ("hypertension", condition("I10")),
    ("benign neoplasm is not cancer", condition("D16.6")),
    ("partial birth date", patient("1970", gender="unknown")),
]


@pytest.mark.parametrize("resource", [pytest.param(r, id=n) for n, r in NO_FACT_CASES])
def test_withdrawn_inactive_or_unrelated_resources_give_no_fact(resource: dict[str, Any]) -> None:
    assert [f for f in _facts(resource) if f.field != "sex"] == []


def test_a_record_never_answers_no() -> None:
    facts = _facts(
        patient(),
        condition("C61"),
        medication("B01AA03"),
        condition("I10"),
        condition("E11.9", clinical="resolved"),
    )
    assert all(f.value is not False for f in facts)


def test_every_fact_names_its_resource_and_the_coding_that_matched() -> None:
    resources = [r for _, r, _, _ in FACT_CASES]
    facts = record_facts(bundle(*resources), TODAY)
    by_reference = {f"{r['resourceType']}/{r['id']}": r for r in resources}
    assert facts
    for fact in facts:
        assert fact.source in by_reference, fact
        if fact.field in ("age", "sex"):
            continue
        system, code = fact.code.split("|")
        assert system in {ICD10, ICD10_CM, SNOMED, LOINC, RXNORM, ATC}
        assert f" {code})" in fact.display, fact
        assert code in str(by_reference[fact.source])


def test_the_display_is_the_records_own_text_of_the_coding() -> None:
    [fact] = _facts(condition("C61", display="Malignant neoplasm of prostate"))
    assert fact.display == "Malignant neoplasm of prostate (ICD-10 C61)"
    assert fact.code == f"{ICD10}|C61"
    assert fact.source.startswith("Condition/")


def test_a_medication_reference_is_followed_to_its_medication() -> None:
    medicine = {"resourceType": "Medication", "id": "pred", "code": concept(ATC, "H02AB07")}
    request = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/pred"},
    }
    contained = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "contained": [{"resourceType": "Medication", "id": "m", "code": concept(ATC, "L04AX03")}],
        "medicationReference": {"reference": "#m"},
    }
    fields = _fields(medicine, request, contained)
    assert fields["history.long_term_steroids"] is True
    assert fields["history.immunosuppression"] is True


def test_the_newest_smoking_status_comes_first() -> None:
    old = observation("72166-2", concept(SNOMED, "77176002"))
    old["effectiveDateTime"] = "2015-01-01"
    new = observation("72166-2", concept(SNOMED, "8517006"))
    new["effectiveDateTime"] = "2025-01-01"
    filled, applied = prefill({}, _facts(old, new))
    assert filled["health"]["smoking"] == "former"
    assert [f.source for f in applied] == [f"Observation/{new['id']}"]


def test_icd10_ranges_hold_their_bounds() -> None:
    cancer = codes.value_set("record", "cancer")
    assert cancer.match([{"system": ICD10, "code": "C97"}])
    assert cancer.match([{"system": ICD10, "code": "C00.1"}])
    assert not cancer.match([{"system": ICD10, "code": "D00.0"}])
    infection = codes.value_set("record", "spinal_infection")
    assert infection.match([{"system": ICD10, "code": "M46.5"}])
    assert not infection.match([{"system": ICD10, "code": "M46.1"}])
    assert not infection.match([{"system": ICD10, "code": "M46.6"}])


def test_every_value_set_code_has_provenance() -> None:
    for name in ("record", "spinal_imaging", "orders"):
        for value_set in codes.load(name).value_sets:
            for entry in value_set.codes:
                assert entry.source.startswith("https://"), (name, value_set.id, entry.label)


# --- pre-filling -------------------------------------------------------------------------------

RECORD = bundle(
    patient("1980-01-01", "male"),
    condition("C61", display="Malignant neoplasm of prostate"),
    medication("H02AB06"),
    condition("E11.9"),
    observation("72166-2", concept(SNOMED, "8517006")),
    report("30679-5", effective="2026-01-05", conclusion="M51.1"),
    condition("G83.4"),
)


def test_prefill_fills_absent_answers_and_says_which_facts_it_used() -> None:
    filled, applied = prefill({"regions": [{"region": "low_back"}]}, record_facts(RECORD, TODAY))
    assert filled["age"] == 46
    assert filled["sex"] == "male"
    assert filled["history"] == {"cancer": True, "long_term_steroids": True}
    assert filled["health"] == {"diabetes": True, "smoking": "former"}
    assert filled["imaging"] == [{"modality": "mri", "weeks_ago": 8, "finding": "disc_herniation"}]
    assert {f.field for f in applied} == {
        "age",
        "sex",
        "history.cancer",
        "history.long_term_steroids",
        "health.diabetes",
        "health.smoking",
        "imaging",
    }
    # Indicators without an intake question are for the CDS services, not the questionnaire.
    assert "record" not in filled


def test_prefilled_answers_make_a_valid_intake() -> None:
    facts = [f for f in record_facts(RECORD, TODAY) if f.field != "imaging"]
    filled, _ = prefill(
        {"regions": [{"region": "low_back", "duration_weeks": 2, "intensity": 5}]}, facts
    )
    Intake.model_validate(filled)


def test_prefill_keeps_dotted_answers_dotted() -> None:
    filled, applied = prefill({"history.cancer": False, "age": 30}, record_facts(RECORD, TODAY))
    assert filled["history.cancer"] is False
    assert filled["age"] == 30
    assert filled["history.long_term_steroids"] is True
    assert "history" not in filled
    assert "history.cancer" not in {f.field for f in applied}


def test_a_null_answer_is_unanswered_and_is_filled() -> None:
    filled, applied = prefill({"history": {"cancer": None}}, record_facts(RECORD, TODAY))
    assert filled["history"]["cancer"] is True
    assert any(f.field == "history.cancer" for f in applied)


def test_prefill_does_not_change_the_answers_it_was_given() -> None:
    answers: dict[str, Any] = {"history": {"osteoporosis": False}}
    prefill(answers, record_facts(RECORD, TODAY))
    assert answers == {"history": {"osteoporosis": False}}


_FACT_FIELDS = sorted(
    {f.field for f in record_facts(RECORD, TODAY) if not f.field.startswith("record.")}
)
_ANSWER: st.SearchStrategy[object] = st.one_of(
    st.booleans(),
    st.sampled_from(["never", "former", "current", "male", "female"]),
    st.integers(16, 100),
    st.just([]),
)


def _nest(flat: dict[str, object]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _get(answers: dict[str, Any], path: str) -> object:
    node: Any = answers
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


@settings(max_examples=200, deadline=None)
@given(
    answered=st.dictionaries(st.sampled_from(_FACT_FIELDS), _ANSWER, max_size=len(_FACT_FIELDS)),
    dotted=st.booleans(),
)
def test_prefill_never_overwrites_an_answer(answered: dict[str, object], dotted: bool) -> None:
    answers = {**answered, "regions": []} if dotted else _nest(answered)
    if dotted:
        answers["history.tuberculosis"] = None
    facts = record_facts(RECORD, TODAY)
    filled, applied = prefill(answers, facts)
    for path, value in answered.items():
        assert (filled[path] if dotted else _get(filled, path)) == value
    applied_fields = {f.field for f in applied}
    assert not applied_fields & set(answered)
    # Every field the patient left open and the record can answer is filled, from the record.
    for field in set(_FACT_FIELDS) - set(answered):
        assert field in applied_fields
        assert (filled[field] if dotted else _get(filled, field)) is not None
    assert all(f in facts for f in applied)


def _study(study_id: str, started: str) -> dict[str, Any]:
    return {
        "resourceType": "ImagingStudy",
        "id": study_id,
        "status": "available",
        "subject": {"reference": "Patient/pat-1"},
        "started": started,
        "procedureCode": [concept("http://loinc.org", "30679-5")],
    }


@pytest.mark.parametrize(
    "link",
    [
        {"imagingStudy": [{"reference": "ImagingStudy/mri-1"}]},
        {"imagingStudy": [{"reference": "https://ehr.example/fhir/ImagingStudy/mri-1"}]},
        {},  # no link, but the same kind of scan on the same day
    ],
    ids=["relative reference", "absolute reference", "same scan, same day"],
)
def test_a_scan_and_its_report_are_one_imaging_fact(link: dict[str, Any]) -> None:
    scan = {**report("30679-5", effective="2026-01-05", conclusion="M51.1"), **link}
    facts = record_facts(bundle(_study("mri-1", "2026-01-05"), scan), TODAY)
    imaging = [f for f in facts if f.field == "imaging"]
    assert [f.source for f in imaging] == [f"DiagnosticReport/{scan['id']}"]
    assert imaging[0].value == {"modality": "mri", "weeks_ago": 8, "finding": "disc_herniation"}


def test_two_scans_on_different_days_stay_two_facts() -> None:
    scan = report("30679-5", effective="2026-01-05", conclusion="M51.1")
    facts = record_facts(bundle(_study("mri-0", "2025-06-01"), scan), TODAY)
    assert len([f for f in facts if f.field == "imaging"]) == 2


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(
        [
            condition("C61"),
            medication("H02AB06", system=ATC),
            procedure("42515009"),
            observation("72166-2", concept(SNOMED, "77176002")),
            report("30679-5", effective="2026-01-05", conclusion="M51.1"),
            patient(),
        ]
    ),
    key=st.sampled_from(
        [
            "code",
            "clinicalStatus",
            "verificationStatus",
            "onsetDateTime",
            "status",
            "medicationCodeableConcept",
            "valueCodeableConcept",
            "conclusionCode",
            "effectiveDateTime",
            "birthDate",
            "gender",
            "imagingStudy",
            "performedDateTime",
        ]
    ),
    value=_JSON,
)
def test_any_malformed_field_gives_facts_or_names_the_resource_never_a_crash(
    base: dict[str, Any], key: str, value: object
) -> None:
    message = ""
    try:
        _facts({**base, key: value})
    except UnreadableRecordError as error:
        message = str(error)
    assert message == "" or str(base["resourceType"]) in message
