"""The repository carries its licence and a NOTICE naming every vendored file and its terms."""

from __future__ import annotations

from support.files import ROOT


def test_the_apache_licence_text_is_in_the_repository() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_vendored_licence_file_is_named_in_the_notice() -> None:
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    vendored = sorted(
        p for p in ROOT.rglob("*.LICENSE") if ".venv" not in p.parts and ".git" not in p.parts
    )
    assert vendored, "no vendored licence files found"
    for licence in vendored:
        assert licence.relative_to(ROOT).as_posix() in notice, licence


def test_the_notice_names_the_licensed_questionnaires() -> None:
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    for name in ("Oswestry", "Neck Disability Index", "Roland-Morris", "STarT Back", "PEG"):
        assert name in notice, name
