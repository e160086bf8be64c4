"""New passwords are judged by how guessable they are, not by length alone, and e-mail
addresses must be addresses."""

from __future__ import annotations

import pytest

from spinepath.store import repository
from spinepath.store.db import Database
from spinepath.store.passwords import password_problem, valid_email


@pytest.mark.parametrize(
    "password",
    [
        " " * 12,  # twelve spaces: long enough, guessable
        "password1234",
        "qwertyuiop123",
        "aaaaaaaaaaaaaaaa",
        "drsmith@clinic.example",  # the account's own address
    ],
)
def test_a_guessable_password_is_refused(password: str) -> None:
    problem = password_problem(password, user_inputs=("drsmith@clinic.example", "Dr Smith"))
    assert problem is not None
    assert problem.startswith("password: ")


@pytest.mark.parametrize("password", ["correct horse battery staple", "plum-tractor-violin-88"])
def test_a_strong_passphrase_is_accepted(password: str) -> None:
    assert password_problem(password) is None


def test_length_is_still_required() -> None:
    assert password_problem("Xk9#q") == "password: at least 12 characters"


@pytest.mark.parametrize("address", ["x@", "@clinic.example", "no-at-sign", "a@b", "a b@c.example"])
def test_an_address_that_is_not_one_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"^email: "):
        valid_email(address)


def test_an_address_is_kept_in_its_normal_form() -> None:
    assert valid_email("  Dr.Smith@Clinic.Example ") == "dr.smith@clinic.example"


def test_accounts_are_created_only_with_a_real_address_and_a_strong_password(
    database: Database,
) -> None:
    with database.session() as session:
        clinic = repository.create_clinic(session, "North")
        with pytest.raises(ValueError, match=r"^email: "):
            repository.create_user(
                session, email="x@", password="correct horse battery staple", clinic_id=clinic.id
            )
        with pytest.raises(ValueError, match=r"^password: too easy to guess"):
            repository.create_user(
                session, email="a@north.example", password=" " * 12, clinic_id=clinic.id
            )
        user = repository.create_user(
            session, email="a@north.example", password="correct horse battery staple",
            clinic_id=clinic.id,
        )  # fmt: skip
        with pytest.raises(ValueError, match=r"^password: too easy to guess"):
            repository.set_password(session, user, "password1234")
