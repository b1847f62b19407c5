"""The log masker: ID numbers ending in X, and numbers typed in full-width digits."""

from __future__ import annotations

import pytest

from ewallet.kit.logging import mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        # Resident ID numbers: the check character may be X, in either case.
        ("11010119900307123X", "110101********123X"),
        ("id 11010119900307123x ok", "id 110101********123x ok"),
        ("身份证号11010119900307123X已核验", "身份证号110101********123X已核验"),
        ("110101199003071234", "110101********1234"),
        # Full-width digits, as Chinese input methods type them.
        ("１３８１２３４５６７８", "１３８****５６７８"),
        ("手机１３８１２３４５６７８已注册", "手机１３８****５６７８已注册"),
        ("＋８６ １３８ １２３４ ５６７８", "＋８６ １３８****５６７８"),
        ("１１０１０１１９９００３０７１２３Ｘ", "１１０１０１********１２３Ｘ"),
        ("６２２２０２１２３４５６７８９０", "６２２２０２******７８９０"),
        ("６２２２－０２１２－３４５６－７８９０", "６２２２０２******７８９０"),
        # Mixed widths are still one number.
        ("138１２３４5678", "138****5678"),
    ],
)
def test_mask_text_catches_them(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "untouched",
    [
        "11010119900307123XY",  # letters after: part of something else
        "A11010119900307123X",
        "１３８１２３４５６７",  # 10 full-width digits
        "ｔｒ１３８１２３４５６７８",  # part of an id, in full width
        "ref 1234567890123456X",  # 16 digits + X: too short for an ID number
    ],
)
def test_mask_text_leaves_other_text_alone(untouched: str) -> None:
    assert mask_text(untouched) == untouched
