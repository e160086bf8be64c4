"""docs/triage.md lists every red-flag rule with its level and evidence, as the rules have them."""

from __future__ import annotations

import re
from pathlib import Path

from spinepath import knowledge as kb

DOC = Path(__file__).parents[2] / "docs" / "triage.md"
ROW = re.compile(
    r"^\| `(?P<id>RF-[A-Z0-9-]+)` \| (?P<level>\w+) \| (?P<concern>[\w—]+)"
    r" \| (?P<evidence>[^|]+) \|"
)


def test_the_triage_page_lists_every_red_flag_rule_with_its_level_and_evidence() -> None:
    rows = {
        m["id"]: (m["level"], m["concern"], m["evidence"].strip())
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if (m := ROW.match(line))
    }
    expected = {
        r.id: (
            r.level.value,
            r.concern or "—",
            f"{r.evidence.strength}, {r.evidence.kind.replace('_', ' ')} ({r.evidence.source})",
        )
        for r in kb.default().red_flags
    }
    assert rows == expected
