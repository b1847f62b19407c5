"""Matching: exact forms score 100, fuzzy scores at the threshold's boundary, narrowing."""

from __future__ import annotations

from datetime import date

import pytest

from ewallet.models.risk_watchlist import MatchBasis
from ewallet.risk.watchlist.matcher import (
    MAX_MATCHES,
    Candidate,
    IndexedEntry,
    Screened,
    WatchlistIndex,
)
from ewallet.risk.watchlist.normalise import normalise_name

BORN = date(1971, 5, 4)


def entry(
    name: str,
    *,
    entry_id: str = "wle_1",
    born: date | None = None,
    digest: str | None = None,
    list_name: str = "sanctions",
) -> IndexedEntry:
    forms = normalise_name(name)
    return IndexedEntry(entry_id, list_name, name, forms.han, forms.keys, born, digest)


def screen(
    index: WatchlistIndex,
    name: str,
    *,
    threshold: int = 90,
    born: date | None = None,
    digest: str | None = None,
) -> list[Candidate]:
    return index.match(Screened(normalise_name(name), born, digest), threshold=threshold)


@pytest.mark.parametrize("query", ["張三", "张三", "ZHANG San", "Zhang  san", "zhangsan"])
def test_exact_normalised_forms_score_100(query: str) -> None:
    index = WatchlistIndex([entry("张三")])
    [found] = screen(index, query)
    assert found.score == 100
    assert found.basis in {MatchBasis.HAN, MatchBasis.PINYIN}


def test_han_basis_wins_over_pinyin_for_the_same_characters() -> None:
    [found] = screen(WatchlistIndex([entry("張三")]), "张三")
    assert (found.score, found.basis) == (100, MatchBasis.HAN)


def test_word_order_does_not_matter() -> None:
    [found] = screen(WatchlistIndex([entry("Zhang San Feng")]), "San Feng Zhang")
    assert found.score == 100
    assert found.basis is MatchBasis.FUZZY


def test_score_exactly_at_the_threshold_matches() -> None:
    index = WatchlistIndex([entry("Mikhail Gorbunov")])
    [found] = screen(index, "Mikhail Gobunox", threshold=90)
    assert (found.score, found.basis) == (90, MatchBasis.FUZZY)
    assert screen(index, "Mikhail Gobunox", threshold=91) == []


def test_score_one_below_the_threshold_does_not() -> None:
    index = WatchlistIndex([entry("Mikhail Gorbunov")])
    assert screen(index, "Mikhxil Gobunov", threshold=90) == []
    [found] = screen(index, "Mikhxil Gobunov", threshold=89)
    assert found.score == 89


def test_a_different_given_name_is_no_match() -> None:
    assert screen(WatchlistIndex([entry("张三")]), "张四") == []  # zhang si: 82


def test_a_different_date_of_birth_is_not_a_match() -> None:
    index = WatchlistIndex([entry("张三", born=BORN)])
    assert screen(index, "张三", born=date(1971, 5, 5)) == []
    assert [c.score for c in screen(index, "张三", born=BORN)] == [100]
    # Unknown on either side: the name decides.
    assert [c.score for c in screen(index, "张三")] == [100]
    assert [c.score for c in screen(WatchlistIndex([entry("张三")]), "张三", born=BORN)] == [100]


def test_id_numbers_narrow_and_match_on_their_own() -> None:
    index = WatchlistIndex([entry("张三", digest="d-1")])
    assert screen(index, "张三", digest="d-2") == []  # another person of that name
    [same] = screen(index, "李四", digest="d-1")  # the listed person under another name
    assert (same.score, same.basis) == (100, MatchBasis.ID_NUMBER)


def test_matches_come_best_first_and_capped() -> None:
    entries = [entry("Zhang San", entry_id=f"wle_{n:03d}") for n in range(MAX_MATCHES + 5)]
    entries.append(entry("Zhang Shan", entry_id="wle_x"))
    found = screen(WatchlistIndex(entries), "Zhang San")
    assert len(found) == MAX_MATCHES
    assert all(c.score == 100 for c in found)
    best = screen(
        WatchlistIndex([entry("Zhang Shan", entry_id="a"), entry("Zhang San", entry_id="b")]),
        "Zhang San",
    )
    assert [c.entry.id for c in best] == ["b", "a"]
    assert best[1].score == 94


def test_a_compact_latin_spelling_is_scored_on_the_compact_key() -> None:
    [found] = screen(WatchlistIndex([entry("Zhang Xiaoming")]), "zhangxiaomin")
    assert found.score >= 90


def test_an_empty_index_matches_nothing() -> None:
    assert screen(WatchlistIndex([]), "张三") == []
    assert len(WatchlistIndex([])) == 0
