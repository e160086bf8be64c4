"""The intake as a FHIR R4 Questionnaire, and QuestionnaireResponses to it read back as intakes.

Every resource is checked against HL7's official R4 JSON schema (as tests/interop/
test_fhir_schema.py checks the instrument export) and parsed by fhir.resources. A response made
from an intake reads back as the same intake, for every example and for generated intakes, and a
response the Questionnaire does not allow is refused with a problem naming the linkId.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from engine.strategies import intake_data
from spinepath import knowledge as kb
from spinepath.instruments import catalogue
from spinepath.instruments.wording import load_wording
from spinepath.interop import intake_questionnaire, intake_response, intake_wording
from spinepath.interop.intake_questionnaire import CANONICAL, YES_NO_SYSTEM
from spinepath.interop.intake_response import ResponseError, intake_from_response, parse
from spinepath.pathway.intake import Intake, RegionPain
from spinepath.pathway.questionnaire import LEG_FOLLOW_UPS
from spinepath.web.pages import steps
from support.fhir_checks import codings, undefined_local_codes, walk
from support.fhir_schema import schema_errors
from support.files import example_paths

Json = dict[str, Any]
AUTHORED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
REGIONS = [code for code, _ in intake_wording.REGION.options]


def _json(resource: BaseModel) -> Json:
    dumped: Json = resource.model_dump(mode="json", exclude_none=True)
    return dumped


@cache
def questionnaire() -> Json:
    """Built once: read, never changed, by the tests below."""
    return _json(intake_questionnaire.questionnaire())


def response(intake: Intake, **options: Any) -> Json:
    return _json(intake_response.questionnaire_response(intake, authored=AUTHORED, **options))


def example(name: str) -> Intake:
    path = next(p for p in example_paths() if p.name == name)
    return Intake.model_validate_json(path.read_text(encoding="utf-8"))


def items_by_link_id(node: Any) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for listed in walk(node, "item"):
        found.update({item["linkId"]: item for item in listed})
    return found


def find(resource: Json, link_id: str) -> Json:
    """The (first) response item with this linkId, wherever it is nested."""
    return items_by_link_id(resource)[link_id]


# --- the Questionnaire ----------------------------------------------------------------------------


def test_the_questionnaire_validates_against_the_r4_schema_and_parses() -> None:
    exported = questionnaire()
    assert schema_errors(exported) == []
    assert Questionnaire.model_validate(json.loads(json.dumps(exported))).id == "spinepath-intake"
    assert f"{exported['url']}|{exported['version']}" == CANONICAL
    assert exported["url"].startswith("https://spinepath.org/fhir/")


def test_the_questionnaire_with_site_startback_wording_validates_and_uses_it(
    tmp_path: Path,
) -> None:
    wording = _startback_wording(tmp_path)
    exported = _json(intake_questionnaire.questionnaire(wording))
    assert schema_errors(exported) == []
    assert find(exported, "startback.q1")["text"] == "Test statement 1"
    assert "[Wording not shipped" in find(questionnaire(), "startback.q1")["text"]


def _startback_wording(directory: Path) -> Any:
    # Placeholder text: the licensed Keele wording is never in the repository.
    items: Json = {f"q{n}": {"text": f"Test statement {n}"} for n in range(1, 9)}
    codes = ("not_at_all", "slightly", "moderately", "very_much", "extremely")
    items["q9"] = {"text": "Test statement 9", "options": {c: f"Test {c}" for c in codes}}
    path = directory / "startback.json"
    path.write_text(
        json.dumps(
            {
                "instrument": "startback",
                "version": "9-item",
                "language": "en-GB",
                "source": "test placeholder",
                "items": items,
            }
        ),
        encoding="utf-8",
    )
    return load_wording(catalogue.get("startback"), path)


def test_link_ids_are_unique() -> None:
    link_ids = list(walk(questionnaire()["item"], "linkId"))
    assert len(link_ids) == len(set(link_ids))


def _intake_paths() -> Iterator[str]:
    """Every answer an intake holds, by the path the Questionnaire's linkIds use."""
    lists = {"treatments_tried", "imaging"}
    for name, field in Intake.model_fields.items():
        model = field.annotation
        if name == "intake_version":
            continue
        if name == "regions":
            yield name
            fields = [f for f in RegionPain.model_fields if f != "region"]
            yield from (f"regions.{region}.{f}" for region in REGIONS for f in fields)
        elif name in lists:
            entry = {"treatments_tried": "TreatmentTried", "imaging": "ImagingDone"}[name]
            yield from (f"{name}.{f}" for f in _model(entry).model_fields)
        elif name == "startback":
            yield from (f"startback.q{n}" for n in range(1, 10))
        elif isinstance(model, type) and issubclass(model, BaseModel):
            yield from (f"{name}.{f}" for f in model.model_fields)
        else:
            yield name


