"""Page heights at phone width (390 x 844): the result page and the sciatica and stenosis aids.

Runs the browser checks in tests/browser/test_phone_first_screen.py (headless Chromium), which
assert what the first screen shows and record each page's full height, then prints the heights
in pixels and in phone screens.

    .venv/bin/python bench/bench_page_heights.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEIGHTS = Path(tempfile.gettempdir()) / "spinepath-shots" / "page-heights.json"
SCREEN = 844


def main() -> int:
    HEIGHTS.unlink(missing_ok=True)
    print("running tests/browser/test_phone_first_screen.py (SQLite only) ...", file=sys.stderr)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-k",
            "not postgresql",
            str(ROOT / "tests" / "browser" / "test_phone_first_screen.py"),
        ],
        cwd=ROOT,
        check=False,
    )
    if not HEIGHTS.exists():
        print("no heights were recorded", file=sys.stderr)
        return 1
    heights = json.loads(HEIGHTS.read_text(encoding="utf-8"))
    print(f"{'page':45} {'height (px)':>12} {'phone screens':>14}")
    for name, height in sorted(heights.items()):
        print(f"{name:45} {height:>12,} {height / SCREEN:>14.1f}")
    print(f"first-screen checks: {'passed' if run.returncode == 0 else 'FAILED'}")
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
