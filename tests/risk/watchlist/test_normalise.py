"""Normalisation: full-width, traditional, pinyin, Latin, middle dots, spaces, surnames."""

from __future__ import annotations

import pytest

from ewallet.risk.watchlist.normalise import (
    MAX_KEYS,
    blocking_keys,
    compact,
    initials,
    normalise_name,
)


@pytest.mark.parametrize(
    "raw",
    [
        "张三",
        "張三",
        "ZHANG San",
        "Zhang  san",
        "ＺＨＡＮＧ　Ｓａｎ",
        " zhang-san ",
        "Zhang, San",
        "zhang\tsan",
    ],
)
def test_every_writing_of_zhang_san_meets(raw: str) -> None:
    assert normalise_name(raw).key == "zhang san"


def test_traditional_and_simplified_have_one_han_form() -> None:
    assert normalise_name("歐陽鋒").han == normalise_name("欧阳锋").han == "欧阳锋"
    assert normalise_name("歐陽鋒").key == "ou yang feng"


def test_latin_names_have_no_han_form() -> None:
    assert normalise_name("Zhang San").han is None


def test_middle_dots_of_transliterated_names_are_dropped() -> None:
    expected = normalise_name("阿卜杜拉买买提")
    for raw in ("阿卜杜拉·买买提", "阿卜杜拉・买买提", "阿卜杜拉•买买提", "阿卜杜拉 · 買買提"):
        assert normalise_name(raw) == expected
    assert expected.han == "阿卜杜拉买买提"
    assert expected.key == "a bo du la mai mai ti"


def test_accents_and_u_umlaut_spellings_are_unified() -> None:
    assert normalise_name("Müller Hans").key == "muller hans"
    assert normalise_name("吕布").key == normalise_name("Lyu Bu").key == "lu bu"
    assert normalise_name("Lv Bu").key == normalise_name("LÜ BU").key == "lu bu"


def test_polyphonic_surnames_add_their_surname_reading() -> None:
    shan = normalise_name("单雄信")
    assert shan.keys[0] == "dan xiong xin"  # the in-context reading comes first
    assert "shan xiong xin" in shan.keys
    assert "zeng guo fan" in normalise_name("曾国藩").keys
    assert "qiu ying" in normalise_name("仇英").keys
    # A Latin spelling of the surname reading meets the Han name.
    assert compact("shan xiong xin") in {compact(k) for k in shan.keys}


def test_only_listed_surnames_expand_and_never_past_the_cap() -> None:
    assert normalise_name("方文山").keys == ("fang wen shan",)  # no archaic 方 readings
    for raw in ("单雄信", "覃海", "乐毅", "长孙无忌"):
        assert 1 <= len(normalise_name(raw).keys) <= MAX_KEYS


def test_mixed_script_names_keep_both_parts_in_order() -> None:
    assert normalise_name("李小龙 Bruce Lee").key == "li xiao long bruce lee"


@pytest.mark.parametrize("raw", ["", "   ", "·", "-- ,,", "　"])
def test_names_without_letters_have_no_key(raw: str) -> None:
    assert normalise_name(raw).keys == ()
    assert blocking_keys(normalise_name(raw).keys) == frozenset()


def test_helpers() -> None:
    assert compact("zhang san") == "zhangsan"
    assert initials("zhang san feng") == "zsf"
    assert blocking_keys(("zhang san",)) == {"t:zhang", "t:san", "p:zha"}
