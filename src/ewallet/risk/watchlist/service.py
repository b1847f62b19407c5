"""Watch-list use cases: load a list, screen a name, and the staff's review of the hits.

Screening (:func:`screen`) runs inside the caller's unit of work: real-name verification
(:func:`screen_real_name`, registered by the app as a real-name screen) and
:func:`screen_payee`. The list itself is held in memory, one
:class:`~ewallet.risk.watchlist.matcher.WatchlistIndex` per process and database, built on
first use and rebuilt when the list's version (the last load's) has moved: each screening
reads that version with one indexed query in the caller's transaction, and the only other
SQL is the insert of a ``watchlist_hits`` row per match -- rolled back with the caller's
unit. Results are memoised per version (a payee screened again costs a lookup).

The risk decision on a transfer screens its parties in two steps instead
(:func:`screen_identity`, then :func:`record_screening`): the engine reads the list's
version and the parties' verified identities within its one feature statement, matches in
memory while the payer's row is locked, and writes the hits with the decision -- in the
transfer's unit, or in the decision's own unit when the transfer is refused or held back
and its unit rolled back -- so a screening that stops a transfer is never lost with it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import Pool

from ewallet.audit.service import Actor, record_event
from ewallet.identity.realname.rules import CHINA_TIME, id_number_digest, parse_id_number
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.models.risk_watchlist import HitContext, HitState, LoadMode
from ewallet.risk.alerts import raise_alert
from ewallet.risk.watchlist import repository
from ewallet.risk.watchlist.errors import WatchlistHitDecidedError, WatchlistHitNotFoundError
from ewallet.risk.watchlist.loader import check_list_name, read_csv
from ewallet.risk.watchlist.matcher import Candidate, Screened, WatchlistIndex
from ewallet.risk.watchlist.normalise import NormalisedName, normalise_name
from ewallet.risk.watchlist.repository import VerifiedIdentityRow
from ewallet.risk.watchlist.views import (
    EntryRow,
    LoadReport,
    WatchlistHitView,
    WatchlistLoadView,
    WatchlistMatch,
)
from ewallet.security.crypto import FieldCipher, KeyedDigest
from ewallet.services import Services

ALERT_KIND: Final = "watchlist_match"
MEMO_SIZE: Final = 10_000
MAX_NOTE: Final = 500
MAX_SCREENED_NAME: Final = 200


@dataclass(slots=True)
class _Held:
    """One process's copy of the list for one database: the index and its version."""

    version: int
    index: WatchlistIndex
    memo: OrderedDict[tuple[Any, ...], tuple[Candidate, ...]] = field(default_factory=OrderedDict)

    def match(self, screened: Screened, threshold: int) -> tuple[Candidate, ...]:
        key = (screened.name, screened.date_of_birth, screened.id_number_digest, threshold)
        found = self.memo.get(key)
        if found is not None:
            self.memo.move_to_end(key)
            return found
        found = tuple(self.index.match(screened, threshold=threshold))
        self.memo[key] = found
        if len(self.memo) > MEMO_SIZE:
            self.memo.popitem(last=False)
        return found


# Per database, keyed by the engine's pool: engines are made per process, tests make many,
# and a connection's engine (with its own execution options) is a new object each time
# while its pool is always the one.
_held: WeakKeyDictionary[Pool, _Held] = WeakKeyDictionary()
_building: WeakKeyDictionary[Pool, asyncio.Lock] = WeakKeyDictionary()


async def _current(uow: UnitOfWork) -> _Held:
    """The list as of the version the caller's transaction sees (rebuilt if it moved)."""
    conn = await uow.connection()
    return await _index_at(conn, await repository.current_version(conn))


async def _index_at(conn: AsyncConnection, version: int) -> _Held:
    """The list at ``version`` (read on ``conn`` when this process holds another one)."""
    owner = conn.engine.pool
    held = _held.get(owner)
    if held is not None and held.version == version:
        return held
    lock = _building.setdefault(owner, asyncio.Lock())
    async with lock:
        held = _held.get(owner)
        if held is not None and held.version == version:
            return held
        entries = await repository.all_entries(conn)
        # A big list takes a second or so to index: off the event loop's thread.
        index = await asyncio.to_thread(WatchlistIndex, entries)
        held = _held[owner] = _Held(version, index)
        return held


def mask_name(name: str) -> str:
    """张*三, *三, A**** B***: the first and last characters of a Chinese name, the initials
    of each Latin word; the length stays visible."""
    words = name.split()
    if len(words) > 1 or (words and words[0].isascii()):
        return " ".join(word[0] + "*" * (len(word) - 1) for word in words)
    if len(name) <= 2:
        return "*" + name[1:] if len(name) == 2 else "*"
    return name[0] + "".join("·" if ch == "·" else "*" for ch in name[1:-1]) + name[-1]


