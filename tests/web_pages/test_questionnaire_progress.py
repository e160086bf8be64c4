"""The "Step N of M" line over HTTP: M counts only the pages these answers lead through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.web import create_test_app, make_settings

from .journey import EMERGENCY_ALL_NO, MINIMAL, start
from .wording import write_placeholder_wording

_COUNT = re.compile(r'<p class="step-count">Step (\d+) of (\d+)</p>')
_STARTBACK = {**{f"startback.q{n}": "false" for n in range(1, 9)}, "startback.q9": "slightly"}


@pytest.fixture
def clients(database_url: str, tmp_path: Path) -> Iterator[dict[bool, TestClient]]:
    """A site without the STarT Back wording (False) and one with it (True)."""
    wording = write_placeholder_wording(tmp_path / "wording", ("startback",))
    plain = create_test_app(make_settings(database_url, tmp_path / "plain"))
    worded = create_test_app(
        make_settings(database_url, tmp_path / "worded", instrument_wording_dir=wording)
    )
    with TestClient(plain) as without, TestClient(worded) as with_wording:
        yield {False: without, True: with_wording}


def _walk(client: TestClient, answers: dict[str, dict[str, str]]) -> list[tuple[str, int, int]]:
    """Follows the questionnaire from the emergency screen to the review, answering each page
    it is sent to; returns each page visited with its step number and total."""
    link = start(client)
    url = f"/p/{link}/step/emergency"
    seen: list[tuple[str, int, int]] = []
    while url.startswith(f"/p/{link}/step/"):
        page = client.get(url, follow_redirects=False)
        if page.status_code == 303:  # a page that does not apply sends the person on
            url = page.headers["location"]
            continue
        match = _COUNT.search(page.text)
        assert match is not None, url
        # Licensed wording that is not installed is the site's business, never the patient's.
        assert "site administrator" not in page.text
        slug = url.rsplit("/", 1)[-1]
        seen.append((slug, int(match[1]), int(match[2])))
        data = {**answers.get(slug, {}), "action": "next"}
        sent = client.post(url, data=data, follow_redirects=False)
        assert sent.status_code == 303, (slug, sent.text[:1000])
        url = sent.headers["location"]
    assert url == f"/p/{link}/review", url
    assert "site administrator" not in client.get(url).text
    return seen


def _check(seen: list[tuple[str, int, int]]) -> None:
    assert [n for _, n, _ in seen] == list(range(1, len(seen) + 1))
    totals = [m for _, _, m in seen]
    assert totals == sorted(totals, reverse=True)  # only ever falls as pages are ruled out
    assert totals[-1] == len(seen)


def _answers(
    leg: str, region: str, weeks: int, age: int, startback: bool
) -> dict[str, dict[str, str]]:
    return {
        **MINIMAL,
        "emergency": {**EMERGENCY_ALL_NO, "radiation.leg": leg},
        "emergency-2": {"radiation.sudden_onset": "no", "radiation.both_legs_since_days": "30"},
        "about": {"age": str(age)},
        "where": {f"regions.{region}.selected": "yes"},
        "pain": {
            f"regions.{region}.duration_weeks": str(weeks),
            f"regions.{region}.intensity": "5",
        },
        "startback": _STARTBACK if startback else {},
    }


@pytest.mark.parametrize(
    ("leg", "region", "weeks", "age", "startback", "skipped"),
    [
        ("none", "low_back", 3, 47, False, {"limbs", "inflammatory", "startback"}),
        ("left", "low_back", 3, 47, False, {"inflammatory", "startback"}),
        ("none", "low_back", 20, 30, False, {"limbs", "startback"}),
        ("none", "low_back", 20, 30, True, {"limbs"}),
        ("none", "neck", 20, 30, True, {"limbs", "inflammatory"}),
    ],
)
def test_the_step_count_matches_the_pages_these_answers_lead_through(
    clients: dict[bool, TestClient],
    leg: str,
    region: str,
    weeks: int,
    age: int,
    startback: bool,
    skipped: set[str],
) -> None:
    seen = _walk(clients[startback], _answers(leg, region, weeks, age, startback))
    _check(seen)
    visited = {slug for slug, _, _ in seen}
    assert not visited & skipped
    assert {"emergency", "about", "where", "pain", "what-matters"} <= visited


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    leg=st.sampled_from(["none", "left", "both", "unknown"]),
    region=st.sampled_from(["low_back", "upper_back", "neck"]),
    weeks=st.integers(0, 30),
    age=st.integers(16, 80),
    startback=st.booleans(),
)
def test_the_step_count_always_ends_at_the_number_of_pages_visited(
    clients: dict[bool, TestClient], leg: str, region: str, weeks: int, age: int, startback: bool
) -> None:
    _check(_walk(clients[startback], _answers(leg, region, weeks, age, startback)))
