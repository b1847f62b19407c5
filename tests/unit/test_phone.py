"""Phone parsing and masking (no database)."""

from __future__ import annotations

import pytest

from ewallet.kit.phone import InvalidPhoneError, mask_phone, parse_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
        ("0086 138 1234 5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("＋８６ １３８ １２３４ ５６７８", "+8613812345678"),  # full-width plus and spaces
        ("  13812345678  ", "+8613812345678"),
        ("138　1234　5678", "+8613812345678"),  # ideographic spaces
        ("19912345678", "+8619912345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+852 9123 4567", "+85291234567"),
        ("+86 0138 1234 5678", "+8613812345678"),  # a stray trunk 0 is forgiven
    ],
)
def test_accepted_numbers_are_stored_as_e164(raw: str, e164: str) -> None:
    assert parse_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "01012345678",  # Beijing landline
        "010-1234-5678",
        "+1 800 555 0123",  # toll-free
        "+1 900 555 0199",  # premium rate
        "138ABCD5678",  # letters would be read as keypad digits
        "1-800-FLOWERS",
        "+86 138",
        "+",
        "++8613812345678",
        "13812345678; DROP TABLE users",
        "' OR '1'='1",
        "📱13812345678",
        "(010) 12345678",
        "13812345678" * 4,
        "447911123456",  # a foreign mobile needs its +
    ],
)
def test_refused_numbers(raw: str) -> None:
    with pytest.raises(InvalidPhoneError):
        parse_phone(raw)


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("+447911123456", "+44 791****3456"),
        ("+85291234567", "+852 ******67"),
        ("garbage", "****"),
    ],
)
def test_mask_phone(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked
