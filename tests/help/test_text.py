"""Tokens of help search: the wallet dictionary, stemming, synonyms, typo correction."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Final

import pytest

from ewallet.help import text
from ewallet.help.articles import DEFAULT_DIR, read_dir
from ewallet.help.index import Document, SearchIndex
from ewallet.help.lexicon import PINYIN_PHRASES, ZH_STOPWORDS
from ewallet.kit import pinyin


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


def test_pinyin_keys_read_polyphonic_wallet_words_as_words() -> None:
    assert "^yinhangka" in text.pinyin_keys("解绑银行卡")
    assert {"^chongzhi", "^cz", "^czzfmm"} <= set(text.pinyin_keys("重置支付密码"))
    assert "^meishoudao" in text.pinyin_keys("验证码没收到")


def test_every_lexicon_phrase_reads_unlike_its_characters() -> None:
    """An entry its characters already read the same way is noise: keep the table short."""
    for word, reading in PINYIN_PHRASES.items():
        assert pinyin.syllables(word) == reading.split(), word
        assert pinyin.character_syllables(word) != reading.split(), word


# Where pypinyin's big dictionary reads a title or tag word wrongly: 没收到 is 没 mei
# (not received), not 没收 mo shou (confiscate) + 到; 重置 (reset) is chong, not zhong.
DICTIONARY_MISREADS: Final = {"没收到": "mo shou dao", "重置": "zhong zhi"}
_FULL_DICTIONARY = """
import json, sys
from pypinyin import lazy_pinyin
words = json.load(sys.stdin)
print(json.dumps({word: " ".join(lazy_pinyin(word)) for word in words}))
"""


def test_packaged_titles_and_tags_read_as_with_the_full_dictionary() -> None:
    """Without pypinyin's 400,000 phrases (ewallet.kit.pinyin), every word of the packaged
    articles' titles and tags still gets the reading the full dictionary gives it (run in a
    child process that loads it), except where the dictionary is wrong. An article with a
    new polyphonic word fails here until ``lexicon.PINYIN_PHRASES`` has it."""
    pieces: set[str] = set()
    for article in read_dir(DEFAULT_DIR):
        for translation in article.translations.values():
            for field_text in (translation.title, *translation.tags):
                for run in re.findall(r"[\u3400-\u9fff]+", text.normalize(field_text)):
                    pieces.update(
                        piece
                        for piece in text.tokenizer().cut(run)
                        if piece.strip() and piece not in ZH_STOPWORDS
                    )
    assert len(pieces) > 200
    env = {key: value for key, value in os.environ.items() if key != "PYPINYIN_NO_PHRASES"}
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DICTIONARY],
        input=json.dumps(sorted(pieces)),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    full: dict[str, str] = json.loads(done.stdout)
    ours = {piece: " ".join(pinyin.syllables(piece)) for piece in pieces}
    differing = {piece: full[piece] for piece in pieces if ours[piece] != full[piece]}
    assert differing == DICTIONARY_MISREADS


def test_jieba_loads_its_dictionary_without_pkg_resources() -> None:
    """pkg_resources costs a worker 5.6 MB; jieba reads its files with open() instead."""
    script = (
        "import sys\n"
        "from ewallet.help import text\n"
        "print(text.words('卡怎么解绑'), 'pkg_resources' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["['卡',", "'解绑']", "False"]
