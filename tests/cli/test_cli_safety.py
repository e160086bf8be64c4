"""Input and output files: size and encoding limits, no writing over an input, all or nothing."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import Result

from spinepath.cli import assess as cli_assess
from spinepath.cli.files import MAX_INPUT_BYTES
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.files import EXAMPLES_DIR
from support.intakes import low_back_pain

RUNNER = cli_runner(PLAIN_WIDE)
LIMIT = f"{MAX_INPUT_BYTES:,} bytes"
INTAKE = json.dumps(low_back_pain(age=50, weeks=3, intensity=5))
EXAMPLE = EXAMPLES_DIR / "sciatica-refer-surgical-opinion.json"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _invoke(app: typer.Typer, args: list[str], stdin: str | bytes | None = None) -> Result:
    return RUNNER.invoke(app, args, input=stdin)


def _refused_cleanly(result: Result) -> None:
    """Exit 2 with a message, not an exception ending in a traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def _batch_file(tmp_path: Path, count: int = 3) -> Path:
    source = tmp_path / "intakes.ndjson"
    source.write_text((INTAKE + "\n") * count, encoding="utf-8")
    return source


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --- never writing over an input ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["same", "symlink", "relative", "hard link"])
def test_a_batch_is_refused_when_its_output_is_its_input(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    source = _batch_file(tmp_path)
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    output = {
        "same": str(source),
        "symlink": "link.ndjson",
        "relative": "sub/../intakes.ndjson",
        "hard link": "hard.ndjson",
    }[spelling]
    (tmp_path / "link.ndjson").symlink_to(source)
    (tmp_path / "hard.ndjson").hardlink_to(source)
    result = _invoke(app, ["assess", "--batch", str(source), "-o", output])
    _refused_cleanly(result)
    assert "it is the input file" in result.stderr
    assert source.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_a_decision_aid_is_refused_when_its_output_is_an_input(
    app: typer.Typer, tmp_path: Path
) -> None:
    intake = tmp_path / "intake.json"
    intake.write_bytes(EXAMPLE.read_bytes())
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"importance": {"fast_relief": 3}, "leaning": "unsure"}))
    for output in (intake, values):
        before = output.read_bytes()
        args = ["decision-aid", str(intake), "--values", str(values), "-o", str(output)]
        result = _invoke(app, args)
        _refused_cleanly(result)
        assert "it is the input file" in result.stderr
        assert output.read_bytes() == before


# --- limits on what is read ---------------------------------------------------------------------


def test_an_intake_that_is_not_utf8_is_refused_naming_the_file_and_byte(
    app: typer.Typer, tmp_path: Path
) -> None:
    source = tmp_path / "latin1.json"
    source.write_bytes(b'{"age": 50, "sex": "f\xe9male"}')
    result = _invoke(app, ["assess", str(source)])
    _refused_cleanly(result)
    assert f"{source}: the intake is not valid UTF-8 (at byte offset 21)" in result.stderr


def test_standard_input_that_is_not_utf8_is_refused(app: typer.Typer) -> None:
    result = _invoke(app, ["assess", "-"], stdin=b"\xff" + INTAKE.encode())
    _refused_cleanly(result)
    assert "stdin: the intake is not valid UTF-8 (at byte offset 0)" in result.stderr


def test_standard_input_larger_than_the_limit_is_refused(app: typer.Typer) -> None:
    result = _invoke(app, ["assess", "-"], stdin=b" " * (MAX_INPUT_BYTES + 1))
    _refused_cleanly(result)
    assert "stdin: the intake is larger than the 10 MiB limit" in result.stderr
    assert LIMIT in result.stderr


def test_an_intake_of_exactly_the_limit_is_read(app: typer.Typer) -> None:
    padded = INTAKE + " " * (MAX_INPUT_BYTES - len(INTAKE))
    result = _invoke(app, ["assess", "-", "-f", "json"], stdin=padded.encode())
    assert result.exit_code == 0, result.output