def _match_view(candidate: Candidate, hit_id: str | None) -> WatchlistMatch:
    entry = candidate.entry
    return WatchlistMatch(
        entry.id, entry.list_name, entry.name, candidate.score, candidate.basis.value, hit_id
    )


async def screen(
    uow: UnitOfWork,
    services: Services,
    *,
    name: str,
    date_of_birth: date | None,
    subject_type: str,
    subject_id: str,
    context: str,
    id_number_digest: str | None = None,
) -> list[WatchlistMatch]:
    """Screen ``name`` against the watch list inside the caller's ``uow``: the matches,
    best first, each recorded as an open ``watchlist_hits`` row of ``subject_type`` /
    ``subject_id`` in ``context`` (``realname`` or ``transfer``) -- rolled back with the
    caller's unit. ``date_of_birth`` and ``id_number_digest`` (the keyed digest of
    :func:`ewallet.identity.realname.rules.id_number_digest`) narrow the matches when the
    entry has them too. No match: nothing is written."""
    hit_context = HitContext(context)
    screened = Screened(normalise_name(name), date_of_birth, id_number_digest)
    if not screened.name.keys:
        return []
    held = await _current(uow)
    found = held.match(screened, services.settings.watchlist_match_threshold)
    if not found:
        return []
    cipher = services.security.cipher
    hits = []
    for candidate in found:
        hit_id = new_id("wlh")
        encrypted = cipher.encrypt(name, context=f"watchlist_hit:{hit_id}")
        hits.append(
            repository.NewHit(
                hit_id, candidate.entry, candidate.score, candidate.basis.value, encrypted
            )
        )
    await repository.insert_hits(
        await uow.connection(),
        hits,
        subject_type=subject_type,
        subject_id=subject_id,
        context=hit_context.value,
        screened_name_masked=mask_name(name)[:MAX_SCREENED_NAME],
        now=services.clock.now(),
    )
    return [_match_view(candidate, hit.id) for candidate, hit in zip(found, hits, strict=True)]


async def screen_real_name(
    uow: UnitOfWork,
    services: Services,
    *,
    user_id: str,
    real_name: str,
    birth_date: date,
    id_number_digest: str,
) -> None:
    """The real-name screen (:mod:`ewallet.identity.realname.screening`): a match records
    its hits and raises a ``watchlist_match`` risk alert on the user, in the verification's
    unit; the verification itself goes on either way (the review decides)."""
    matches = await screen(
        uow,
        services,
        name=real_name,
        date_of_birth=birth_date,
        subject_type="user",
        subject_id=user_id,
        context=HitContext.REALNAME.value,
        id_number_digest=id_number_digest,
    )
    if matches:
        await raise_alert(
            uow,
            clock=services.clock,
            kind=ALERT_KIND,
            subject_type="user",
            subject_id=user_id,
            details={
                "context": HitContext.REALNAME.value,
                "hit_ids": [match.hit_id for match in matches],
                "lists": sorted({match.list_name for match in matches}),
                "best_score": matches[0].score,
            },
        )


async def screen_payee(
    uow: UnitOfWork, services: Services, *, payee_user_id: str, reference: str
) -> list[WatchlistMatch]:
    """For the risk decision on a transfer: screen the payee's verified real name (with
    the birth date and the digest of their ID number) in the caller's unit, recording hits
    on ``transfer`` ``reference``. A payee who has not verified a real name has nothing to
    screen: no match. What a match means for the transfer is the caller's decision."""
    identity = await repository.verified_identity(await uow.connection(), payee_user_id)
    if identity is None:
        return []
    cipher = services.security.cipher
    name = cipher.decrypt(identity.real_name_encrypted, context=f"real_name:{payee_user_id}")
    born: date | None = None
    if identity.id_number_encrypted is not None:
        number = cipher.decrypt(identity.id_number_encrypted, context=f"id_number:{payee_user_id}")
        today = services.clock.now().astimezone(CHINA_TIME).date()
        born = parse_id_number(number, today=today).birth_date
    return await screen(
        uow,
        services,
        name=name,
        date_of_birth=born,
        subject_type="transfer",
        subject_id=reference,
        context=HitContext.TRANSFER.value,
        id_number_digest=identity.id_number_digest,
    )


@lru_cache(maxsize=MEMO_SIZE)
def _normalised(name: str) -> NormalisedName:
    """A name's comparable forms, memoised: a payee paid again is not re-transliterated."""
    return normalise_name(name)


