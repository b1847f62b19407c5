"""Facts a hot request path reads on every call and that never change, kept per process.

Some rows are written once and never updated in the columns a request needs: a merchant
API key's id, its merchant and the digest that proves it (a rotation makes a *new* key;
revoking one sets ``revoked_at``, which is not cached). Reading them on every cashier scan
costs a transaction; :class:`FactCache` keeps them in the process instead, by a namespace
and a key. Anything that can change -- a key's revocation, a merchant's status -- is not
a fact and is still read where it is decided, inside the unit of work that acts on it.

The cache is bounded (:data:`MAX_ENTRIES`): when full it is emptied and fills again from
the next reads, which keeps it simple and its memory flat whatever callers send.
"""

from __future__ import annotations

from typing import Any, Final

MAX_ENTRIES: Final = 10_000


class FactCache:
    """Immutable facts by (namespace, key), at most ``max_entries`` of them."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: dict[tuple[str, str], Any] = {}

    def get(self, namespace: str, key: str) -> Any | None:
        return self._entries.get((namespace, key))

    def put(self, namespace: str, key: str, value: Any) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[(namespace, key)] = value
