"""Sealed private links open only with the same secret key and for the same patient."""

from __future__ import annotations

import pytest

from spinepath.care import sealing

KEY = "k" * 40
LINK = "https://spine.example.org/p/pl_abcdef"


def test_a_sealed_link_opens_with_the_same_key_and_patient() -> None:
    sealed = sealing.seal(KEY, LINK, "patient-1")
    assert LINK not in sealed
    assert sealing.unseal(KEY, sealed, "patient-1") == LINK


def test_two_seals_of_one_link_differ() -> None:
    assert sealing.seal(KEY, LINK, "p") != sealing.seal(KEY, LINK, "p")


@pytest.mark.parametrize(
    ("key", "patient"), [("x" * 40, "patient-1"), (KEY, "patient-2")], ids=["key", "patient"]
)
def test_another_key_or_patient_cannot_open_it(key: str, patient: str) -> None:
    sealed = sealing.seal(KEY, LINK, "patient-1")
    with pytest.raises(sealing.UnsealError):
        sealing.unseal(key, sealed, patient)


def test_a_changed_seal_does_not_open() -> None:
    sealed = sealing.seal(KEY, LINK, "p")
    changed = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(sealing.UnsealError):
        sealing.unseal(KEY, changed, "p")
