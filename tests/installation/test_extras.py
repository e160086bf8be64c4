"""A feature whose optional dependencies are missing says which extra to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient

from spinepath import cache as user_cache
from spinepath import cli
from spinepath.extras import MissingExtraError, needs_extra
from spinepath.web.errors import install_error_handlers


def test_a_missing_module_of_an_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import now fails as if not installed
    with pytest.raises(MissingExtraError) as raised, needs_extra("pdf", "PDF output"):
        import weasyprint  # noqa: F401
    assert raised.value.extra == "pdf"
    assert "PDF output needs" in str(raised.value)
    assert "install spinepath[pdf]" in str(raised.value)
    assert isinstance(raised.value, ImportError)  # `except ImportError` still catches it


def test_the_extra_of_the_missing_module_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError, match=r"spinepath\[postgres\]"), needs_extra("web", "x"):
        import psycopg  # noqa: F401


def test_a_missing_dependency_of_a_dependency_names_the_extra_asked_for() -> None:
    with pytest.raises(MissingExtraError, match=r"spinepath\[plots\]"), needs_extra("plots", "x"):
        raise ModuleNotFoundError("No module named 'narwhals_missing'", name="narwhals_missing")


def test_spinepath_s_own_modules_are_not_mistaken_for_an_extra() -> None:
    with pytest.raises(ModuleNotFoundError), needs_extra("web", "x"):
        raise ModuleNotFoundError("No module named 'spinepath.gone'", name="spinepath.gone")


@pytest.fixture
def fresh_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`cli.main` with the user cache in a temporary folder, and off again afterwards."""
    monkeypatch.setattr(user_cache, "_enabled", False)
    monkeypatch.setenv(user_cache.CACHE_DIR_ENV, str(tmp_path))


@pytest.mark.usefixtures("fresh_cli")
def test_serve_without_the_web_extra_says_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    monkeypatch.setattr(sys, "argv", ["spinepath", "serve"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: spinepath serve needs the optional dependencies of spinepath")
    assert "install spinepath[web]" in err


@pytest.mark.usefixtures("fresh_cli")
def test_other_import_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ModuleNotFoundError("No module named 'not_an_extra'", name="not_an_extra")

    app = typer.Typer(name="spinepath", pretty_exceptions_enable=False)
    app.command()(broken)
    monkeypatch.setattr(cli, "build_app", lambda command=None: app)
    monkeypatch.setattr(sys, "argv", ["spinepath"])
    with pytest.raises(ModuleNotFoundError, match="not_an_extra"):
        cli.main()


def test_the_web_app_answers_501_naming_the_extra() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/chart")
    def chart() -> None:
        raise MissingExtraError("The progress chart", "plots", "vl_convert")

    response = TestClient(app).get("/api/v1/chart")
    assert response.status_code == 501
    assert "install spinepath[plots]" in response.json()["errors"][0]["message"]
