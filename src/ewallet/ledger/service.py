"""The ledger's Python API: open accounts, move money, hold and release it, read history.

Two ways to use it:

* ``Ledger`` -- standalone use cases, each in its own unit of work, optionally grouped
  with concurrent ones into one database transaction (``group_commit=True``);
* ``apply_commands(uow, ...)`` -- inside a feature's own unit of work, so a payment's
  ledger entry commits or rolls back together with the order it settles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.ledger import repository as repo
from ewallet.ledger.batch import Result, execute_batch
from ewallet.ledger.domain import (
    Account,
    Command,
    CreateHold,
    Hold,
    Outcome,
    PostEntry,
    PostHold,
    Posting,
    Reverse,
    Side,
    Transaction,
    TransactionKind,
    VoidHold,
    transfer,
)
from ewallet.ledger.errors import AccountNotFoundError, InvalidEntryError, LedgerError
from ewallet.ledger.group_commit import GroupCommitter, commit_commands
from ewallet.ledger.observe import record_results


async def apply_commands(
    uow: UnitOfWork, commands: Sequence[Command], *, clock: Clock
) -> list[Result]:
    """Apply ledger commands in the caller's unit of work (the caller commits).

    The outcomes reach ``/metrics`` once that unit commits; a rolled-back unit counts nothing.
    """
    results = await execute_batch(await uow.connection(), commands, now=clock.now())
    uow.after_commit(lambda: record_results(results))
    return results


async def apply_command(uow: UnitOfWork, command: Command, *, clock: Clock) -> Outcome:
    """Apply one command in the caller's unit of work; raise its refusal."""
    (result,) = await apply_commands(uow, [command], clock=clock)
    if isinstance(result, LedgerError):
        raise result
    return result


_MAX_CACHED_IDS = 100_000


@dataclass(frozen=True, slots=True)
class HistoryItem:
    posting: Posting
    kind: str
    metadata: dict[str, Any]


