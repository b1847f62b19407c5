"""Ids are unique, prefixed, of fixed length, Crockford base32, and sort by creation time."""

from __future__ import annotations

import re
import time

from ewallet.kit.ids import new_id

ID_RE = re.compile(r"txn_[0-9a-hjkmnp-tv-z]{26}")


def test_shape_and_uniqueness() -> None:
    ids = [new_id("txn") for _ in range(10_000)]
    assert all(ID_RE.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_later_ids_sort_after_earlier_ones() -> None:
    earlier = [new_id("txn") for _ in range(50)]
    time.sleep(0.002)
    later = [new_id("txn") for _ in range(50)]
    assert max(earlier) < min(later)


def test_time_prefix_is_the_millisecond_clock() -> None:
    before = time.time_ns() // 1_000_000
    prefix = new_id("x")[2:12]
    after = time.time_ns() // 1_000_000
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    # The first 10 chars hold 2 zero bits and the 48-bit millisecond count.
    value = 0
    for char in prefix:
        value = value * 32 + alphabet.index(char)
    assert before <= value <= after
