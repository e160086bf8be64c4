"""Installing questionnaire wording from the web: a bad file is refused naming the problem and
nothing is installed; a good one is previewed as patients will see it, installed only when
enabled, offered to patients from then on, and can be removed. Every change is audited."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from spinepath.settings import Settings
from spinepath.store import repository
from spinepath.store.db import Database
from support.web import Person, World

from .journey import answer_all, submit
from .wording import placeholder_wording

SignIn = Callable[[Person | None], TestClient]


def _upload(client: TestClient, content: bytes, name: str = "odi.yaml") -> Any:
    return client.post(
        "/admin/wording/preview", files={"file": (name, content, "application/octet-stream")}
    )


def _odi() -> dict[str, Any]:
    return placeholder_wording("odi")


def _site_files(settings: Settings) -> list[str]:
    directory = settings.data_dir / "wording"
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def _audit_actions(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(e.action, e.outcome) for e in repository.list_audit(session, limit=None)]


def _without_item(data: dict[str, Any]) -> dict[str, Any]:
    del data["items"]["sitting"]
    return data


def _with_unknown_option(data: dict[str, Any]) -> dict[str, Any]:
    data["items"]["lifting"]["options"]["7"] = "PLACEHOLDER extra"
    return data


def _other_instrument(data: dict[str, Any]) -> dict[str, Any]:
    data["instrument"] = "horoscope"
    return data


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"items: [unclosed\n  - : :", 422, "odi.yaml: is not valid YAML"),
        (yaml.safe_dump(_other_instrument(_odi())).encode(), 422, "unknown instrument"),
        (yaml.safe_dump(_without_item(_odi())).encode(), 422, "item &#39;sitting&#39; has no"),
        (
            yaml.safe_dump(_with_unknown_option(_odi())).encode(),
            422,
            "item &#39;lifting&#39;: unknown option(s) 7",
        ),
        (b"# padding\n" * 8000, 413, "larger than 64 KiB"),
    ],
    ids=["not-yaml", "wrong-instrument", "missing-item", "unknown-option", "oversize"],
)
def test_a_bad_file_is_refused_naming_the_problem_and_nothing_is_installed(
    sign_in_as: SignIn,
    world: World,
    settings: Settings,
    database: Database,
    content: bytes,
    status: int,
    message: str,
) -> None:
    response = _upload(sign_in_as(world.admin), content)
    assert response.status_code == status
    assert 'id="f-file-error"' in response.text
    assert message in response.text
    assert _site_files(settings) == []
    assert ("check_wording", "invalid") in _audit_actions(database)


def test_a_forged_enable_is_checked_again_and_refused(
    sign_in_as: SignIn, world: World, settings: Settings
) -> None:
    forged = base64.b64encode(yaml.safe_dump(_without_item(_odi())).encode()).decode()
    response = sign_in_as(world.admin).post(
        "/admin/wording/enable", data={"name": "odi.yaml", "content": forged}
    )
    assert response.status_code == 422
    assert "has no wording" in response.text
    assert _site_files(settings) == []


def test_preview_then_enable_makes_the_questionnaire_available_to_patients(
    client: TestClient,
    sign_in_as: SignIn,
    world: World,
    settings: Settings,
    database: Database,
) -> None:
    link = world.patient_a.link_token
    answer_all(client, link)
    submit(client, link)
    assert f'href="/p/{link}/follow-up/odi"' not in client.get(f"/p/{link}/result").text

    admin = sign_in_as(world.admin)
    preview = _upload(admin, yaml.safe_dump(_odi()).encode())
    assert preview.status_code == 200
    assert "PLACEHOLDER item 1 (odi)" in preview.text  # the questionnaire as patients see it
    assert "Enable this wording" in preview.text
    assert _site_files(settings) == []  # a preview installs nothing
    content = preview.text.split('name="content" value="')[1].split('"')[0]

    enabled = admin.post(
        "/admin/wording/enable",
        data={"name": "odi.yaml", "content": content},
        follow_redirects=False,
    )
    assert enabled.status_code == 303
    assert _site_files(settings) == ["odi.yaml"]
    assert "site wording installed" in admin.get("/admin/wording").text
    assert ("install_wording:odi", "ok") in _audit_actions(database)

    client.cookies.clear()
    assert f'href="/p/{link}/follow-up/odi"' in client.get(f"/p/{link}/result").text
    form = client.get(f"/p/{link}/follow-up/odi")
    assert 'name="item.pain_intensity"' in form.text

    admin = sign_in_as(world.admin)
    removed = admin.post("/admin/wording/odi/remove", follow_redirects=False)
    assert removed.status_code == 303
    assert _site_files(settings) == []
    assert _audit_actions(database).count(("remove_wording:odi", "ok")) == 1
    again = admin.post("/admin/wording/odi/remove", follow_redirects=False)
    assert again.status_code == 303
    assert _audit_actions(database).count(("remove_wording:odi", "ok")) == 1
    client.cookies.clear()
    assert f'href="/p/{link}/follow-up/odi"' not in client.get(f"/p/{link}/result").text


def test_a_site_file_replaces_the_bundled_pain_rating_wording(
    client: TestClient, sign_in_as: SignIn, world: World
) -> None:
    admin = sign_in_as(world.admin)
    page = admin.get("/admin/wording").text
    assert re.search(r"<code>nrs_back</code>:\s*spinepath's own wording", page)
    preview = _upload(admin, yaml.safe_dump(placeholder_wording("nrs_back")).encode(), "n.yaml")
    assert "Enabling it replaces spinepath's own wording" in preview.text
    content = preview.text.split('name="content" value="')[1].split('"')[0]
    admin.post("/admin/wording/enable", data={"name": "n.yaml", "content": content})
    client.cookies.clear()
    link = world.patient_a.link_token
    assert "PLACEHOLDER item 1 (nrs_back)" in client.get(f"/p/{link}/follow-up/nrs_back").text


def test_a_cross_site_enable_is_refused(
    sign_in_as: SignIn, world: World, settings: Settings
) -> None:
    content = base64.b64encode(yaml.safe_dump(_odi()).encode()).decode()
    response = sign_in_as(world.admin).post(
        "/admin/wording/enable",
        data={"name": "odi.yaml", "content": content},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403
    assert _site_files(settings) == []


def test_the_page_says_where_the_files_go(
    sign_in_as: SignIn, world: World, settings: Settings
) -> None:
    page = sign_in_as(world.admin).get("/admin/wording").text
    assert f"<code>{settings.data_dir / 'wording'}</code>" in page
