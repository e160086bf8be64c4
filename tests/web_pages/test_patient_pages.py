"""Patient pages over HTTP on both databases: the flow, bad input, stop, resume, results, data."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from spinepath import knowledge as kb
from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.web.pages.steps import STEPS

from .journey import (
    EMERGENCY_ALL_NO,
    MINIMAL,
    answer_all,
    answer_until,
    post_step,
    start,
    submit,
)

HTML = {"accept": "text/html"}


def _draft_answers(database: Database, link: str) -> dict[str, object]:
    with database.session() as session:
        patient = repository.patient_by_link(session, link)
        assert patient is not None
        draft = repository.load_draft(session, patient)
        return dict(draft.answers) if draft else {}


def _error_for(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match is not None, f"no error shown for {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip()


def test_the_start_page_lists_the_symptoms_that_need_999(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Call 999 or go to A&amp;E now" in page.text
    assert 'action="/start"' in page.text


def test_starting_opens_the_emergency_screen_first(client: TestClient) -> None:
    link = start(client)
    page = client.get(f"/p/{link}/step/emergency")
    assert page.status_code == 200
    assert "First, some urgent questions" in page.text
    assert "Step 1 of" in page.text
    assert f"/p/{link}" in page.text  # the private link is shown to keep


def test_a_later_step_cannot_be_opened_before_the_emergency_screen(client: TestClient) -> None:
    link = start(client)
    response = client.get(f"/p/{link}/step/pain", follow_redirects=True)
    assert "First, some urgent questions" in response.text


def _finding(rule_id: str) -> str:
    return next(r.finding for r in kb.default().red_flags if r.id == rule_id)


# One answer on the emergency screen that is an emergency on its own, and the rule it fires.
POSITIVE_ON_THEIR_OWN = [
    ("mimics.chest_pain", "yes", "RF-CHEST-PAIN"),
    ("mimics.tearing_pain", "yes", "RF-TEARING-PAIN"),
    ("mimics.collapse_or_faint", "yes", "RF-COLLAPSE"),
    ("mimics.pulsating_abdominal_mass", "yes", "RF-PULSATILE-MASS"),
    ("history.trauma", "major", "RF-MAJOR-TRAUMA"),
    ("neurology.leg_weakness", "both", "RF-CES-BILATERAL-WEAKNESS"),
]


@pytest.mark.parametrize(("path", "value", "rule_id"), POSITIVE_ON_THEIR_OWN)
def test_each_positive_emergency_answer_stops_the_flow_naming_the_finding(
    client: TestClient, path: str, value: str, rule_id: str
) -> None:
    link = start(client)
    response = post_step(client, link, "emergency", {**EMERGENCY_ALL_NO, path: value})
    assert response.headers["location"] == f"/p/{link}/emergency"
    page = client.get(f"/p/{link}/emergency")
    assert "Call 999 or go to A&amp;E now" in page.text
    assert _finding(rule_id).replace("&", "&amp;") in page.text
    # The flow stays stopped: resuming, the next step and the review all lead back here.
    assert (
        client.get(f"/p/{link}", follow_redirects=False).headers["location"].endswith("/emergency")
    )
    for url in (f"/p/{link}/step/about", f"/p/{link}/review"):
        assert "Call 999 or go to A&amp;E now" in client.get(url).text
        assert "Call 999 or go to A&amp;E now" in client.post(url, data={"age": "40"}).text


def test_changing_the_answer_back_to_no_lets_the_person_go_on(client: TestClient) -> None:
    link = start(client)
    post_step(client, link, "emergency", {**EMERGENCY_ALL_NO, "mimics.chest_pain": "yes"})
    response = post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    assert response.headers["location"] == f"/p/{link}/step/about"


def test_breathlessness_with_upper_back_pain_stops_the_flow_once_the_pain_is_placed(
    client: TestClient,
) -> None:
    # RF-THORACIC-BREATHLESS reads the pain region: it fires when the region is given.
    link = start(client)
    breathless = {**EMERGENCY_ALL_NO, "mimics.breathlessness": "yes"}
    response = post_step(client, link, "emergency", breathless)
    assert response.headers["location"] == f"/p/{link}/step/emergency-2"
    assert "sweating or cold and clammy" in client.get(f"/p/{link}/step/emergency-2").text
    post_step(client, link, "emergency-2", {"mimics.sweating_or_clammy": "no"})
    post_step(client, link, "about", MINIMAL["about"])
    response = post_step(client, link, "where", {"regions.upper_back.selected": "yes"})
    assert response.headers["location"] == f"/p/{link}/emergency"
    assert _finding("RF-THORACIC-BREATHLESS") in client.get(f"/p/{link}/emergency").text


def test_all_no_on_the_emergency_screen_skips_the_follow_up_page(client: TestClient) -> None:
    link = start(client)
    response = post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    assert response.headers["location"] == f"/p/{link}/step/about"
    skipped = client.get(f"/p/{link}/step/emergency-2", follow_redirects=False)
    assert skipped.headers["location"] == f"/p/{link}/step/about"


def test_a_yes_to_a_bladder_question_asks_how_many_days_ago_on_a_follow_up_page(
    client: TestClient,
) -> None:
    link = start(client)
    saddle = {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    response = post_step(client, link, "emergency", saddle)
    # Not a stop yet: whether it is an emergency depends on when it began.
    assert response.headers["location"] == f"/p/{link}/step/emergency-2"
    page = client.get(f"/p/{link}/step/emergency-2").text
    assert 'name="cauda_equina.onset_days"' in page
    assert 'name="mimics.sweating_or_clammy"' not in page  # no chest pain nor breathlessness
    response = post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "3"})
    assert response.headers["location"] == f"/p/{link}/emergency"
    assert "Bladder, bowel, genital or saddle changes" in client.get(f"/p/{link}/emergency").text


def test_not_knowing_when_bladder_changes_began_stops_the_flow(client: TestClient) -> None:
    link = start(client)
    post_step(
        client, link, "emergency", {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    )
    response = post_step(client, link, "emergency-2", {"cauda_equina.onset_days": ""})
    assert response.headers["location"] == f"/p/{link}/emergency"


def test_bladder_changes_that_began_weeks_ago_go_on_to_the_next_step(client: TestClient) -> None:
    link = start(client)
    post_step(
        client, link, "emergency", {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    )
    response = post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "30"})
    assert response.headers["location"] == f"/p/{link}/step/about"


def test_an_out_of_range_number_of_days_is_an_error_next_to_it(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    post_step(
        client, link, "emergency", {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    )
    response = post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "-2"})
    assert response.status_code == 422
    assert _error_for(response.text, "f-cauda_equina-onset_days") == "Enter 0 or more."
    assert "cauda_equina.onset_days" not in _draft_answers(database, link)


def test_answering_no_after_all_drops_the_follow_up_answer(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    post_step(
        client, link, "emergency", {**EMERGENCY_ALL_NO, "cauda_equina.saddle_numbness": "yes"}
    )
    post_step(client, link, "emergency-2", {"cauda_equina.onset_days": "30"})
    response = post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    assert response.headers["location"] == f"/p/{link}/step/about"
    assert "cauda_equina.onset_days" not in _draft_answers(database, link)


def test_a_child_is_refused_next_to_the_age_field_and_nothing_is_saved(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    response = post_step(client, link, "about", {"age": "12", "sex": "male"})
    assert response.status_code == 422
    assert "aged 16 and over" in _error_for(response.text, "f-age")
    assert 'aria-invalid="true"' in response.text
    assert 'value="12"' in response.text  # what was typed is shown again
    assert "age" not in _draft_answers(database, link)
    assert "sex" not in _draft_answers(database, link)


def test_words_in_a_number_field_are_an_error_next_to_it(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    for slug in ("emergency", "about", "where"):
        post_step(client, link, slug, MINIMAL[slug])
    response = post_step(
        client,
        link,
        "pain",
        {"regions.low_back.duration_weeks": "a few", "regions.low_back.intensity": "6"},
    )
    assert response.status_code == 422
    assert "whole number" in _error_for(response.text, "f-regions-low_back-duration_weeks")
    assert "regions.low_back.intensity" not in _draft_answers(database, link)


def test_an_unknown_answer_value_is_refused_not_stored(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    response = post_step(
        client, link, "emergency", {**EMERGENCY_ALL_NO, "history.trauma": "catastrophic"}
    )
    assert response.status_code == 422
    assert _error_for(response.text, "f-history-trauma") == "Choose one of the options."
    assert _draft_answers(database, link) == {}


def test_save_and_resume_returns_to_where_the_person_was(client: TestClient) -> None:
    link = start(client)
    post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    response = post_step(client, link, "about", {"age": "60"}, action="save")
    assert response.headers["location"] == f"/p/{link}/saved"
    assert "Your answers are saved" in client.get(f"/p/{link}/saved").text
    fresh = TestClient(client.app)  # another device: nothing but the link
    resumed = fresh.get(f"/p/{link}", follow_redirects=False)
    assert resumed.headers["location"] == f"/p/{link}/step/about"
    assert 'value="60"' in fresh.get(f"/p/{link}/step/about").text


def test_going_back_shows_the_earlier_answers(client: TestClient) -> None:
    link = start(client)
    post_step(client, link, "emergency", EMERGENCY_ALL_NO)
    post_step(client, link, "about", {"age": "33"})
    page = client.get(f"/p/{link}/step/where")
    assert f'href="/p/{link}/step/about"' in page.text
    about = client.get(f"/p/{link}/step/about")
    assert 'value="33"' in about.text


def test_the_review_marks_unanswered_warning_sign_questions(client: TestClient) -> None:
    link = start(client)
    response = answer_all(client, link)
    assert response.headers["location"] == f"/p/{link}/review"
    review = client.get(f"/p/{link}/review")
    assert review.status_code == 200
    assert "Check your answers" in review.text
    assert "tag-warning" in review.text  # e.g. weight loss was never answered
    # No follow-up applies to all-no answers, no leg pain skips the leg-pain page, 3 weeks of
    # pain the spondyloarthritis questions, and without its wording STarT Back is not asked.
    skipped = {"emergency-2", "limbs", "inflammatory", "startback"}
    for step in STEPS:
        if step.slug not in skipped:
            assert f'href="/p/{link}/step/{step.slug}"' in review.text
    for slug in skipped:
        assert f"/step/{slug}" not in review.text


def test_sending_the_answers_shows_urgency_plan_imaging_surgery_and_safety_net(
    client: TestClient,
) -> None:
    # Fever with back pain: urgent GP or NHS 111 (NHS back-pain advice, NHS-BACK-PAIN).
    link = start(client)
    # Not sure about leg weakness: a yes could still make it an emergency, so it is still to ask.
    emergency = {"systemic.fever": "yes", "neurology.leg_weakness": "unknown"}
    answer_all(client, link, {"emergency": emergency})
    response = submit(client, link)
    assert response.headers["location"] == f"/p/{link}/result"
    page = client.get(f"/p/{link}/result")
    assert page.status_code == 200
    assert "Urgency: <strong>Urgent</strong>" in page.text
    for heading in (
        "Your care plan",
        "Scans",
        "Is surgery an option?",
        "Get help sooner if things change",
        "Questions still to answer",
        "Follow-up questionnaires",
    ):
        assert heading in page.text, heading
    # The still-to-ask line says what the answer would change, in the person's words.
    assert "if yes, left side: emergency" in page.text
    assert client.get(f"/p/{link}", follow_redirects=False).headers["location"].endswith("/result")


def test_the_result_has_a_print_version_and_a_pdf(client: TestClient) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    printable = client.get(f"/p/{link}/result/print")
    assert printable.status_code == 200
    assert "Your spinepath result" in printable.text
    pdf = client.get(f"/p/{link}/result.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_patient_downloads_all_their_data(client: TestClient) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    response = client.get(f"/p/{link}/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["assessments"][0]["intake"]["age"] == 47
    assert link not in response.text  # the link token is never stored or exported


def test_deleting_needs_a_tick_and_then_removes_everything(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    refused = client.post(f"/p/{link}/delete", data={}, follow_redirects=False)
    assert refused.status_code == 422
    assert "Tick the box" in _error_for(refused.text, "f-confirm")
    assert client.get(f"/p/{link}/result").status_code == 200
    done = client.post(f"/p/{link}/delete", data={"confirm": "yes"}, follow_redirects=False)
    assert done.headers["location"] == "/deleted"
    assert client.get(f"/p/{link}/result").status_code == 404
    with database.session() as session:
        assert repository.patient_by_link(session, link) is None


def test_an_unknown_link_gets_a_page_saying_so(client: TestClient) -> None:
    response = client.get("/p/spl_" + "x" * 43, headers=HTML)
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "link is not valid" in response.text


def test_an_unknown_step_is_not_found(client: TestClient) -> None:
    link = start(client)
    assert client.get(f"/p/{link}/step/nonsense", headers=HTML).status_code == 404


def test_the_startback_step_is_skipped_silently_when_the_licensed_wording_is_missing(
    client: TestClient,
) -> None:
    link = start(client)
    answer_until(client, link, "startback")
    page = client.get(f"/p/{link}/step/startback", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/p/{link}/step/treatments"
    treatments = client.get(page.headers["location"]).text
    assert "site administrator" not in treatments
    assert "STarT Back" not in treatments


def test_pages_set_no_store_and_the_strict_csp(client: TestClient) -> None:
    link = start(client)
    page = client.get(f"/p/{link}/step/emergency")
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text
    assert " style=" not in page.text
    assert " on" + "click=" not in page.text


def test_a_follow_up_without_installed_wording_says_so_and_records_nothing(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    answer_all(client, link)
    submit(client, link)
    page = client.get(f"/p/{link}/follow-up/odi")
    assert page.status_code == 200
    assert "not installed on this server" in page.text
    assert 'name="item.' not in page.text
    refused = client.post(f"/p/{link}/follow-up/odi", data={"item.pain_intensity": "2"})
    assert refused.status_code == 409
    with database.session() as session:
        patient = repository.patient_by_link(session, link)
        assert patient is not None
        assert repository.list_responses(session, patient) == []


def test_an_unknown_questionnaire_is_not_found(client: TestClient) -> None:
    link = start(client)
    assert client.get(f"/p/{link}/follow-up/horoscope", headers=HTML).status_code == 404


def test_a_cross_site_form_post_is_refused(client: TestClient) -> None:
    link = start(client)
    response = client.post(
        f"/p/{link}/step/emergency",
        data={**EMERGENCY_ALL_NO, "action": "next"},
        headers={"sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_startback_answers_are_not_recorded_when_the_wording_was_never_shown(
    client: TestClient, database: Database
) -> None:
    link = start(client)
    answer_until(client, link, "startback")
    response = post_step(client, link, "startback", {"startback.q1": "true"})
    assert response.status_code == 303
    assert not any(key.startswith("startback.") for key in _draft_answers(database, link))
