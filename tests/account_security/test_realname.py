"""Real-name verification: resident ID numbers, names, masks, the tier, one ID per account."""

from __future__ import annotations

from datetime import date

import pytest

from ewallet.identity.errors import InvalidIdNumberError, InvalidRealNameError
from ewallet.identity.realname.rules import (
    check_character,
    mask_real_name,
    normalize_real_name,
    parse_id_number,
)
from ewallet.identity.realname.service import recompute_tier
from ewallet.models.identity import User
from tests.fixtures.accounts import START, Harness, assert_problem, make_id_number

TODAY = date(2026, 3, 2)
VALID = make_id_number()  # 110105 19900307 123 + check
URL = "/v1/me/identity"


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_known_number_with_x_check_digit() -> None:
    # A number whose check character is X (published GB 11643 example form).
    number = parse_id_number("11010519491231002X", today=TODAY)
    assert (number.birth_date, number.province) == (date(1949, 12, 31), 11)
    assert number.masked == "110***********002X"


def test_lower_case_x_is_accepted_as_upper_case() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).value == "11010519491231002X"


def _bad_checksum() -> str:
    good = VALID[-1]
    return VALID[:-1] + ("0" if good != "0" else "1")


@pytest.mark.parametrize(
    "raw",
    [
        _bad_checksum(),
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "110105491231002",  # the 15-digit first generation
        with_check("11010519900230123"),  # 30 February
        with_check("11010519901301123"),  # month 13
        with_check("11010520300101123"),  # born in the future
        with_check("11010518991231123"),  # before 1900
        with_check("00010519900307123"),  # province 00
        with_check("10010519900307123"),  # province 10
        with_check("16010519900307123"),  # province 16
        with_check("24010519900307123"),  # province 24
        with_check("38010519900307123"),  # province 38
        with_check("47010519900307123"),  # province 47
        with_check("60010519900307123"),  # province 60
        with_check("99010519900307123"),  # province 99
        "1101051990X307123" + "4",  # X inside
        "11010519900307123Y",  # not a check character
        "１１０１０５１９９００３０７１２３" + VALID[-1],  # full-width digits
        VALID[:6] + " " + VALID[6:],  # a space inside
        VALID[:6] + "-" + VALID[6:],
        "",
    ],
)
def test_invalid_id_numbers(raw: str) -> None:
    with pytest.raises(InvalidIdNumberError):
        parse_id_number(raw, today=TODAY)


def test_born_today_is_valid_format() -> None:
    assert parse_id_number(with_check("110105" + "20260302" + "123"), today=TODAY)


@pytest.mark.parametrize(
    ("raw", "stored", "masked"),
    [
        ("张三", "张三", "*三"),
        ("张小三", "张小三", "张*三"),
        (" 欧阳娜娜 ", "欧阳娜娜", "欧**娜"),
        ("阿依古丽·买买提", "阿依古丽·买买提", "阿***·**提"),
        ("阿依古丽・买买提", "阿依古丽·买买提", "阿***·**提"),  # katakana dot folded
        ("John Smith", "John Smith", "J*** S****"),
        ("Ｊｏｈｎ", "John", "J***"),  # full-width folded
    ],
)
def test_names(raw: str, stored: str, masked: str) -> None:
    assert normalize_real_name(raw) == stored
    assert mask_real_name(stored) == masked


@pytest.mark.parametrize(
    "raw",
    ["张", "A", "张 三", "John  Smith", "张三John", "·张三", "张三·", "张··三", "王2", "x" * 31],
)
def test_invalid_names(raw: str) -> None:
    with pytest.raises(InvalidRealNameError):
        normalize_real_name(raw)


async def test_recompute_tier() -> None:
    user = User(identity_verified_at=None, tier=1)
    assert await recompute_tier(user, has_bound_card=True) == 1
    user.identity_verified_at = START
    assert await recompute_tier(user, has_bound_card=False) == 2
    assert await recompute_tier(user, has_bound_card=True) == 3


async def test_verification_raises_the_tier_and_keeps_the_number_secret(harness: Harness) -> None:
    user = await harness.user()
    response = await harness.client.post(
        URL, json={"real_name": "张小三", "id_number": VALID}, headers=harness.auth(user)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["real_name_masked"] == "张*三"
    assert body["id_number_masked"] == VALID[:3] + "*" * 11 + VALID[-4:]
    assert body["tier"] == 2
    row = await harness.row(user)
    assert (row.tier, row.identity_verified_at) == (2, harness.clock.now())
    cipher = harness.security.cipher
    assert cipher.decrypt(row.id_number_encrypted, context=f"id_number:{user.id}") == VALID
    assert cipher.decrypt(row.real_name_encrypted, context=f"real_name:{user.id}") == "张小三"
    assert VALID not in str(dict(row._mapping))
    assert await harness.kinds(user) == ["identity_verified"]
    assert await harness.actions() == ["identity.verified"]
    # A second attempt changes nothing.
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json={"real_name": "张小三", "id_number": VALID}, headers=harness.auth(user)
    )
    assert_problem(response, 409, "identity_already_verified")
    assert await harness.snapshot(user) == before


async def test_one_id_number_one_account(harness: Harness) -> None:
    first = await harness.user(phone="+8613900000001")
    second = await harness.user(phone="+8613900000002")
    x_number = "11010519491231002X"
    response = await harness.client.post(
        URL, json={"real_name": "张三", "id_number": x_number}, headers=harness.auth(first)
    )
    assert response.status_code == 200
    before = await harness.snapshot(second)
    response = await harness.client.post(
        URL,
        json={"real_name": "张三", "id_number": x_number.lower()},
        headers=harness.auth(second),
    )
    assert_problem(response, 409, "id_number_in_use")
    assert await harness.snapshot(second) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"real_name": "张三", "id_number": _bad_checksum()}, "invalid_id_number"),
        ({"real_name": "张三", "id_number": "110105491231002"}, "invalid_id_number"),
        ({"real_name": "张 三", "id_number": VALID}, "invalid_real_name"),
        # 2026-03-02 in China: born 2010-03-03 is one day short of 16.
        ({"real_name": "张三", "id_number": with_check("11010520100303123")}, "age_not_eligible"),
        ({"real_name": "张三"}, "validation_error"),
    ],
)
async def test_refusals_change_nothing(harness: Harness, body: dict[str, str], code: str) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.post(URL, json=body, headers=harness.auth(user))
    assert_problem(response, 422, code)
    assert await harness.snapshot(user) == before


async def test_sixteen_today_is_old_enough(harness: Harness) -> None:
    user = await harness.user()
    number = with_check("11010520100302123")  # 16 today, China time (09:00 on 2 March)
    response = await harness.client.post(
        URL, json={"real_name": "张三", "id_number": number}, headers=harness.auth(user)
    )
    assert response.status_code == 200, response.text
