"""docs/web.md stays true: every setting is documented, and /docs lists every API operation."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from spinepath.settings import Settings

WEB_DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def test_every_setting_is_documented() -> None:
    text = WEB_DOC.read_text()
    missing = [name for name in Settings.model_fields if f"`SPINEPATH_{name.upper()}`" not in text]
    assert missing == []


def test_the_api_reference_lists_every_operation(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    page = client.get("/docs").text
    for path, operations in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for method in operations:
            assert f'<span class="method">{method.upper()}</span> <code>{path}</code>' in page
