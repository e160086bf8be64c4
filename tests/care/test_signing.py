"""Webhook signatures: what a receiver must accept and refuse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spinepath.care import signing

SECRET = "test-signing-secret"
BODY = b'{"event":"alert.created"}'
NOW = 1_800_000_000


def test_a_fresh_signature_of_the_body_verifies() -> None:
    header = signing.signature_header(SECRET, BODY, NOW)
    assert signing.verify(SECRET, header, BODY, now=NOW + 10) == NOW


@pytest.mark.parametrize(
    ("secret", "header", "body", "now", "reason"),
    [
        ("other-secret", None, BODY, NOW, "does not match"),
        (SECRET, None, BODY + b" ", NOW, "does not match"),
        (SECRET, None, BODY, NOW + 301, "replay window"),
        (SECRET, None, BODY, NOW - 301, "replay window"),
        (SECRET, "", BODY, NOW, "no Spinepath-Signature"),
        (SECRET, "v1=abc", BODY, NOW, "no single timestamp"),
        (SECRET, f"t={NOW},t={NOW},v1=00", BODY, NOW, "no single timestamp"),
        (SECRET, "garbage", BODY, NOW, "malformed"),
        (SECRET, f"t={NOW}", BODY, NOW, "does not match"),
    ],
)
def test_refusals_say_why(
    secret: str, header: str | None, body: bytes, now: int, reason: str
) -> None:
    sent = signing.signature_header(SECRET, BODY, NOW) if header is None else header
    with pytest.raises(signing.SignatureError, match=reason):
        signing.verify(secret, sent, body, now=now)


def test_a_second_v1_value_allows_rotating_secrets() -> None:
    old = signing.digest("old-secret", NOW, BODY)
    header = f"{signing.signature_header(SECRET, BODY, NOW)},v1={old}"
    assert signing.verify("old-secret", header, BODY, now=NOW) == NOW
    assert signing.verify(SECRET, header, BODY, now=NOW) == NOW


@given(body=st.binary(max_size=300), secret=st.text(min_size=1, max_size=40), flip=st.integers())
def test_any_changed_byte_breaks_the_signature(body: bytes, secret: str, flip: int) -> None:
    header = signing.signature_header(secret, body, NOW)
    assert signing.verify(secret, header, body, now=NOW) == NOW
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        with pytest.raises(signing.SignatureError):
            signing.verify(secret, header, changed, now=NOW)