def _model(name: str) -> type[BaseModel]:
    from spinepath.pathway import intake

    model: type[BaseModel] = getattr(intake, name)
    return model


def test_every_answer_of_the_intake_is_asked_once_under_its_path() -> None:
    assert set(intake_questionnaire.questions()) == set(_intake_paths())


def test_group_link_ids_are_intake_paths_only_where_they_hold_an_object_or_a_list() -> None:
    groups = {
        item["linkId"]
        for item in items_by_link_id(questionnaire()).values()
        if item["type"] == "group"
    }
    data_groups = {g for g in groups if not g.startswith("group-")}
    assert data_groups == {
        "startback",
        "treatments_tried",
        "imaging",
        *(f"regions.{r}" for r in REGIONS),
    }


def test_tri_state_answers_are_yes_or_no_and_not_answered_is_never_an_option() -> None:
    tri_state = {
        link_id
        for link_id, node in intake_questionnaire.questions().items()
        if node.kind == "yes_no"
    }
    # Every red-flag question of the knowledge base is tri-state or a choice.
    assert {q.fact for q in kb.default().questions if q.answer.kind == "yes_no"} - {
        f"pain.{f}"
        for f in ("sudden_onset", "not_eased_by_rest", "worse_at_night", "worse_on_straining")
    } <= tri_state
    items = items_by_link_id(questionnaire())
    for link_id in tri_state:
        item = items[link_id]
        assert item["type"] == "choice"
        assert [o["valueCoding"] for o in item["answerOption"]] == [
            {"system": YES_NO_SYSTEM, "code": "Y", "display": "Yes"},
            {"system": YES_NO_SYSTEM, "code": "N", "display": "No"},
        ]
    displays = {c.get("display") for c in codings(questionnaire())}
    codes = {c["code"] for c in codings(questionnaire())}
    assert "Not sure" not in displays
    assert "unknown" not in codes


def test_answer_options_appear_only_on_choice_items_and_hints_are_display_items() -> None:
    for item in items_by_link_id(questionnaire()).values():
        assert ("answerOption" in item) == (item["type"] == "choice"), item["linkId"]
        if item["type"] == "display":
            assert item["linkId"].endswith("-hint")
            assert "item" not in item


def test_numbers_declare_their_range_and_unit() -> None:
    items = items_by_link_id(questionnaire())

    def extensions(link_id: str) -> dict[str, Any]:
        return {e["url"].rsplit("/", 1)[-1]: e for e in items[link_id]["extension"]}

    age = extensions("age")
    assert age["minValue"]["valueInteger"] == 16
    assert age["maxValue"]["valueInteger"] == 120
    assert age["questionnaire-unit"]["valueCoding"]["code"] == "a"
    intensity = extensions("regions.neck.intensity")
    assert (intensity["minValue"]["valueInteger"], intensity["maxValue"]["valueInteger"]) == (0, 10)
    assert extensions("cauda_equina.onset_days")["questionnaire-unit"]["valueCoding"]["code"] == "d"
    assert extensions("health.bmi")["minValue"]["valueDecimal"] == 10
    assert items["health.bmi"]["type"] == "decimal"
    assert "regex" in extensions("imaging.level")
    assert items["what_matters_note"]["maxLength"] == 1000


