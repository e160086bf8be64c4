"""Sealing a patient's private link so that a reminder e-mail can carry it.

The link token is otherwise stored only as a hash. A reminder sent weeks later must contain the
link itself, so it is kept encrypted with AES-GCM under a key derived (HKDF-SHA256) from the
site's secret key: a copy of the database alone does not reveal links. Changing the secret key
makes sealed links unreadable; those reminders then fail with a logged error, not a wrong link.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"spinepath reminder link v1"
_NONCE_BYTES = 12


class UnsealError(ValueError):
    """The sealed value was not made with this secret key, or was changed."""


def _key(secret_key: str) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return kdf.derive(secret_key.encode("utf-8"))


def seal(secret_key: str, plaintext: str, associated: str) -> str:
    """``associated`` (the patient id) is bound in, so a sealed link moved to another patient's
    row does not open."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key)).encrypt(
        nonce, plaintext.encode("utf-8"), associated.encode("utf-8")
    )
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(secret_key: str, sealed: str, associated: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        opened = AESGCM(_key(secret_key)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated.encode("utf-8")
        )
    except (InvalidTag, ValueError) as exc:
        raise UnsealError("the sealed link cannot be opened with this secret key") from exc
    return opened.decode("utf-8")
