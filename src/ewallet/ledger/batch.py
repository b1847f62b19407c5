"""Apply a batch of ledger commands inside one open database transaction.

The batch reads what it needs (used idempotency keys, holds, originals of reversals),
locks every touched account once in ascending id order, then applies the commands one by
one in memory. A refused command restores the balances it touched and becomes an error
outcome; it never fails its neighbours. Only then are the accepted commands written, with
one executemany statement per table. The caller commits (or rolls back) the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import repository as repo
from ewallet.ledger.domain import (
    AccountState,
    Command,
    CreateHold,
    Hold,
    HoldStatus,
    Leg,
    Outcome,
    PostEntry,
    PostHold,
    Posting,
    Reverse,
    Side,
    Transaction,
    TransactionKind,
    VoidHold,
    check_entry_shape,
    check_not_overdrawn,
)
from ewallet.ledger.errors import (
    AccountNotFoundError,
    AlreadyReversedError,
    HoldExpiredError,
    HoldNotFoundError,
    HoldNotPendingError,
    InvalidEntryError,
    LedgerError,
    LedgerKeyReusedError,
    TransactionNotFoundError,
)
from ewallet.ledger.pg_fast import PostgresLedgerStore

log = structlog.get_logger("ewallet.ledger")

Result = Outcome | LedgerError


@dataclass(slots=True)
class _Replay:
    """Placeholder for a command whose key was used before: its stored outcome is returned."""

    transaction_id: str | None = None
    hold_id: str | None = None


@dataclass(slots=True)
class _NewTransaction:
    row: dict[str, Any]
    postings: list[dict[str, Any]]


_Raw = Hold | LedgerError | _Replay | _NewTransaction


@dataclass(slots=True)
class _Writes:
    transactions: list[_NewTransaction] = field(default_factory=list)
    new_holds: list[dict[str, Any]] = field(default_factory=list)
    updated_holds: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Batch:
    def __init__(
        self,
        conn: AsyncConnection,
        commands: Sequence[Command],
        now: datetime,
        *,
        optimistic_keys: bool = False,
    ) -> None:
        self.conn = conn
        self.commands = commands
        self.now = now
        self.optimistic_keys = optimistic_keys
        self.accounts: dict[int, AccountState] = {}
        self.holds: dict[str, Hold] = {}
        self.originals: dict[str, Transaction] = {}
        self.reversed: set[str] = set()
        self.used_txn_keys: dict[str, tuple[str, str]] = {}
        self.used_hold_keys: dict[str, tuple[str, str]] = {}
        self.writes = _Writes()
        self.fast: PostgresLedgerStore | None = None

    # -------------------------------------------------------------------------- reading

    async def load(self) -> None:
        """Lock holds, then accounts (each in id order), then read what the locks protect.

        Keys and reversals are read after the locks: on PostgreSQL a transaction that
        waited for a lock then sees what the holder committed, so a concurrent duplicate
        is answered as a replay instead of failing on the unique index. With
        ``optimistic_keys`` (a caller that reruns the unit on that failure) PostgreSQL reads
        the transaction keys in the lock statement instead, one round trip fewer; such a
        duplicate then fails the insert, and the rerun answers it as a replay.
        """
        commands = self.commands
        hold_ids = {c.hold_id for c in commands if isinstance(c, PostHold | VoidHold)}
        if hold_ids:
            self.holds = await repo.lock_holds(self.conn, hold_ids)
        original_ids = {c.transaction_id for c in commands if isinstance(c, Reverse)}
        if original_ids:
            self.originals = await repo.load_transactions(self.conn, original_ids)
        always, debited, credited = self._account_sides()
        account_ids = always | debited | credited
        txn_keys = [c.key for c in commands if isinstance(c, PostEntry | PostHold | Reverse)]
        hold_keys = [c.key for c in commands if isinstance(c, CreateHold)]
        if self.conn.dialect.name == "postgresql":
            early = txn_keys if self.optimistic_keys else ()
            self.fast, self.accounts, self.used_txn_keys = await PostgresLedgerStore.lock_and_open(
                self.conn,
                account_ids,
                always=always,
                debited=debited,
                credited=credited,
                keys=early,
            )
        else:
            self.accounts = await repo.lock_accounts(
                self.conn, account_ids, always=always, debited=debited, credited=credited
            )
        # A hot account locked here gets its exact balance: fold what others added to it.
        await repo.fold_deltas(self.conn, self.accounts.values())
        if self.fast is None:
            self.used_txn_keys = await repo.find_transaction_keys(self.conn, txn_keys)
        elif not self.optimistic_keys:
            self.used_txn_keys = await self.fast.find_transaction_keys(txn_keys)
        self.used_hold_keys = await repo.find_hold_keys(self.conn, hold_keys)
        if original_ids:
            self.reversed = await repo.reversed_ids(self.conn, original_ids)

    def _account_sides(self) -> tuple[set[int], set[int], set[int]]:
        """The accounts holds touch, those entries debit, and those entries credit.

        Which accounts the batch raises and lowers decides which hot ones it must lock
        (:func:`~ewallet.ledger.domain.lock_needed`).
        """
        always: set[int] = set()
        debited: set[int] = set()
        credited: set[int] = set()
        for command in self.commands:
            if isinstance(command, PostEntry):
                for leg in command.legs:
                    (debited if leg.side is Side.DEBIT else credited).add(leg.account_id)
            elif isinstance(command, CreateHold):
                always.update((command.debit_account_id, command.credit_account_id))
        for hold in self.holds.values():
            always.update((hold.debit_account_id, hold.credit_account_id))
        for original in self.originals.values():
            for posting in original.postings:  # a reversal moves each the other way
                (credited if posting.amount > 0 else debited).add(posting.account_id)
        return always, debited, credited

    # ------------------------------------------------------------------------- applying

    def apply_all(self) -> list[_Raw]:
        results: list[_Raw] = []
        done_in_batch: dict[tuple[str, str], tuple[str, _Raw]] = {}
        for command in self.commands:
            namespace = "hold" if isinstance(command, CreateHold) else "txn"
            key = getattr(command, "key", None)
            request_hash = command.request_hash() if not isinstance(command, VoidHold) else ""
            if key is not None and (namespace, key) in done_in_batch:
                first_hash, first = done_in_batch[(namespace, key)]
                if first_hash != request_hash:
                    results.append(
                        LedgerKeyReusedError(
                            "the idempotency key was used for another command",
                            internal=f"key {key!r} was used for another command in this batch",
                        )
                    )
                    continue
                if not isinstance(first, LedgerError):
                    results.append(first)
                    continue
            touched = self._touched_accounts(command)
            snapshot = {i: self.accounts[i].snapshot() for i in touched if i in self.accounts}
            writes_mark = (len(self.writes.transactions), len(self.writes.new_holds))
            try:
                result: _Raw = self._apply(command, request_hash)
            except LedgerError as error:
                # The refusal's internals (accounts, ids) go to the log, never to a client.
                log.info("ledger.refused", code=error.code, reason=error.internal or error.detail)
                for account_id, values in snapshot.items():
                    self.accounts[account_id].restore(values)
                del self.writes.transactions[writes_mark[0] :]
                del self.writes.new_holds[writes_mark[1] :]
                result = error
            if key is not None:
                done_in_batch[(namespace, key)] = (request_hash, result)
            results.append(result)
        return results

    def _touched_accounts(self, command: Command) -> set[int]:
        if isinstance(command, PostEntry):
            return {leg.account_id for leg in command.legs}
        if isinstance(command, CreateHold):
            return {command.debit_account_id, command.credit_account_id}
        if isinstance(command, PostHold | VoidHold):
            hold = self.holds.get(command.hold_id)
            return {hold.debit_account_id, hold.credit_account_id} if hold else set()
        original = self.originals.get(command.transaction_id)
        return {p.account_id for p in original.postings} if original else set()

    def _apply(self, command: Command, request_hash: str) -> _Raw:  # noqa: PLR0911
        if isinstance(command, VoidHold):
            return self._void(command)
        if isinstance(command, CreateHold):
            used = self.used_hold_keys.get(command.key)
            if used is not None:
                return self._replay_or_conflict(used, request_hash, hold=True)
            return self._create_hold(command, request_hash)
        used = self.used_txn_keys.get(command.key)
        if used is not None:
            return self._replay_or_conflict(used, request_hash, hold=False)
        if isinstance(command, PostEntry):
            return self._entry(
                key=command.key,
                request_hash=request_hash,
                kind=command.kind,
                legs=command.legs,
                metadata=command.metadata,
            )
        if isinstance(command, PostHold):
            return self._post_hold(command, request_hash)
        return self._reverse(command, request_hash)

    @staticmethod
    def _replay_or_conflict(used: tuple[str, str], request_hash: str, *, hold: bool) -> _Replay:
        existing_id, existing_hash = used
        if existing_hash != request_hash:
            raise LedgerKeyReusedError(
                "the idempotency key was used for another command",
                internal=f"the key belongs to {'hold' if hold else 'transaction'} {existing_id}",
            )
        return _Replay(hold_id=existing_id) if hold else _Replay(transaction_id=existing_id)

    def _account(self, account_id: int, currency: str) -> AccountState:
        account = self.accounts.get(account_id)
        if account is None:
            raise AccountNotFoundError(
                "no such ledger account", internal=f"no ledger account {account_id}"
            )
        if account.currency != currency:
            raise InvalidEntryError(
                f"the account does not hold {currency}",
                internal=f"account {account.code} holds {account.currency}, not {currency}",
            )
        return account

    def _entry(
        self,
        *,
        key: str,
        request_hash: str,
        kind: str,
        legs: tuple[Leg, ...],
        metadata: dict[str, Any],
        reverses_id: str | None = None,
        hold_id: str | None = None,
        extra_before: dict[int, int] | None = None,
    ) -> _NewTransaction:
        check_entry_shape(legs)
        touched = [self._account(leg.account_id, leg.amount.currency) for leg in legs]
        before = dict(extra_before or {})
        for account in touched:
            before.setdefault(account.id, account.available)
        txn_id = new_id("txn")
        posting_rows = []
        for leg, account in zip(legs, touched, strict=True):
            signed = leg.signed()
            posting_rows.append(
                {
                    "transaction_id": txn_id,
                    "account_id": account.id,
                    "amount": signed,
                    "currency": leg.amount.currency,
                    "balance_after": account.post(signed),
                    "created_at": self.now,
                }
            )
        check_not_overdrawn(self.accounts, before)
        new = _NewTransaction(
            row={
                "id": txn_id,
                "kind": kind,
                "idempotency_key": key,
                "request_hash": request_hash,
                "metadata": metadata,
                "reverses_id": reverses_id,
                "hold_id": hold_id,
                "created_at": self.now,
            },
            postings=posting_rows,
        )
        self.writes.transactions.append(new)
        return new

    def _create_hold(self, command: CreateHold, request_hash: str) -> Hold:
        amount = command.amount
        if amount.minor <= 0:
            raise InvalidEntryError("hold amount must be positive")
        if command.debit_account_id == command.credit_account_id:
            raise InvalidEntryError("a hold needs two different accounts")
        debit = self._account(command.debit_account_id, amount.currency)
        credit = self._account(command.credit_account_id, amount.currency)
        before = {debit.id: debit.available, credit.id: credit.available}
        debit.reserve(Side.DEBIT, amount.minor)
        credit.reserve(Side.CREDIT, amount.minor)
        check_not_overdrawn(self.accounts, before)
        hold = Hold(
            id=new_id("hld"),
            kind=command.kind,
            idempotency_key=command.key,
            status=HoldStatus.PENDING,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            posted_amount=None,
            expires_at=command.expires_at,
            created_at=self.now,
            resolved_at=None,
            metadata=command.metadata,
        )
        self.writes.new_holds.append(
            {
                "id": hold.id,
                "kind": hold.kind,
                "idempotency_key": hold.idempotency_key,
                "request_hash": request_hash,
                "debit_account_id": hold.debit_account_id,
                "credit_account_id": hold.credit_account_id,
                "amount": amount.minor,
                "currency": amount.currency,
                "status": hold.status.value,
                "posted_amount": None,
                "metadata": hold.metadata,
                "expires_at": hold.expires_at,
                "created_at": hold.created_at,
                "resolved_at": None,
            }
        )
        return hold

    def _pending_hold(self, hold_id: str) -> Hold:
        hold = self.holds.get(hold_id)
        if hold is None:
            raise HoldNotFoundError("no such hold", internal=f"no hold {hold_id}")
        if hold.status is not HoldStatus.PENDING:
            raise HoldNotPendingError(
                f"the hold is {hold.status.value}",
                internal=f"hold {hold_id} is {hold.status.value}",
            )
        return hold

    def _release(self, hold: Hold) -> dict[int, int]:
        debit = self._account(hold.debit_account_id, hold.amount.currency)
        credit = self._account(hold.credit_account_id, hold.amount.currency)
        before = {debit.id: debit.available, credit.id: credit.available}
        debit.reserve(Side.DEBIT, -hold.amount.minor)
        credit.reserve(Side.CREDIT, -hold.amount.minor)
        return before

    def _resolve(self, hold: Hold, status: HoldStatus, posted: Money | None) -> Hold:
        resolved = replace(hold, status=status, posted_amount=posted, resolved_at=self.now)
        self.holds[hold.id] = resolved
        self.writes.updated_holds[hold.id] = {
            "b_id": hold.id,
            "b_status": status.value,
            "b_posted_amount": posted.minor if posted else None,
            "b_resolved_at": self.now,
        }
        return resolved

    def _post_hold(self, command: PostHold, request_hash: str) -> _NewTransaction:
        hold = self._pending_hold(command.hold_id)
        if hold.expires_at is not None and hold.expires_at <= self.now:
            raise HoldExpiredError(
                "the hold has expired",
                internal=f"hold {hold.id} expired at {hold.expires_at.isoformat()}",
            )
        amount = command.amount or hold.amount
        if amount.currency != hold.amount.currency or not 0 < amount.minor <= hold.amount.minor:
            raise InvalidEntryError("posted amount must be more than zero and at most the hold")
        before = self._release(hold)
        legs = (
            Leg(hold.debit_account_id, Side.DEBIT, amount),
            Leg(hold.credit_account_id, Side.CREDIT, amount),
        )
        new = self._entry(
            key=command.key,
            request_hash=request_hash,
            kind=hold.kind,
            legs=legs,
            metadata={**hold.metadata, **command.metadata},
            hold_id=hold.id,
            extra_before=before,
        )
        self._resolve(hold, HoldStatus.POSTED, amount)
        return new

    def _void(self, command: VoidHold) -> Hold:
        hold = self.holds.get(command.hold_id)
        if hold is None:
            raise HoldNotFoundError("no such hold", internal=f"no hold {command.hold_id}")
        if hold.status in (HoldStatus.VOIDED, HoldStatus.EXPIRED):
            return replace(hold, replayed=True)
        self._pending_hold(hold.id)
        self._release(hold)
        status = HoldStatus.EXPIRED if command.expire else HoldStatus.VOIDED
        return self._resolve(hold, status, None)

    def _reverse(self, command: Reverse, request_hash: str) -> _NewTransaction:
        original = self.originals.get(command.transaction_id)
        if original is None:
            raise TransactionNotFoundError(
                "no such transaction", internal=f"no transaction {command.transaction_id}"
            )
        if original.reverses_id is not None:
            raise InvalidEntryError("a reversal cannot itself be reversed")
        if original.id in self.reversed:
            raise AlreadyReversedError(
                "the transaction was already reversed",
                internal=f"transaction {original.id} was already reversed",
            )
        legs = tuple(
            Leg(
                p.account_id,
                Side.CREDIT if p.amount > 0 else Side.DEBIT,
                Money(abs(p.amount), p.currency),
            )
            for p in original.postings
        )
        new = self._entry(
            key=command.key,
            request_hash=request_hash,
            kind=TransactionKind.REVERSAL,
            legs=legs,
            metadata=command.metadata,
            reverses_id=original.id,
        )
        self.reversed.add(original.id)
        return new

    # -------------------------------------------------------------------------- writing

    async def write(self) -> list[list[int]]:
        """Write accepted commands; return the new postings' ids per new transaction."""
        writes = self.writes
        await repo.insert_holds(self.conn, writes.new_holds)
        await repo.update_holds(self.conn, list(writes.updated_holds.values()))
        transactions = [t.row for t in writes.transactions]
        rows = [p for t in writes.transactions for p in t.postings]
        if self.fast is not None:
            ids = await self.fast.write_entries(transactions, rows, self.accounts.values())
        else:
            await repo.insert_transactions(self.conn, transactions)
            ids = await repo.insert_postings(self.conn, rows)
            await repo.save_accounts(self.conn, self.accounts.values())
            await repo.insert_deltas(self.conn, self.accounts.values(), now=self.now)
        grouped, start = [], 0
        for new in writes.transactions:
            grouped.append(ids[start : start + len(new.postings)])
            start += len(new.postings)
        return grouped


