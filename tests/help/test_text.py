"""Tokens of help search: the wallet dictionary, stemming, synonyms, typo correction."""

from __future__ import annotations

import pytest

from ewallet.help import text
from ewallet.help.index import Document, SearchIndex


def test_wallet_words_stay_whole_and_question_words_go() -> None:
    assert text.words("支付密码忘了怎么办") == ["支付", "密码", "支付密码", "忘"]
    assert "解绑" in text.words("卡怎么解绑")
    assert "怎么" not in text.words("卡怎么解绑")


def test_bigrams_are_the_fallback_for_chinese() -> None:
    assert text.bigrams("解绑银行卡") == ["~解绑", "~绑银", "~银行", "~行卡"]
    assert text.bigrams("unbind card") == []


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("charges", "charg"),
        ("charged", "charg"),
        ("charging", "charg"),
        ("stopped", "stop"),
        ("called", "call"),
        ("policies", "policy"),
        ("fee", "fee"),
        ("pin", "pin"),
    ],
)
def test_stemming(word: str, stem: str) -> None:
    assert text.stem(word) == stem


def test_phrases_become_single_words() -> None:
    assert text.words("How do I top-up with WeChat Pay?") == ["topup", "wechat"]
    assert text.words("reset my payment password") == ["reset", "paypin"]


def test_synonyms_cover_both_languages() -> None:
    assert {"找回", "重置"} <= text.synonyms("忘记")
    assert text.stem("remove") in text.synonyms("unbind")


@pytest.mark.parametrize(
    ("a", "b", "limit", "within"),
    [
        ("withdrawl", "withdrawal", 1, True),  # a letter left out
        ("recieve", "receive", 1, True),  # two letters swapped
        ("pasword", "password", 1, True),
        ("fee", "fees", 1, True),
        ("card", "code", 1, False),
        ("unfreze", "unfreeze", 1, True),
        ("withdrwl", "withdrawal", 1, False),
        ("withdrwl", "withdrawal", 2, True),
    ],
)
def test_edit_distance(a: str, b: str, limit: int, within: bool) -> None:
    assert text.within_edits(a, b, limit) is within


def test_only_long_enough_words_are_corrected() -> None:
    assert text.corrections("withdrawl", ["withdrawal", "fee"]) == ["withdrawal"]
    assert text.corrections("fe", ["fee"]) == []  # too short to guess


def test_ranking_prefers_the_title_and_tolerates_typos() -> None:
    index = SearchIndex(
        [
            Document("fees", "en", "Withdrawal fees", "What a withdrawal costs.", ("fee",)),
            Document("cards", "en", "Unlinking a card", "Remove a card you no longer use.", ()),
            Document("pin", "zh-CN", "忘记支付密码", "通过短信验证码重置支付密码。", ("找回",)),
        ]
    )
    assert [hit.article_id for hit in index.search("withdrawl fee")][:1] == ["fees"]
    assert [hit.article_id for hit in index.search("delete my card")][:1] == ["cards"]
    assert [hit.article_id for hit in index.search("支付密码想不起来了")][:1] == ["pin"]
    assert index.search("的了吗") == []
    assert index.search("") == []
