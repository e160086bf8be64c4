"""Without any wording installed, a person is offered the pain ratings of their regions at once
and the global change rating at the follow-ups; licensed questionnaires are not offered, and
their clinician sees them as not collected."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import time_machine
from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from support.web import Person, World

from .journey import answer_all, submit

SignIn = Callable[[Person | None], TestClient]
START = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC)


def _assessed(client: TestClient, link: str) -> str:
    answer_all(client, link)
    assert submit(client, link).status_code == 303
    return client.get(f"/p/{link}/result").text


def _follow_ups(page: str) -> str:
    return page[page.index('id="follow-ups"') : page.index('id="your-data"')]


def test_the_pain_ratings_are_due_at_once_and_licensed_ones_are_not_offered(
    client: TestClient, world: World
) -> None:
    link = world.patient_a.link_token
    section = _follow_ups(_assessed(client, link))
    assert f'href="/p/{link}/follow-up/nrs_back"' in section
    assert f'href="/p/{link}/follow-up/nrs_leg"' in section
    assert "ODI" not in section
    assert "RMDQ" not in section
    assert "not available" not in section
    # The change rating is listed, but only for later: there is no change to rate yet.
    assert f'href="/p/{link}/follow-up/global_change"' not in section
    assert "Global change" in section


def test_a_pain_rating_is_asked_in_spinepaths_wording_and_scored(
    client: TestClient, world: World, database: Database
) -> None:
    link = world.patient_a.link_token
    _assessed(client, link)
    form = client.get(f"/p/{link}/follow-up/nrs_back").text
    assert "Thinking about the last week" in form
    assert "worst pain imaginable" in form
    saved = client.post(
        f"/p/{link}/follow-up/nrs_back", data={"item.intensity": "6"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert "last score 6 points (0-10)" in client.get(f"/p/{link}/result").text
    with database.session() as session:
        patient = repository.patient_by_link(session, link)
        assert patient is not None
        (response,) = repository.list_responses(session, patient)
        assert (response.instrument, response.answers) == ("nrs_back", {"intensity": 6})


def test_the_change_rating_falls_due_at_the_first_follow_up(
    client: TestClient, world: World
) -> None:
    link = world.patient_a.link_token
    with time_machine.travel(START, tick=False) as traveller:
        _assessed(client, link)
        client.post(f"/p/{link}/follow-up/nrs_back", data={"item.intensity": "6"})
        section = _follow_ups(client.get(f"/p/{link}/result").text)
        # Six weeks after 4 March is 15 April; its window opens 14 days before.
        assert re.search(r"Global change</strong>:\s*next from 01 Apr 2030", section)
        traveller.move_to(START + dt.timedelta(weeks=6))
        section = _follow_ups(client.get(f"/p/{link}/result").text)
        assert f'href="/p/{link}/follow-up/global_change"' in section
        form = client.get(f"/p/{link}/follow-up/global_change").text
        assert "Very much better" in form
        assert "Very much worse" in form
        saved = client.post(
            f"/p/{link}/follow-up/global_change",
            data={"item.change": "2"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        section = _follow_ups(client.get(f"/p/{link}/result").text)
        assert f'href="/p/{link}/follow-up/global_change"' not in section
        assert "last score improved (much or very much better)" in section


def test_the_clinician_sees_the_licensed_questionnaires_as_not_collected(
    client: TestClient, world: World, sign_in_as: SignIn
) -> None:
    _assessed(client, world.patient_a.link_token)
    page = sign_in_as(world.clinician_a).get(f"/clinic/patients/{world.patient_a.id}").text
    listed = page[page.index('id="not-collected"') :]
    listed = listed[: listed.index("</ul>")]
    assert "<strong>ODI</strong>: not collected — wording not installed" in listed
    assert "<strong>RMDQ-24</strong>: not collected — wording not installed" in listed
    assert "NRS" not in listed
