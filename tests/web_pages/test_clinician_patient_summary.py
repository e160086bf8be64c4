"""The clinician's patient page leads with a summary of the latest answers, in the clinician's
words (about the patient, never to them), with the details below."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from support.intakes import NO_NEUROLOGY, data, region
from support.web import Person, World, save_assessment

SignIn = Callable[[Person | None], TestClient]

NECK_WITH_ARM_PAIN = data(
    age=61,
    sex="female",
    regions=[region("neck", duration_weeks=9, intensity=6)],
    radiation={"arm": "right"},
    neurology={**NO_NEUROLOGY, "arm_numbness_or_tingling": "right"},
    history={"cancer": True},
    priorities=["sleep", "avoid_surgery"],
    what_matters_note="Playing the piano again.",
    treatments_tried=[{"type": "physiotherapy", "weeks": 4, "response": "none"}],
)


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def glance_rows(page: str) -> dict[str, str]:
    rows = re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", section(page, "summary"))
    return {label.replace("&#39;", "'"): value for label, value in rows}


def test_the_summary_comes_first_with_the_latest_answers(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    save_assessment(database, world.patient_a.id, NECK_WITH_ARM_PAIN)
    page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}").text
    assert page.index('id="summary"') < page.index('id="what-to-do-now"')
    rows = glance_rows(page)
    assert rows["Age, sex"] == "61, female"
    assert rows["Neck"] == "9 weeks, pain 6/10"
    assert rows["Arm pain"] == "right arm"
    assert rows["Neurology"] == "arm numbness or tingling (right)"
    assert rows["Warning signs"] == "Cancer now or in the past"
    assert rows["Treatments"] == "physiotherapy (4 weeks)"
    assert rows["Priorities"] == "Better sleep, avoiding an operation"
    assert rows["Patient's note"] == "Playing the piano again."
    details = section(page, "answers")
    assert "<dt>Physiotherapy</dt><dd>4 weeks, did not help</dd>" in details
    assert "Playing the piano again." in details


def test_the_decision_aid_answers_are_shown_in_the_clinicians_words(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    save_assessment(database, world.patient_a.id, NECK_WITH_ARM_PAIN)
    with database.session() as session:
        patient = repository.patient_by_id(session, world.patient_a.id)
        assert patient is not None
        values = {"importance": {"fast_relief": 4}, "leaning": "leaning_surgery", "note": None}
        repository.save_decision_aid_values(session, patient, values, "leaning_surgery")
    page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}").text
    assert glance_rows(page)["Decision aid"] == "Leaning towards surgery"
    decision = section(page, "decision")
    assert "Leaning: <strong>Leaning towards surgery</strong>" in decision
    assert "<dd>Extremely</dd>" in decision
    assert "I am leaning" not in page


def test_the_page_speaks_about_the_patient_not_to_them(
    sign_in_as: SignIn, world: World, database: Database
) -> None:
    save_assessment(database, world.patient_a.id, NECK_WITH_ARM_PAIN)
    page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}").text
    # The page's own words: headings, summaries and labels (the knowledge base's care texts
    # are written to the patient and quoted as they were shown).
    own = re.findall(r"<(h1|h2|h3|dt|summary|button|label)[^>]*>(.*?)</\1>", page, flags=re.S)
    assert own
    for _tag, text in own:
        words = set(re.sub(r"<[^>]+>", " ", text).lower().split())
        assert not {"you", "your", "yourself"} & words, text
    for heading in ("Care plan", "Pain pattern", "Safety-net advice given to the patient"):
        assert heading in page


def test_a_patient_without_answers_has_no_summary_yet(sign_in_as: SignIn, world: World) -> None:
    page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}")
    assert page.status_code == 200
    assert 'id="summary"' not in page.text
    assert 'id="private-link"' in page.text
