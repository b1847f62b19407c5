"""The code format on its own: layout, blinding across steps, forgery, the accepted window."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from ewallet.payments.payment_codes.codec import (
    candidates,
    make_code,
    time_step,
)
from ewallet.payments.payment_codes.errors import PaymentCodeInvalidError
from ewallet.security.crypto import KeyedDigest

BLINDING = KeyedDigest(b"k" * 32)
SECRET = secrets.token_bytes(32)
NOW = datetime(2026, 3, 2, 1, 0, 30, tzinfo=UTC)


def code_at(when: datetime, *, lookup_id: int = 12_345_678, counter: int = 0) -> str:
    return make_code(
        SECRET, lookup_id=lookup_id, step=time_step(when), counter=counter, blinding=BLINDING
    )


def test_layout_is_18_digits_with_the_wallet_prefix() -> None:
    code = code_at(NOW, counter=3)
    assert len(code) == 18
    assert code.isdigit()
    assert code.startswith("28")
    assert code[10] == "3"


def test_the_lookup_part_changes_every_step_and_is_recovered() -> None:
    first, second = code_at(NOW), code_at(NOW + timedelta(seconds=60))
    assert first[2:10] != second[2:10]  # codes of one user are not linkable by their digits
    readings = candidates(second, now=NOW + timedelta(seconds=60), blinding=BLINDING)
    assert readings[0].lookup_id == 12_345_678
    assert readings[0].matches(SECRET)


def test_a_code_is_read_in_its_step_and_the_next_only() -> None:
    code = code_at(NOW)
    for delay, accepted in ((0, True), (60, True), (120, False), (180, False)):
        later = NOW + timedelta(seconds=delay)
        found = any(
            c.lookup_id == 12_345_678 and c.matches(SECRET)
            for c in candidates(code, now=later, blinding=BLINDING)
        )
        assert found is accepted, delay


def test_a_changed_digit_or_another_secret_does_not_match() -> None:
    code = code_at(NOW)
    last = str((int(code[-1]) + 1) % 10)
    (reading, _) = candidates(code[:-1] + last, now=NOW, blinding=BLINDING)
    assert not reading.matches(SECRET)
    (reading, _) = candidates(code, now=NOW, blinding=BLINDING)
    assert not reading.matches(secrets.token_bytes(32))
    other_key = candidates(code, now=NOW, blinding=KeyedDigest(b"x" * 32))
    assert other_key[0].lookup_id != 12_345_678


@pytest.mark.parametrize(
    "bad", ["", "28123", "2812345678901234567", "18" + "0" * 16, "28" + "a" * 16, "２８" + "0" * 16]
)
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(PaymentCodeInvalidError):
        candidates(bad, now=NOW, blinding=BLINDING)