@dataclass(frozen=True, slots=True)
class PendingScreening:
    """One party of a movement screened inside a risk decision: the hits to write with the
    decision (:func:`record_screening`); none when the name matched nothing."""

    party: str  # "payee" or "payer"
    user_id: str
    hits: tuple[repository.NewHit, ...]
    screened_name_masked: str

    @property
    def matched(self) -> bool:
        return bool(self.hits)


async def screen_identity(
    conn: AsyncConnection,
    *,
    party: str,
    user_id: str,
    identity: VerifiedIdentityRow,
    version: int,
    cipher: FieldCipher,
    threshold: int,
    today: date,
) -> PendingScreening:
    """Match ``user_id``'s verified ``identity`` (as read by the caller, with the list's
    ``version``) against the list held in memory; nothing is written. The only SQL is the
    list's re-read when this process holds an older version than ``version``, on ``conn``
    -- the database, never a call out of the process (a risk decision runs under the
    payer's row lock)."""
    name = cipher.decrypt(identity.real_name_encrypted, context=f"real_name:{user_id}")
    born: date | None = None
    if identity.id_number_encrypted is not None:
        number = cipher.decrypt(identity.id_number_encrypted, context=f"id_number:{user_id}")
        born = parse_id_number(number, today=today).birth_date
    masked = mask_name(name)[:MAX_SCREENED_NAME]
    screened = Screened(_normalised(name), born, identity.id_number_digest)
    if not screened.name.keys or version == 0:
        return PendingScreening(party, user_id, (), masked)
    found = (await _index_at(conn, version)).match(screened, threshold)
    hits = []
    for candidate in found:
        hit_id = new_id("wlh")
        encrypted = cipher.encrypt(name, context=f"watchlist_hit:{hit_id}")
        hits.append(
            repository.NewHit(
                hit_id, candidate.entry, candidate.score, candidate.basis.value, encrypted
            )
        )
    return PendingScreening(party, user_id, tuple(hits), masked)


async def record_screening(
    uow: UnitOfWork, screening: PendingScreening, *, reference: str, clock: Clock
) -> list[str]:
    """Write a decision's screening in ``uow``: an open ``transfer`` hit per match on the
    movement ``reference``, and the ``watchlist_match`` risk alert on the listed party (as
    real-name verification raises it; details: the hit ids, the lists, the best score, the
    party and the reference -- no names). The hits' ids; nothing for no match."""
    if not screening.matched:
        return []
    await repository.insert_hits(
        await uow.connection(),
        screening.hits,
        subject_type="transfer",
        subject_id=reference,
        context=HitContext.TRANSFER.value,
        screened_name_masked=screening.screened_name_masked,
        now=clock.now(),
    )
    hit_ids = [hit.id for hit in screening.hits]
    await raise_alert(
        uow,
        clock=clock,
        kind=ALERT_KIND,
        subject_type="user",
        subject_id=screening.user_id,
        details={
            "context": HitContext.TRANSFER.value,
            "party": screening.party,
            "reference": reference,
            "hit_ids": hit_ids,
            "lists": sorted({hit.entry.list_name for hit in screening.hits}),
            "best_score": max(hit.score for hit in screening.hits),
        },
    )
    return hit_ids


async def try_name(
    services: Services, *, name: str, date_of_birth: date | None = None
) -> list[WatchlistMatch]:
    """``ewallet watchlist screen``: what ``name`` would match, recording nothing."""
    if not name.strip() or len(name) > MAX_SCREENED_NAME:
        raise ValidationFailedError(f"a name has 1 to {MAX_SCREENED_NAME} characters")
    screened = Screened(normalise_name(name), date_of_birth)

    async def work(uow: UnitOfWork) -> list[WatchlistMatch]:
        held = await _current(uow)
        found = held.match(screened, services.settings.watchlist_match_threshold)
        return [_match_view(candidate, None) for candidate in found]

    return await run_unit(services.engine, work, read_only=True)


def _entry_values(
    row: EntryRow, *, list_name: str, batch_id: str, digest: KeyedDigest, now: datetime
) -> dict[str, Any]:
    normalised = normalise_name(row.name)
    number = row.id_number
    return {
        "id": new_id("wle"),
        "list_name": list_name,
        "name": row.name,
        "name_han": normalised.han,
        "name_keys": repository.KEY_SEPARATOR.join(normalised.keys),
        "date_of_birth": row.date_of_birth,
        # The same keyed digest as a verified real name's ID number, so the two compare.
        "id_number_digest": None if number is None else id_number_digest(digest, number),
        "country": row.country,
        "reason": row.reason,
        "batch_id": batch_id,
        "loaded_at": now,
    }


