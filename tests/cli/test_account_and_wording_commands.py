"""`users list`, `users end-sessions`, `clinics list` and `instruments wording check|install`."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml

from spinepath.cli import instruments as cli_instruments
from spinepath.cli import web as cli_web
from spinepath.instruments import catalogue
from spinepath.instruments.wording import find_wording
from spinepath.settings import Settings
from spinepath.store import repository, sessions
from spinepath.store.db import Database
from support.cli import cli_runner, command_app
from support.database_content import cli_env
from support.web import World, session_cookie


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path)


def _run(app: typer.Typer, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = cli_runner(env).invoke(command_app(app), list(args))
    return result.exit_code, result.output


def test_clinics_list_names_every_clinic(env: dict[str, str], world: World) -> None:
    code, output = _run(cli_web.app, env, "clinics", "list")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        [str(world.clinic_a), "Clinic A"],
        [str(world.clinic_b), "Clinic B"],
    ]


def test_users_list_shows_role_clinic_state_and_open_sessions(
    env: dict[str, str], world: World, database: Database, settings: Settings
) -> None:
    session_cookie(database, settings, world.clinician_a.id)
    with database.session() as session:
        repository.set_user_active(
            session, repository.user_by_email(session, "b@clinic-b.example"), False
        )
    code, output = _run(cli_web.app, env, "users", "list")
    assert code == 0, output
    rows = {line.split("\t")[0]: line.split("\t") for line in output.strip().splitlines()}
    assert rows[world.clinician_a.email][2:5] == ["clinician", "Clinic A", "active"]
    assert rows[world.clinician_a.email][5].endswith("UTC")
    assert rows[world.clinician_a.email][6] == "1 open session"
    assert rows[world.clinician_b.email][4] == "disabled"
    assert rows[world.admin.email][3:] == ["(all clinics)", "active", "never", "0 open sessions"]
    code, output = _run(cli_web.app, env, "users", "list", "--clinic", "Clinic B")
    assert code == 0, output
    assert [line.split("\t")[0] for line in output.strip().splitlines()] == [
        world.clinician_b.email
    ]


def test_users_list_refuses_an_unknown_clinic(env: dict[str, str], world: World) -> None:
    code, output = _run(cli_web.app, env, "users", "list", "--clinic", "Nowhere")
    assert code == 1
    assert "no clinic called 'Nowhere'" in output


def test_users_end_sessions_ends_them_in_the_database(
    env: dict[str, str], world: World, database: Database, settings: Settings
) -> None:
    for _ in range(2):
        session_cookie(database, settings, world.clinician_a.id)
    code, output = _run(cli_web.app, env, "users", "end-sessions", world.clinician_a.email)
    assert code == 0, output
    assert "2 sessions of a@clinic-a.example ended" in output
    with database.session() as session:
        assert sessions.live_sessions(session, world.clinician_a.id) == 0
        actions = [e.action for e in repository.list_audit(session, limit=None)]
    assert "end_sessions" in actions
    code, output = _run(cli_web.app, env, "users", "end-sessions", "nobody@example.org")
    assert code == 1
    assert "no account for nobody@example.org" in output


# Wording files ----------------------------------------------------------------------------------


def _wording_file(tmp_path: Path, wording_dir: Path, change: str | None = None) -> Path:
    data = yaml.safe_load((wording_dir / "odi.yaml").read_text(encoding="utf-8"))
    if change is not None:
        del data["items"][change]
    path = tmp_path / "upload" / "odi.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def wording_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "instruments" / "fixtures" / "wording"


def test_wording_check_accepts_a_complete_file_and_names_a_missing_item(
    tmp_path: Path, wording_dir: Path
) -> None:
    env = {"COLUMNS": "240"}
    good = _wording_file(tmp_path, wording_dir)
    code, output = _run(cli_instruments.app, env, "instruments", "wording", "check", str(good))
    assert code == 0, output
    assert "is complete: 10 item(s)" in output
    bad = _wording_file(tmp_path, wording_dir, change="sitting")
    code, output = _run(cli_instruments.app, env, "instruments", "wording", "check", str(bad))
    assert code == 2
    assert "item 'sitting' has no wording" in output


def test_wording_install_writes_into_the_data_directory_by_default(
    tmp_path: Path, wording_dir: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {
        "COLUMNS": "240",
        "SPINEPATH_DATA_DIR": str(data_dir),
        "SPINEPATH_INSTRUMENT_WORDING_DIR": "",
    }
    good = _wording_file(tmp_path, wording_dir)
    code, output = _run(cli_instruments.app, env, "instruments", "wording", "install", str(good))
    assert code == 0, output
    assert (data_dir / "wording" / "odi.yaml").is_file()
    assert find_wording(catalogue.get("odi"), data_dir / "wording") is not None


def test_wording_install_of_a_bad_file_writes_nothing(tmp_path: Path, wording_dir: Path) -> None:
    target = tmp_path / "site"
    env = {"COLUMNS": "240", "SPINEPATH_INSTRUMENT_WORDING_DIR": str(target)}
    bad = _wording_file(tmp_path, wording_dir, change="lifting")
    code, output = _run(cli_instruments.app, env, "instruments", "wording", "install", str(bad))
    assert code == 2
    assert "item 'lifting' has no wording" in output
    assert not target.exists()