def test_a_region_group_is_enabled_by_choosing_that_region() -> None:
    items = items_by_link_id(questionnaire())
    for region in REGIONS:
        group = items[f"regions.{region}"]
        assert group["enableWhen"] == [
            {
                "question": "regions",
                "operator": "=",
                "answerCoding": {
                    "system": "https://spinepath.org/fhir/CodeSystem/intake-region",
                    "code": region,
                },
            }
        ]
    assert items["regions"]["repeats"] is True
    assert items["treatments_tried"]["repeats"] is True
    assert items["imaging"]["repeats"] is True


def test_the_emergency_screen_comes_first() -> None:
    first = questionnaire()["item"][0]
    assert first["linkId"] == "group-emergency"
    asked = list(walk(first, "linkId"))
    emergency = [q.fact for q in kb.default().questions if q.screen == "emergency"]
    assert {f for f in emergency if not f.startswith("pain.")} <= set(asked)


def test_every_code_the_questionnaire_offers_is_published() -> None:
    assert undefined_local_codes(questionnaire()) == []


# --- its wording is the web questionnaire's -------------------------------------------------------


def test_red_flag_questions_are_worded_by_the_knowledge_base() -> None:
    items = items_by_link_id(questionnaire())
    pain_fields = {"sudden_onset": "onset"}
    for question in kb.default().questions:
        section, _, name = question.fact.partition(".")
        if section == "pain":
            targets = [f"regions.{r}.{pain_fields.get(name, name)}" for r in REGIONS]
        else:
            targets = [question.fact]
        for link_id in targets:
            assert items[link_id]["text"] == question.question, link_id
            hint = items.get(f"{link_id}-hint")
            assert (hint["text"] if hint else None) == question.hint, link_id
        if question.choices and section != "pain":
            offered = [
                (o["valueCoding"]["code"], o["valueCoding"]["display"])
                for o in items[question.fact]["answerOption"]
            ]
            assert offered == list(question.choices.items())


def test_leg_pain_follow_ups_are_worded_by_the_pathway() -> None:
    items = items_by_link_id(questionnaire())
    for follow_up in LEG_FOLLOW_UPS:
        assert items[follow_up.path]["text"] == follow_up.question


def _web_path(link_id: str) -> str:
    """The web form field asking the same question (one treatment and one scan stand for all)."""
    for name, web in (
        ("treatments_tried.", "treatments.physiotherapy."),
        ("imaging.", "imaging.1."),
    ):
        if link_id.startswith(name):
            return web + link_id.removeprefix(name)
    return link_id


# Questions the web questionnaire does not ask: it works out the BMI, does not ask for scores
# measured elsewhere, lists treatments and scans by kind, asks the pain-pattern red flags once for
# all regions (the knowledge base words them), and leaves STarT Back to the licensed wording.
NOT_ON_THE_WEB = {
    "health.bmi",
    "outcomes.odi_percent",
    "outcomes.rmdq",
    "outcomes.ndi_percent",
    "treatments_tried.type",
    "regions",
    *(
        f"regions.{r}.{f}"
        for r in REGIONS
        for f in ("onset", "not_eased_by_rest", "worse_at_night", "worse_on_straining")
    ),
    *(f"startback.q{n}" for n in range(1, 10)),
}


def test_other_questions_are_worded_as_the_web_questionnaire_words_them() -> None:
    items = items_by_link_id(questionnaire())
    unmatched = set()
    for link_id in intake_questionnaire.questions():
        web = steps.question_for_path(_web_path(link_id))
        if web is None:
            unmatched.add(link_id)
            continue
        assert items[link_id]["text"] == web.label, link_id
    assert unmatched == NOT_ON_THE_WEB


def _link_id(web_path: str) -> str:
    """The Questionnaire item asking what a web form field asks (``imaging.2.side`` ->
    ``imaging.side``): the web numbers the scans and names the treatments in its paths."""
    section, _, rest = web_path.partition(".")
    if section == "treatments":
        return f"treatments_tried.{rest.partition('.')[2]}"
    if section == "imaging":
        return f"imaging.{rest.partition('.')[2]}"
    return web_path


