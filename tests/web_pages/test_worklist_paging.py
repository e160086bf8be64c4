"""The worklist pages through a large clinic, most urgent first, on the page and in the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.web.pages.clinician import WORKLIST_PAGE
from support.web import Person, World

SignIn = Callable[[Person | None], TestClient]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _invite(database: Database, clinic: int, count: int) -> None:
    with database.session() as session:
        for number in range(count):
            repository.create_patient(session, clinic, reference=f"R{number:03d}")


def test_the_worklist_page_shows_one_page_at_a_time(
    world: World, database: Database, sign_in_as: SignIn
) -> None:
    _invite(database, world.clinic_a, WORKLIST_PAGE + 5)
    client = sign_in_as(world.clinician_a)
    first = client.get("/clinic")
    assert first.status_code == 200
    total = WORKLIST_PAGE + 5 + 1  # the world's own patient of clinic A
    assert f"Page 1 of 2 ({total} patients" in first.text
    assert "Next page" in first.text
    second = client.get("/clinic?page=2")
    assert "Page 2 of 2" in second.text
    assert "Previous page" in second.text
    assert client.get("/clinic?page=0").status_code == 422


def test_api_paging_covers_every_patient_once(
    client: TestClient, world: World, database: Database
) -> None:
    _invite(database, world.clinic_a, 12)
    everyone = client.get("/api/v1/patients?limit=500", headers=bearer(world.token_a)).json()
    pages = [
        client.get(f"/api/v1/patients?offset={o}&limit=5", headers=bearer(world.token_a)).json()
        for o in range(0, len(everyone), 5)
    ]
    assert [p["id"] for page in pages for p in page] == [p["id"] for p in everyone]
    assert (
        client.get("/api/v1/patients?limit=501", headers=bearer(world.token_a)).status_code == 422
    )


def test_every_patient_list_in_the_api_pages(
    client: TestClient, world: World, database: Database
) -> None:
    headers = bearer(world.token_a)
    base = f"/api/v1/patients/{world.patient_a.id}"
    for number in range(3):
        client.post(f"{base}/notes", json={"text": f"note {number}"}, headers=headers)
        client.post(
            f"{base}/responses",
            json={"instrument": "nrs_back", "answers": {"intensity": number}},
            headers=headers,
        )
    for kind in ("notes", "responses"):
        everything = client.get(f"{base}/{kind}?limit=500", headers=headers).json()
        assert len(everything) == 3, kind
        paged = [
            row
            for offset in range(0, 3, 2)
            for row in client.get(f"{base}/{kind}?offset={offset}&limit=2", headers=headers).json()
        ]
        assert paged == everything, kind
        assert client.get(f"{base}/{kind}?limit=501", headers=headers).status_code == 422
    assert client.get(f"{base}/assessments?offset=-1", headers=headers).status_code == 422