class Ledger:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock,
        group_commit: bool = False,
        max_batch: int = 128,
        flushers: int = 2,
    ) -> None:
        self._engine = engine
        self._clock = clock
        # SQLite has one writer at a time: a second flusher would only wait on its lock.
        flushers = 1 if engine.dialect.name == "sqlite" else flushers
        self._committer = (
            GroupCommitter(engine, clock=clock, max_batch=max_batch, flushers=flushers)
            if group_commit
            else None
        )
        # code -> id of accounts seen open: an account is never deleted and its id, code
        # and attributes never change, so this only saves reads (one Ledger per engine).
        self._ids: dict[str, int] = {}

    async def start(self) -> None:
        if self._committer is not None:
            self._committer.start()

    async def aclose(self) -> None:
        if self._committer is not None:
            await self._committer.aclose()

    # ------------------------------------------------------------------------- accounts

    async def open_account(
        self,
        *,
        code: str,
        kind: str,
        normal_side: Side,
        currency: str = "CNY",
        may_go_negative: bool = False,
        hot: bool = False,
    ) -> Account:
        """Open an account, or return the one with this code (same code, same account).

        ``hot``: many concurrent entries will credit it (a merchant, a settlement account);
        they then do so without its row lock (:mod:`ewallet.models.ledger`).
        """

        async def work(uow: UnitOfWork) -> Account:
            conn = await uow.connection()
            existing = await repo.get_account_by_code(conn, code)
            if existing is None:
                await repo.insert_account(
                    conn,
                    code=code,
                    kind=kind,
                    currency=currency,
                    normal_side=normal_side,
                    may_go_negative=may_go_negative,
                    hot=hot,
                    now=self._clock.now(),
                )
                existing = await repo.get_account_by_code(conn, code)
            assert existing is not None
            return existing

        async def look_up(uow: UnitOfWork) -> Account | None:
            return await repo.get_account_by_code(await uow.connection(), code)

        # Nearly always the account exists: a read (no write transaction, which on SQLite
        # would take the database's one write lock) answers, and only a miss opens it.
        account = await run_unit(self._engine, look_up, read_only=True)
        if account is None:
            try:
                account = await run_unit(self._engine, work)
            except IntegrityError:  # opened concurrently by someone else: theirs is ours
                account = await run_unit(self._engine, work)
        if (account.kind, account.currency, account.normal_side) != (kind, currency, normal_side):
            raise InvalidEntryError(f"account {code} exists with other attributes")
        return account

    async def account_id(
        self,
        *,
        code: str,
        kind: str,
        normal_side: Side,
        currency: str = "CNY",
        may_go_negative: bool = False,
        hot: bool = False,
    ) -> int:
        """The id of the account ``code`` names, opening it if need be (:meth:`open_account`).

        For callers that only post to the account: after the first call in a process it
        costs no database round trip (the request path of every payment and transfer).
        """
        known = self._ids.get(code)
        if known is not None:
            return known
        account = await self.open_account(
            code=code,
            kind=kind,
            normal_side=normal_side,
            currency=currency,
            may_go_negative=may_go_negative,
            hot=hot,
        )
        if len(self._ids) >= _MAX_CACHED_IDS:
            self._ids.clear()  # a crude bound: refilling costs one read per account
        self._ids[code] = account.id
        return account.id

    async def known_account_id(self, conn: AsyncConnection, code: str) -> int | None:
        """The id of the account ``code`` names if it exists, read in the caller's
        transaction (``conn``) when this process has not cached it; never opens one."""
        known = self._ids.get(code)
        if known is not None:
            return known
        account = await repo.get_account_by_code(conn, code)
        if account is None:
            return None
        if len(self._ids) >= _MAX_CACHED_IDS:
            self._ids.clear()
        self._ids[code] = account.id
        return account.id

    async def account(self, account_id: int) -> Account:
        async def work(uow: UnitOfWork) -> Account | None:
            return await repo.get_account(await uow.connection(), account_id)

        found = await run_unit(self._engine, work, read_only=True)
        if found is None:
            raise AccountNotFoundError(f"no ledger account {account_id}")
        return found

    async def account_by_code(self, code: str) -> Account | None:
        async def work(uow: UnitOfWork) -> Account | None:
            return await repo.get_account_by_code(await uow.connection(), code)

        return await run_unit(self._engine, work, read_only=True)

    # ------------------------------------------------------------------------- commands

    async def execute_many(self, commands: Sequence[Command]) -> list[Result]:
        """Apply commands in order in one transaction; one outcome or refusal each."""
        return await commit_commands(self._engine, self._clock, commands)

    async def execute(self, command: Command) -> Outcome:
        if self._committer is not None:
            result = await self._committer.submit(command)
        else:
            (result,) = await commit_commands(self._engine, self._clock, [command])
        if isinstance(result, LedgerError):
            raise result
        return result

    async def _transaction(self, command: Command) -> Transaction:
        outcome = await self.execute(command)
        assert isinstance(outcome, Transaction)
        return outcome

    async def _hold(self, command: Command) -> Hold:
        outcome = await self.execute(command)
        assert isinstance(outcome, Hold)
        return outcome

    async def transfer(
        self,
        *,
        key: str,
        debit_account_id: int,
        credit_account_id: int,
        amount: Money,
        kind: str = TransactionKind.TRANSFER,
        metadata: dict[str, Any] | None = None,
    ) -> Transaction:
        return await self._transaction(
            transfer(
                key=key,
                debit_account_id=debit_account_id,
                credit_account_id=credit_account_id,
                amount=amount,
                kind=kind,
                metadata=metadata,
            )
        )

    async def post_entry(self, entry: PostEntry) -> Transaction:
        return await self._transaction(entry)

    async def create_hold(
        self,
        *,
        key: str,
        debit_account_id: int,
        credit_account_id: int,
        amount: Money,
        kind: str,
        expires_at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Hold:
        return await self._hold(
            CreateHold(
                key=key,
                kind=kind,
                debit_account_id=debit_account_id,
                credit_account_id=credit_account_id,
                amount=amount,
                expires_at=expires_at,
                metadata=metadata or {},
            )
        )

    async def post_hold(
        self,
        *,
        key: str,
        hold_id: str,
        amount: Money | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Transaction:
        return await self._transaction(
            PostHold(key=key, hold_id=hold_id, amount=amount, metadata=metadata or {})
        )

    async def void_hold(self, hold_id: str) -> Hold:
        return await self._hold(VoidHold(hold_id=hold_id))

    async def reverse(
        self, *, key: str, transaction_id: str, metadata: dict[str, Any] | None = None
    ) -> Transaction:
        return await self._transaction(
            Reverse(key=key, transaction_id=transaction_id, metadata=metadata or {})
        )

    async def fold_balance_deltas(self, *, accounts: int = 100) -> int:
        """Fold hot accounts' balance deltas into their cached balances; how many folded.

        Takes each account's row lock briefly (in id order, like every batch); entries
        crediting the account meanwhile are not held up, since they do not need it. A read
        comes first, so an idle ledger costs no write transaction (SQLite's one writer).
        """

        async def pending(uow: UnitOfWork) -> list[int]:
            return await repo.hot_accounts_with_deltas(await uow.connection(), limit=accounts)

        if not await run_unit(self._engine, pending, read_only=True):
            return 0

        async def work(uow: UnitOfWork) -> int:
            conn = await uow.connection()
            ids = await repo.hot_accounts_with_deltas(conn, limit=accounts)
            states = await repo.lock_accounts(conn, ids)
            folded = await repo.fold_deltas(conn, states.values())
            await repo.save_accounts(conn, states.values())
            return folded

        return await run_unit(self._engine, work)

    async def expire_due_holds(self, *, limit: int = 500) -> int:
        """Release pending holds whose time ran out; returns how many were expired.

        A read comes first, so when nothing is due no write transaction is opened.
        """
        now = self._clock.now()

        async def due(uow: UnitOfWork) -> list[str]:
            return await repo.due_hold_ids(await uow.connection(), now=now, limit=limit)

        if not await run_unit(self._engine, due, read_only=True):
            return 0

        async def work(uow: UnitOfWork) -> int:
            conn = await uow.connection()
            due = await repo.due_hold_ids(conn, now=now, limit=limit)
            commands = [VoidHold(hold_id=hold_id, expire=True) for hold_id in due]
            results = await execute_batch(conn, commands, now=now)
            return sum(1 for r in results if isinstance(r, Hold) and not r.replayed)

        return await run_unit(self._engine, work)

    # -------------------------------------------------------------------------- reading

    async def transaction(self, transaction_id: str) -> Transaction | None:
        async def work(uow: UnitOfWork) -> Transaction | None:
            found = await repo.load_transactions(await uow.connection(), [transaction_id])
            return found.get(transaction_id)

        return await run_unit(self._engine, work, read_only=True)

    async def hold(self, hold_id: str) -> Hold | None:
        async def work(uow: UnitOfWork) -> Hold | None:
            return (await repo.load_holds(await uow.connection(), [hold_id])).get(hold_id)

        return await run_unit(self._engine, work, read_only=True)

    async def history(
        self, account_id: int, *, limit: int = 20, cursor: str | None = None
    ) -> Page[HistoryItem]:
        """The account's postings, newest first, cursor-paginated."""
        check_limit(limit)
        before_id = None
        if cursor is not None:
            position = decode_cursor(cursor).get("before")
            if not isinstance(position, int):
                raise InvalidEntryError("malformed cursor")
            before_id = position

        async def work(uow: UnitOfWork) -> list[tuple[Posting, str, dict[str, Any]]]:
            return await repo.account_history(
                await uow.connection(), account_id=account_id, before_id=before_id, limit=limit + 1
            )

        rows = await run_unit(self._engine, work, read_only=True)
        items = [HistoryItem(p, kind, meta) for p, kind, meta in rows[:limit]]
        next_cursor = encode_cursor({"before": items[-1].posting.id}) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    async def balance_at(self, account_id: int, moment: datetime) -> Money:
        """The account's posted balance as it stood at ``moment``."""
        account = await self.account(account_id)

        async def work(uow: UnitOfWork) -> int:
            return await repo.balance_at(await uow.connection(), account=account, moment=moment)

        return Money(await run_unit(self._engine, work, read_only=True), account.currency)
