"""Opaque, sortable string ids: a prefix, then 26 chars of time and randomness (ULID style).

48 bits of milliseconds and 80 random bits, in Crockford's base32 (lower case), so ids
made later sort after earlier ones to the millisecond, and guessing one is hopeless.
"""

from __future__ import annotations

import base64
import os
import time

_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# RFC 4648's alphabet does not sort like the values it encodes; Crockford's does.
_TO_CROCKFORD = str.maketrans(_RFC4648, _CROCKFORD)


def new_id(prefix: str) -> str:
    """``prefix_`` + 26 chars; ids made later sort after earlier ones (to the millisecond)."""
    millis = time.time_ns() // 1_000_000
    # 26 base32 chars carry 130 bits: 2 zero bits, then the 128 bits of time and randomness;
    # shifting by 6 in a 136-bit (17-byte) field puts exactly those bits in the first 26 chars.
    raw = millis.to_bytes(6, "big") + os.urandom(10)
    value = int.from_bytes(raw, "big") << 6
    encoded = base64.b32encode(value.to_bytes(17, "big")).decode("ascii")
    return f"{prefix}_{encoded.translate(_TO_CROCKFORD)[:26]}"