def _transaction(new: _NewTransaction, posting_ids: list[int]) -> Transaction:
    row = new.row
    return Transaction(
        id=row["id"],
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        metadata=row["metadata"],
        reverses_id=row["reverses_id"],
        hold_id=row["hold_id"],
        created_at=row["created_at"],
        postings=tuple(
            Posting(
                id=posting_id,
                transaction_id=p["transaction_id"],
                account_id=p["account_id"],
                amount=p["amount"],
                currency=p["currency"],
                balance_after=p["balance_after"],
                created_at=p["created_at"],
            )
            for posting_id, p in zip(posting_ids, new.postings, strict=True)
        ),
    )


async def execute_batch(
    conn: AsyncConnection,
    commands: Sequence[Command],
    *,
    now: datetime,
    optimistic_keys: bool = False,
) -> list[Result]:
    """Apply ``commands`` in order in the open transaction; one result or error per command.

    ``optimistic_keys``: the caller reruns the whole unit when an insert fails on a unique
    key (:func:`ewallet.ledger.group_commit.commit_commands`), so a concurrent duplicate
    may be caught there rather than by reading the keys after the locks (``_Batch.load``).
    """
    batch = _Batch(conn, commands, now, optimistic_keys=optimistic_keys)
    await batch.load()
    raw = batch.apply_all()
    posting_ids = await batch.write()
    built: dict[int, Transaction] = {
        id(new): _transaction(new, ids)
        for new, ids in zip(batch.writes.transactions, posting_ids, strict=True)
    }
    replay_txn_ids = [r.transaction_id for r in raw if isinstance(r, _Replay) and r.transaction_id]
    replay_hold_ids = [r.hold_id for r in raw if isinstance(r, _Replay) and r.hold_id]
    stored_txns = await repo.load_transactions(conn, replay_txn_ids)
    stored_holds = await repo.load_holds(conn, replay_hold_ids)
    results: list[Result] = []
    seen: set[int] = set()
    for item in raw:
        first_time = id(item) not in seen
        seen.add(id(item))
        if isinstance(item, _NewTransaction):
            txn = built[id(item)]
            # A key repeated inside one batch gets the first command's outcome, as a replay.
            results.append(txn if first_time else replace(txn, replayed=True))
        elif isinstance(item, Hold) and not first_time:
            results.append(replace(item, replayed=True))
        elif isinstance(item, _Replay):
            if item.transaction_id:
                results.append(replace(stored_txns[item.transaction_id], replayed=True))
            else:
                assert item.hold_id is not None
                results.append(replace(stored_holds[item.hold_id], replayed=True))
        else:
            results.append(item)
    return results
