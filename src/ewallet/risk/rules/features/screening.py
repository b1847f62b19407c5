"""The watch-list features of a transfer: ``payee_on_watchlist`` and ``payer_on_watchlist``.

The decision's one feature statement reads the list's version and each party's verified
identity (:func:`ewallet.risk.rules.features.repository.watchlist_parties`); here the names
are decrypted and matched against the list each process holds in memory
(:func:`ewallet.risk.watchlist.service.screen_identity`). Nothing is written: the matches
travel with the decision and are recorded with it (:func:`ewallet.risk.rules.engine.record`),
so they survive the transfer's rollback when a ``review`` or a ``block`` stores the
decision in a unit of its own. Only transfers are screened: their counterparty is a person
with a real name, and a hit's context is ``transfer`` (docs/risk-watchlist.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.risk.watchlist.repository import VerifiedIdentityRow
from ewallet.risk.watchlist.service import PendingScreening, screen_identity
from ewallet.security.crypto import FieldCipher

SCREENED_EVENT: Final = "transfer"
_CHINA: Final = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class WatchlistKeys:
    """What matching needs from the settings: the cipher the real names are sealed with and
    the least fuzzy score that counts (``EWALLET_WATCHLIST_MATCH_THRESHOLD``)."""

    cipher: FieldCipher = field(repr=False)
    threshold: int = 90


def parties(event: str, counterparty: str | None, needed: Collection[str]) -> tuple[str, ...]:
    """The parties of the movement a rule wants screened: ``payee`` (a transfer with a
    counterparty), ``payer``; none on any other event."""
    if event != SCREENED_EVENT:
        return ()
    found: list[str] = []
    if "payee_on_watchlist" in needed and counterparty is not None:
        found.append("payee")
    if "payer_on_watchlist" in needed:
        found.append("payer")
    return tuple(found)


def _identity(row: Mapping[str, Any], party: str) -> VerifiedIdentityRow | None:
    prefix = f"watchlist_{party}_"
    name = row.get(f"{prefix}real_name_encrypted")
    if name is None:
        return None  # no verified real name: nothing to screen
    return VerifiedIdentityRow(
        name, row.get(f"{prefix}id_number_encrypted"), row.get(f"{prefix}id_number_digest")
    )


async def screen(
    conn: AsyncConnection,
    *,
    user_id: str,
    counterparty: str | None,
    row: Mapping[str, Any],
    screened: tuple[str, ...],
    keys: WatchlistKeys,
    now: datetime,
) -> tuple[PendingScreening, ...]:
    """Each ``screened`` party matched (a party without a verified real name: no match)."""
    version = int(row.get("watchlist_version") or 0)
    found: list[PendingScreening] = []
    for party in screened:
        party_id = counterparty if party == "payee" else user_id
        identity = _identity(row, party)
        if party_id is None or identity is None:
            found.append(PendingScreening(party, party_id or "", (), ""))
            continue
        found.append(
            await screen_identity(
                conn,
                party=party,
                user_id=party_id,
                identity=identity,
                version=version,
                cipher=keys.cipher,
                threshold=keys.threshold,
                today=now.astimezone(_CHINA).date(),
            )
        )
    return tuple(found)
