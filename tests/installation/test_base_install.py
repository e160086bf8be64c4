"""The base install (``pip install spinepath``, no extras) assesses an intake on its own.

A fresh virtual environment gets spinepath from the working tree, built as a wheel (not
editable) and pinned by requirements/constraints.txt, with pip's own configuration (the package
index it is set up to use). The web app, PDF, plot and PostgreSQL libraries must then be absent,
and the commands that need them must say which extra to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
EXAMPLE = ROOT / "examples" / "low-back-acute-self-care.json"
NOT_IN_BASE = ("fastapi", "weasyprint", "altair", "vl_convert", "sqlalchemy", "psycopg")


def _run(args: list[str], *, timeout: float, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        args, capture_output=True, text=True, timeout=timeout, check=False, **options
    )


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with spinepath installed without extras."""
    venv = tmp_path_factory.mktemp("base-install") / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # PIP_* variables of the outer environment (an editable or user install) must not leak in;
    # pip's configuration files (index, find-links) still apply, as for any user.
    env = {k: v for k, v in os.environ.items() if k not in {"PIP_EDITABLE", "PIP_USER"}}
    installed = _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(CONSTRAINTS),
            str(ROOT),
        ],
        timeout=900,
        env=env,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


def _spinepath(venv: Path, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Run outside the working tree, with a cache of its own, so only the installed copy is used.
    env = {**os.environ, "SPINEPATH_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    return _run([str(venv / "bin" / "spinepath"), *args], timeout=120, cwd=tmp_path, env=env)


def test_base_install_assesses_an_intake(base_venv: Path, tmp_path: Path) -> None:
    for _ in range(2):  # the second run reads the knowledge base from the user cache
        done = _spinepath(base_venv, "assess", str(EXAMPLE), "--format", "json", tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
        assessment = json.loads(done.stdout)
        assert assessment["triage"]["level"] == "self_care"


def test_base_install_has_no_optional_libraries(base_venv: Path, tmp_path: Path) -> None:
    code = (
        "import importlib.util, json; "
        f"print(json.dumps([m for m in {list(NOT_IN_BASE)!r} "
        "if importlib.util.find_spec(m) is not None]))"
    )
    done = _run([str(base_venv / "bin" / "python"), "-c", code], timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    installed = _run([str(base_venv / "bin" / "python"), "-m", "pip", "list"], timeout=120)
    assert "spinepath" in installed.stdout
    assert "editable project location" not in installed.stdout.lower()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        pytest.param(["serve"], "web", id="serve"),
        pytest.param(["db", "upgrade"], "web", id="db-upgrade"),
        pytest.param(["decision-aid", str(EXAMPLE), "-f", "pdf", "-o", "aid.pdf"], "pdf", id="pdf"),
    ],
)
def test_commands_needing_an_extra_name_it(
    base_venv: Path, tmp_path: Path, args: list[str], extra: str
) -> None:
    done = _spinepath(base_venv, *args, tmp_path=tmp_path)
    assert done.returncode == 1
    assert f"install spinepath[{extra}]" in done.stderr
    assert "Traceback" not in done.stderr