def test_an_endless_standard_input_is_refused_without_running_out_of_memory() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    code = "from spinepath.cli import main; main()"
    with zero.open("rb") as endless:
        done = subprocess.run(
            [sys.executable, "-c", code, "assess", "-"],
            stdin=endless,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert "larger than the 10 MiB limit" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_intake_file_is_refused(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, ["score", "odi", str(tmp_path / "absent.json")])
    _refused_cleanly(result)
    assert "absent.json: cannot be read (no such file" in result.stderr


# --- batches ------------------------------------------------------------------------------------


def test_bad_lines_of_a_batch_become_error_records_and_the_rest_are_assessed(
    app: typer.Typer, tmp_path: Path
) -> None:
    invalid = low_back_pain(age=50, weeks=3, intensity=5)
    invalid["regions"][0]["intensity"] = 12
    source = tmp_path / "intakes.ndjson"
    source.write_bytes(
        b"\n".join(
            [
                INTAKE.encode(),
                INTAKE.encode().replace(b'"low_back"', b'"low_\xffback"'),
                b"{not json",
                json.dumps(invalid).encode(),
                b"",
                b"x" * (MAX_INPUT_BYTES + 1),
                INTAKE.encode(),
            ]
        )
    )
    out = tmp_path / "out.ndjson"
    result = _invoke(app, ["assess", "--batch", str(source), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "assessed 2, failed 4" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [record.get("line") for record in records] == [None, 2, 3, 4, 6, None]
    expected = json.loads(assess(Intake.model_validate_json(INTAKE)).model_dump_json())
    assert records[0] == records[5] == expected
    errors: dict[int, list[str]] = {r["line"]: r["errors"] for r in records if "line" in r}
    offset = INTAKE.index('"low_back"') + len('"low_')
    assert errors[2] == [f"input: not valid UTF-8 (at byte offset {offset})"]
    assert errors[3][0].startswith("input: Invalid JSON")
    assert any(e.startswith("regions.0.intensity:") for e in errors[4])
    assert errors[6] == [f"input: the line is longer than the 10 MiB limit ({LIMIT})"]


def test_a_batch_streams_to_standard_output(app: typer.Typer, tmp_path: Path) -> None:
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path, 2))])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_an_interrupted_batch_leaves_an_existing_output_as_it_was(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    def fails_on_the_second(intake: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("stopped")
        return assess(intake)

    monkeypatch.setattr(cli_assess, "assess", fails_on_the_second)
    out = tmp_path / "out.ndjson"
    out.write_text("earlier results\n", encoding="utf-8")
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(out)])
    assert isinstance(result.exception, RuntimeError)
    assert out.read_text(encoding="utf-8") == "earlier results\n"
    assert _leftovers(tmp_path) == []


# --- writing all or nothing ---------------------------------------------------------------------


def test_output_into_a_missing_directory_writes_nothing(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "out.ndjson"
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(out)])
    _refused_cleanly(result)
    assert "does not exist" in result.stderr
    assert not out.parent.exists()


def test_output_onto_a_directory_is_refused(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(out)])
    _refused_cleanly(result)
    assert "it is a directory" in result.stderr
    assert list(out.iterdir()) == []


def test_a_failed_write_never_truncates_the_existing_output(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "aid.html"
    out.write_text("the earlier aid", encoding="utf-8")
    result = _invoke(app, ["decision-aid", str(EXAMPLE), "-o", str(out)])
    _refused_cleanly(result)
    assert "cannot write (no space left on device)" in result.stderr
    assert out.read_text(encoding="utf-8") == "the earlier aid"
    assert _leftovers(tmp_path) == []


def test_replacing_an_output_keeps_its_permissions(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o600)
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_an_output_symlink_is_written_through(app: typer.Typer, tmp_path: Path) -> None:
    real = tmp_path / "real.ndjson"
    link = tmp_path / "latest.ndjson"
    link.symlink_to(real)
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert len(real.read_text(encoding="utf-8").splitlines()) == 3


def test_output_to_a_pipe_is_written_to_it_not_replaced(app: typer.Typer, tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = _invoke(app, ["assess", "--batch", str(_batch_file(tmp_path)), "-o", str(pipe)])
    if result.exit_code != 0:
        # The command never opened the pipe: open it here, or the reader waits for ever.
        pipe.open("wb").close()
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert len(received[0].splitlines()) == 3
    assert _leftovers(tmp_path) == []