async def load_list(
    services: Services,
    actor: Actor,
    *,
    list_name: str,
    file_name: str,
    content: bytes,
    replace: bool,
) -> LoadReport:
    """``ewallet watchlist load``: add the entries of a CSV file to ``list_name``, or with
    ``replace`` swap the list's entries for them, in one transaction (a reader sees the old
    list or the new one, never a mix). A bad file (:class:`WatchlistFileError`, with the
    line) changes nothing. Bumps the list's version, so every process re-indexes on its
    next screening; audited as ``watchlist.loaded``."""
    check_list_name(list_name)
    rows = read_csv(content)
    now = services.clock.now()
    batch_id = new_id("wll")
    values = [
        _entry_values(
            row, list_name=list_name, batch_id=batch_id, digest=services.security.digest, now=now
        )
        for row in rows
    ]
    mode = LoadMode.REPLACE if replace else LoadMode.APPEND
    loaded_by = f"{actor.type}:{actor.id}" if actor.id else actor.type

    async def work(uow: UnitOfWork) -> LoadReport:
        conn = await uow.connection()
        await repository.serialize_loads(conn)
        version = await repository.current_version(conn) + 1
        removed = await repository.delete_entries(conn, list_name) if replace else 0
        await repository.insert_load(
            conn,
            load_id=batch_id,
            version=version,
            list_name=list_name,
            file_name=file_name[-255:],
            mode=mode.value,
            added=len(values),
            removed=removed,
            loaded_by=loaded_by[:80],
            now=now,
        )
        await repository.insert_entries(conn, values)
        total = await repository.count_entries(conn, list_name)
        await record_event(
            conn,
            clock=services.clock,
            actor=actor,
            action="watchlist.loaded",
            subject_type="watchlist",
            subject_id=list_name,
            details={
                "version": version,
                "file_name": file_name[-255:],
                "mode": mode.value,
                "added": len(values),
                "removed": removed,
            },
        )
        return LoadReport(batch_id, list_name, version, mode.value, len(values), removed, total)

    return await run_unit(services.engine, work)


async def list_hits(
    services: Services, *, state: HitState | None, limit: int, cursor: str | None
) -> Page[WatchlistHitView]:
    """Hits newest first (``state`` keeps one state); ``validation_error`` for a limit
    out of range or a malformed cursor."""
    limit = check_limit(limit)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[WatchlistHitView]:
        return await repository.list_hits(
            await uow.connection(), state=state, after=after, limit=limit + 1
        )

    return newest_first_page(await run_unit(services.engine, work, read_only=True), limit)


async def decide_hit(
    services: Services, actor: Actor, *, hit_id: str, state: HitState, note: str
) -> WatchlistHitView:
    """Clear (not the listed person) or confirm an open hit, with a note; audited as
    ``watchlist.hit_cleared`` / ``watchlist.hit_confirmed``. Refusals: ``validation_error``
    (an empty or too long note, a state that is no decision), ``not_found``, ``conflict``
    (decided already: the first decision stands)."""
    if state is HitState.OPEN:
        raise ValidationFailedError("a decision clears or confirms a hit")
    text = note.strip()
    if not 1 <= len(text) <= MAX_NOTE:
        raise ValidationFailedError(f"a note has 1 to {MAX_NOTE} characters")

    async def work(uow: UnitOfWork) -> WatchlistHitView:
        conn = await uow.connection()
        hit = await repository.get_hit(conn, hit_id)
        if hit is None:
            raise WatchlistHitNotFoundError("no such watch-list hit")
        now = services.clock.now()
        by = (actor.id or actor.type)[:40]
        decided = await repository.decide_hit(
            conn, hit_id=hit_id, state=state, by=by, at=now, note=text
        )
        if not decided:
            raise WatchlistHitDecidedError("this hit was decided already")
        await record_event(
            conn,
            clock=services.clock,
            actor=actor,
            action=f"watchlist.hit_{state.value}",
            subject_type="watchlist_hit",
            subject_id=hit_id,
            details={"state": state.value},
        )
        return replace(hit, state=state.value, decided_by=by, decided_at=now, note=text)

    return await run_unit(services.engine, work)


async def list_loads(
    services: Services, *, limit: int, cursor: str | None
) -> Page[WatchlistLoadView]:
    """Loads newest first; ``validation_error`` for a bad limit or cursor."""
    limit = check_limit(limit)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[WatchlistLoadView]:
        return await repository.list_loads(await uow.connection(), after=after, limit=limit + 1)

    return newest_first_page(await run_unit(services.engine, work, read_only=True), limit)