def _offered(item: Json) -> list[tuple[str, str]]:
    return [(o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in item["answerOption"]]


def test_each_web_choice_offers_the_questionnaires_answers_and_at_most_an_unknown_besides() -> None:
    # The web may add one answer of its own, "unknown" (not sure, prefer not to say, no scan): the
    # intake's not answered, which a response gives by leaving the question out. Any other answer
    # only the web offered would be one a FHIR response could not give.
    assert not any("unknown" in answers.codes for answers in intake_wording.answer_sets())
    items = items_by_link_id(questionnaire())
    asked = [q for step in steps.STEPS for q in step.questions if q.choices]
    for question in asked:
        offered = _offered(items[_link_id(question.path)])
        web = [(c.value, c.label) for c in question.choices]
        assert [c for c in web if c in offered] == offered, question.path
        own = [code for code, label in web if (code, label) not in offered]
        assert own in ([], ["unknown"]), question.path
    assert {q.kind for q in asked} == {"choice", "multi"}
    assert len(asked) > 20


def test_the_web_offers_regions_and_treatments_as_the_questionnaires_answers() -> None:
    items = items_by_link_id(questionnaire())
    ticked = [(q.path.split(".")[1], q.label) for q in steps.WHERE.questions]
    assert ticked == _offered(items["regions"])
    legends = [
        (fs.toggle.split(".")[1], fs.legend) for fs in steps.TREATMENTS_STEP.fieldsets if fs.toggle
    ]
    assert legends == _offered(items["treatments_tried.type"])


def test_every_group_of_the_questionnaire_is_headed_as_the_web_heads_it() -> None:
    web = {step.title for step in steps.STEPS} | {
        fs.legend for step in steps.STEPS for fs in step.fieldsets
    }
    groups = [
        item
        for listed in walk(questionnaire(), "item")
        for item in listed
        if item["type"] == "group"
    ]
    headings = {item["linkId"]: item["text"] for item in groups}
    # Scores measured elsewhere are the one group the web does not ask.
    assert {k: t for k, t in headings.items() if t not in web} == {
        "group-outcomes": intake_wording.OUTCOMES_TITLE
    }
    assert len(headings) > 20


# --- responses: intake -> QuestionnaireResponse -> intake -----------------------------------------


def conforms(answered: list[Json], asked: list[Json], where: str = "the response") -> None:
    """Each response item is an item of the Questionnaire at the same place, answered in kind."""
    spec = {item["linkId"]: item for item in asked}
    seen: list[str] = []
    for item in answered:
        link_id = item["linkId"]
        assert link_id in spec, f"{link_id} is not an item of {where}"
        asked_item = spec[link_id]
        assert link_id not in seen or asked_item.get("repeats"), link_id
        seen.append(link_id)
        if asked_item["type"] == "group":
            assert "answer" not in item
            conforms(item["item"], asked_item["item"], link_id)
            continue
        answers = item["answer"]
        assert len(answers) == 1 or asked_item.get("repeats"), link_id
        for answer in answers:
            kind = asked_item["type"]
            if kind == "choice":
                allowed = [
                    (o["valueCoding"]["system"], o["valueCoding"]["code"])
                    for o in asked_item["answerOption"]
                ]
                coding = answer["valueCoding"]
                assert (coding["system"], coding["code"]) in allowed, link_id
            else:
                key = {"text": "valueString"}.get(kind, f"value{kind.capitalize()}")
                assert list(answer) == [key], link_id
    # Answered in the Questionnaire's order.
    order = [item["linkId"] for item in asked]
    assert seen == sorted(seen, key=order.index)


EXAMPLES = example_paths()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_round_trips_through_a_valid_questionnaire_response(path: Path) -> None:
    intake = Intake.model_validate_json(path.read_text(encoding="utf-8"))
    answered = response(intake)
    assert schema_errors(answered) == []
    assert QuestionnaireResponse.model_validate(answered).questionnaire == CANONICAL
    assert undefined_local_codes(answered) == []
    conforms(answered["item"], questionnaire()["item"])
    assert parse(json.dumps(answered)) == intake


def test_a_response_for_a_patient_in_the_record_refers_to_it() -> None:
    answered = response(
        example("foot-drop-urgent.json"), subject="https://ehr.example/fhir/Patient/9"
    )
    assert schema_errors(answered) == []
    assert answered["subject"] == {"reference": "https://ehr.example/fhir/Patient/9"}
    assert "contained" not in answered
    anonymous = response(example("foot-drop-urgent.json"))
    assert anonymous["contained"] == [{"resourceType": "Patient", "id": "patient"}]


def test_an_unanswered_question_is_left_out_and_reads_back_as_not_answered() -> None:
    intake = example("unanswered-red-flags-soon.json")
    assert intake.cauda_equina.saddle_numbness is None
    answered = response(intake)
    link_ids = set(walk(answered["item"], "linkId"))
    assert "cauda_equina.saddle_numbness" not in link_ids
    assert parse(json.dumps(answered)).cauda_equina.saddle_numbness is None


def test_an_explicit_no_reads_back_as_no() -> None:
    intake = example("low-back-acute-self-care.json")
    assert intake.cauda_equina.saddle_numbness is False
    item = find(response(intake), "cauda_equina.saddle_numbness")
    assert item["answer"] == [
        {"valueCoding": {"system": YES_NO_SYSTEM, "code": "N", "display": "No"}}
    ]


def test_the_order_of_regions_treatments_and_scans_is_kept() -> None:
    intake = Intake.model_validate(
        {
            "age": 50,
            "regions": [
                {"region": "neck", "duration_weeks": 3, "intensity": 4},
                {"region": "low_back", "duration_weeks": 30, "intensity": 6},
            ],
            "treatments_tried": [
                {"type": "nsaid", "weeks": 2},
                {"type": "physiotherapy", "weeks": 6, "response": "partial"},
                {"type": "nsaid", "weeks": 4, "response": "good"},
            ],
            "imaging": [
                {"modality": "xray", "finding": "normal"},
                {"modality": "mri", "finding": "disc_herniation", "level": "L4-L5"},
            ],
            "priorities": ["sleep", "return_to_work"],
        }
    )
    assert parse(json.dumps(response(intake))) == intake


def test_an_empty_note_is_no_note() -> None:
    # FHIR has no empty string, so an empty note cannot be sent; it reads back as no note.
    intake = Intake.model_validate(
        {**example("neck-strain-self-care.json").model_dump(), "what_matters_note": ""}
    )
    answered = response(intake)
    assert schema_errors(answered) == []
    assert parse(json.dumps(answered)).what_matters_note is None


extra_answers = st.fixed_dictionaries(
    {
        "priorities": st.lists(st.sampled_from(intake_wording.PRIORITY.codes), max_size=9),
        "what_matters_note": st.one_of(st.none(), st.text(min_size=1, max_size=40)),
        "quality": st.sampled_from(["dull", "sharp", "burning", None]),
        "extent": st.sampled_from(["focal", "spread", None]),
        "rmdq": st.one_of(st.none(), st.integers(0, 24)),
        "ndi_percent": st.one_of(st.none(), st.integers(0, 100)),
        "height_cm": st.one_of(st.none(), st.floats(100, 250)),
        "level": st.sampled_from([None, "L5-S1", "C6", "T12-L1"]),
        "weeks_ago": st.one_of(st.none(), st.integers(0, 5200)),
    }
)


@settings(max_examples=60, deadline=None, database=None)
@given(data=intake_data(), extra=extra_answers)
def test_generated_intakes_round_trip(data: Json, extra: Json) -> None:
    data["priorities"] = extra["priorities"]
    data["what_matters_note"] = extra["what_matters_note"]
    data["outcomes"] |= {"rmdq": extra["rmdq"], "ndi_percent": extra["ndi_percent"]}
    data["health"]["height_cm"] = extra["height_cm"]
    for region in data["regions"]:
        region |= {"quality": extra["quality"], "extent": extra["extent"]}
    for scan in data["imaging"]:
        scan |= {"level": extra["level"], "weeks_ago": extra["weeks_ago"]}
    intake = Intake.model_validate(data)
    answered = response(intake)
    conforms(answered["item"], questionnaire()["item"])
    assert intake_from_response(json.loads(json.dumps(answered))) == intake


# --- responses that are refused -------------------------------------------------------------------


def _sciatica_response() -> Json:
    return response(example("sciatica-refer-surgical-opinion.json"))


def refused(data: object) -> list[tuple[str | None, str]]:
    with pytest.raises(ResponseError) as raised:
        intake_from_response(data)
    return [(p.link_id, p.message) for p in raised.value.problems]


def test_an_unknown_link_id_is_named() -> None:
    answered = _sciatica_response()
    find(answered, "group-about")["item"].append(
        {"linkId": "favourite_colour", "answer": [{"valueString": "blue"}]}
    )
    [(link_id, message)] = refused(answered)
    assert link_id == "favourite_colour"
    assert "unknown linkId" in message


def test_a_question_in_the_wrong_group_is_named_with_where_it_belongs() -> None:
    answered = _sciatica_response()
    find(answered, "group-about")["item"].append(
        {
            "linkId": "history.cancer",
            "answer": [{"valueCoding": {"system": YES_NO_SYSTEM, "code": "Y"}}],
        }
    )
    [(link_id, message)] = refused(answered)
    assert link_id == "history.cancer"
    assert "group-emergency-your-health" in message


def test_a_string_where_a_whole_number_is_expected_is_named() -> None:
    answered = _sciatica_response()
    find(answered, "age")["answer"] = [{"valueString": "42"}]
    assert refused(answered) == [("age", "expected valueInteger (a whole number), got valueString")]
    find(answered, "age")["answer"] = [{"valueInteger": "42"}]
    assert refused(answered) == [("age", "valueInteger must be a whole number, got text")]
    find(answered, "age")["answer"] = [{"valueInteger": True}]
    assert refused(answered) == [("age", "valueInteger must be a whole number, got true or false")]


def test_a_child_is_refused_naming_age() -> None:
    answered = _sciatica_response()
    find(answered, "age")["answer"] = [{"valueInteger": 12}]
    [(link_id, message)] = refused(answered)
    assert link_id == "age"
    assert "aged 16 and over" in message


def test_an_out_of_range_number_is_named_with_its_region() -> None:
    answered = _sciatica_response()
    find(answered, "regions.low_back.intensity")["answer"] = [{"valueInteger": 11}]
    [(link_id, message)] = refused(answered)
    assert link_id == "regions.low_back.intensity"
    assert "10" in message


def test_a_code_outside_the_answer_set_or_its_system_is_named() -> None:
    answered = _sciatica_response()
    item = find(answered, "cauda_equina.saddle_numbness")
    item["answer"] = [{"valueCoding": {"system": YES_NO_SYSTEM, "code": "maybe"}}]
    assert refused(answered)[0][0] == "cauda_equina.saddle_numbness"
    item["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "Y"}}]
    [(link_id, message)] = refused(answered)
    assert link_id == "cauda_equina.saddle_numbness"
    assert YES_NO_SYSTEM in message


def test_two_answers_to_a_single_answer_question_are_refused() -> None:
    answered = _sciatica_response()
    item = find(answered, "history.cancer")
    item["answer"] = item["answer"] * 2
    assert refused(answered) == [("history.cancer", "takes one answer, got 2")]


def test_a_question_given_twice_is_refused() -> None:
    answered = _sciatica_response()
    group = find(answered, "group-about")
    group["item"].append(copy.deepcopy(group["item"][0]))
    assert refused(answered)[0][0] == group["item"][0]["linkId"]


def test_a_region_answered_but_not_chosen_is_refused() -> None:
    answered = _sciatica_response()
    find(answered, "regions")["answer"] = [
        {
            "valueCoding": {
                "system": "https://spinepath.org/fhir/CodeSystem/intake-region",
                "code": "neck",
            }
        }
    ]
    problems = refused(answered)
    assert ("regions.low_back", "answered for a region not chosen under regions") in problems


def test_a_region_chosen_without_its_details_names_the_missing_question() -> None:
    answered = _sciatica_response()
    find(answered, "regions.low_back")["item"] = [
        i
        for i in find(answered, "regions.low_back")["item"]
        if not i["linkId"].endswith("intensity")
    ]
    assert refused(answered) == [("regions.low_back.intensity", "Field required")]


def test_a_part_answered_startback_names_the_missing_item() -> None:
    answered = _sciatica_response()
    group = find(answered, "startback")
    group["item"] = [i for i in group["item"] if i["linkId"] != "startback.q5"]
    assert refused(answered) == [("startback.q5", "Field required")]


def test_a_repeated_entry_missing_a_required_answer_names_its_repetition() -> None:
    answered = _sciatica_response()
    second = [i for i in answered["item"] if i["linkId"] == "treatments_tried"][1]
    second["item"] = [i for i in second["item"] if i["linkId"] != "treatments_tried.weeks"]
    assert refused(answered) == [("treatments_tried.weeks", "repetition 2: Field required")]


def test_the_response_must_name_the_intake_questionnaire_and_be_complete() -> None:
    answered = _sciatica_response()
    problems = refused(
        {
            **answered,
            "questionnaire": "http://example.org/Questionnaire/other",
            "status": "in-progress",
        }
    )
    assert [p[0] for p in problems] == ["questionnaire", "status"]
    # The canonical without its version names the same Questionnaire.
    unversioned = {**answered, "questionnaire": CANONICAL.split("|")[0]}
    assert intake_from_response(unversioned) == example("sciatica-refer-surgical-opinion.json")


def test_other_resources_and_other_json_are_refused() -> None:
    assert refused({"resourceType": "Patient"})[0][0] == "resourceType"
    assert refused([1, 2]) == [(None, "expected a QuestionnaireResponse (a JSON object)")]
    assert refused({**_sciatica_response(), "item": {"linkId": "age"}}) == [
        ("the response", "item must be a list of items")
    ]


def test_what_the_r4_model_refuses_elsewhere_is_named() -> None:
    [(where, message)] = refused({**_sciatica_response(), "authored": "yesterday"})
    assert where == "authored"
    assert "DateTime" in message
    answered = _sciatica_response()
    find(answered, "what_matters_note")["answer"] = [{"valueString": ""}]
    assert refused(answered)[0][0] == "what_matters_note"


@pytest.mark.parametrize(
    "text", ["{", "not json", "", '{"resourceType": "QuestionnaireResponse",}']
)
def test_malformed_json_is_refused(text: str) -> None:
    with pytest.raises(ResponseError) as raised:
        parse(text)
    [problem] = raised.value.problems
    assert problem.link_id is None
    assert problem.message.startswith("malformed JSON")


def test_numbers_python_reads_but_fhir_has_not_are_refused() -> None:
    text = json.dumps(_sciatica_response())
    assert '"valueDecimal": 180.0' in text
    for number, message in (
        ("1" + "0" * 400, "valueDecimal is too large"),
        ("NaN", "valueDecimal must be a finite number"),
        ("Infinity", "valueDecimal must be a finite number"),
    ):
        with pytest.raises(ResponseError) as raised:
            parse(text.replace('"valueDecimal": 180.0', f'"valueDecimal": {number}'))
        assert [(p.link_id, p.message) for p in raised.value.problems] == [
            ("health.height_cm", message)
        ]


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every value in a JSON tree."""
    yield prefix
    if isinstance(node, dict | list):
        children: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            yield from _paths(child, (*prefix, key))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["linkId", "item", "answer", "valueCoding", "code", "system"])
            | st.text(max_size=4),
            inner,
            max_size=3,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, database=None)
@given(where=st.integers(min_value=0), value=json_values)
def test_any_change_to_a_response_is_read_or_refused_never_a_crash(where: int, value: Any) -> None:
    answered = _sciatica_response()
    paths = list(_paths(answered))[1:]
    *parents, last = paths[where % len(paths)]
    node: Any = answered
    for part in parents:
        node = node[part]
    node[last] = value
    # Read, or refused with the problems named: any other exception fails the test.
    with contextlib.suppress(ResponseError):
        intake_from_response(answered)
