"""A wallet's history and monthly statements, read from the ledger.

The ledger is the source: every item is a posting on the user's wallet account (one per
ledger transaction) or a pending hold on it (a withdrawal in progress, status
``pending``). Business rows only add a description of the other side -- the payee of a
transfer (through :mod:`ewallet.transfers.service`), the card of a top-up or withdrawal,
the merchant of a payment, the biller and the kind of bill of a bill payment ("国网上海电力
· 电费", also on its refund when the biller refused it), the bank, card and payee of a
transfer to another person's card ("工商银行 ****1234 李*": its amount is the type
``card_transfer``, its fee line a ``fee`` with the same counterparty) -- looked up by the
ids the ledger entry carries in its metadata. An entry whose kind or metadata is not known
here still shows, as its ledger kind with no counterparty: a new feature never breaks the
history.

Items are newest first. Pending holds are listed at the top of the first page (a user has
only a few in flight); the cursor then walks the postings by id.

A statement covers an Asia/Shanghai calendar month: the opening balance is the wallet's
posted balance after its last posting before the month began, the closing balance the one
after its last posting in the month, and every movement in between is listed; so opening
+ money in - money out = closing, exactly as the ledger has it. Pending holds are not
movements yet and are left out. Rendering (CSV, PDF) is :mod:`ewallet.history.render`.

Everything here reads only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar

from ewallet.funding.withdrawals.card_transfers.views import mask_name
from ewallet.history import repository
from ewallet.history.render import statement_csv, statement_pdf
from ewallet.history.repository import BillRef, CardRef, CardTransferRef, RawEntry
from ewallet.history.views import (
    DayTotals,
    HistoryEntry,
    HistoryFilter,
    Month,
    MonthSpending,
    Statement,
    StatementFile,
    StatementFormat,
    entry_type,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.kit.phone import mask_phone
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services

T = TypeVar("T")
# A read for one user inside the caller's unit of work (``*_read`` below): a web page runs
# it in the transaction that checks its session (ewallet.identity.sessions.service).
UserRead = Callable[[UnitOfWork, str], Awaitable[T]]

PSP_NAMES: Final = {"alipay": "支付宝", "wechat_pay": "微信支付", "counter": "柜台现金"}
PAYMENT_DETAILS: Final = ("merchant_id", "order_id", "payment_id", "refund_id")
BILL_CATEGORY_NAMES: Final = {
    "electricity": "电费",
    "water": "水费",
    "gas": "燃气费",
    "mobile_topup": "话费充值",
    "broadband": "宽带费",
}


def _card(card: CardRef) -> str | None:
    if card.bank_name is None:
        return None
    return f"{card.bank_name} ({card.last_four})" if card.last_four else card.bank_name


def _card_payee(transfer: CardTransferRef) -> str:
    """``工商银行 ****1234 李*``: the bank, the card's last four, the payee masked."""
    return f"{transfer.bank_name} ****{transfer.card_last_four} {mask_name(transfer.payee_name)}"


def _biller(bill: BillRef) -> str:
    """``国网上海电力 · 电费``: who was paid, and for what."""
    category = BILL_CATEGORY_NAMES.get(bill.category)
    return f"{bill.name_zh} · {category}" if category else bill.name_zh


async def _describe(uow: UnitOfWork, user_id: str, raws: Sequence[RawEntry]) -> list[HistoryEntry]:
    """Add the other side of each entry from the business rows its metadata names (read
    in one statement)."""

    def ids(key: str) -> list[str]:
        return sorted({str(r.metadata[key]) for r in raws if isinstance(r.metadata.get(key), str)})

    found = await repository.descriptions(
        await uow.connection(),
        transfer_ids=ids("transfer_id"),
        withdrawal_ids=ids("withdrawal_id"),
        topup_ids=ids("topup_id"),
        merchant_ids=ids("merchant_id"),
        bill_payment_ids=ids("bill_payment_id"),
        card_transfer_ids=ids("card_transfer_id"),
    )
    entries = []
    for raw in raws:
        meta = raw.metadata
        counterparty: str | None = None
        details: dict[str, Any] = {}
        if (transfer := found.transfers.get(str(meta.get("transfer_id")))) is not None:
            if raw.status == "pending" and transfer.payee.user_id == user_id:
                continue  # held for review or scheduled: not the payee's money yet, nor news
            counterparty = transfer.counterparty_for(user_id).describe()
            details = {"transfer_id": transfer.id, "memo": transfer.memo}
            if raw.status == "pending" and isinstance(meta.get("arrives_at"), str):
                details["arrives_at"] = meta["arrives_at"]  # a delayed transfer's arrival
        elif (to_card := found.card_transfers.get(str(meta.get("card_transfer_id")))) is not None:
            counterparty = _card_payee(to_card)
            details = {
                "card_transfer_id": to_card.id,
                "bank_name": to_card.bank_name,
                "card_last_four": to_card.card_last_four,
                "payee_name_masked": mask_name(to_card.payee_name),
            }
        elif (
            card := found.withdrawal_cards.get(withdrawal_id := str(meta.get("withdrawal_id")))
        ) is not None:
            counterparty = _card(card)
            details = {"withdrawal_id": withdrawal_id}
        elif (topup := found.topups.get(topup_id := str(meta.get("topup_id")))) is not None:
            counterparty = _card(topup.card) or PSP_NAMES.get(topup.method)
            details = {"topup_id": topup_id, "method": topup.method}
        elif (bill := found.bills.get(bill_id := str(meta.get("bill_payment_id")))) is not None:
            counterparty = _biller(bill)
            details = {
                "bill_payment_id": bill_id,
                "biller_id": bill.biller_id,
                "biller_name": bill.name_en,
                "category": bill.category,
            }
        elif (name := found.merchant_names.get(str(meta.get("merchant_id")))) is not None:
            counterparty = name
            details = {key: meta[key] for key in PAYMENT_DETAILS if key in meta}
        entries.append(
            HistoryEntry(
                id=raw.id,
                type=entry_type(raw.kind, meta),
                direction="out" if raw.signed > 0 else "in",
                amount=Money(abs(raw.signed), raw.currency),
                balance_after=(
                    Money(raw.balance_after, raw.currency)
                    if raw.balance_after is not None
                    else None
                ),
                counterparty=counterparty,
                status=raw.status,
                created_at=raw.created_at,
                details=details,
            )
        )
    return entries


async def list_transactions(
    services: Services,
    user_id: str,
    *,
    flt: HistoryFilter,
    limit: int = 20,
    cursor: str | None = None,
    currency: str = "CNY",
) -> Page[HistoryEntry]:
    """The user's entries, newest first (pending holds on the first page).

    Refusals: ``validation_failed`` for a limit out of range or a malformed cursor.
    """
    read = transactions_read(flt=flt, limit=limit, cursor=cursor, currency=currency)
    return await run_unit(services.engine, lambda uow: read(uow, user_id), read_only=True)


def transactions_read(
    *, flt: HistoryFilter, limit: int = 20, cursor: str | None = None, currency: str = "CNY"
) -> UserRead[Page[HistoryEntry]]:
    """:func:`list_transactions` as a read for a user inside the caller's unit of work (a
    web page reads it in the transaction that checks its session). Its refusals are
    raised here, before anything is read."""
    check_limit(limit)
    before: int | None = None
    if cursor is not None:
        position = decode_cursor(cursor).get("before")
        if not isinstance(position, int):
            raise ValidationFailedError("malformed cursor")
        before = position

    async def read(uow: UnitOfWork, user_id: str) -> Page[HistoryEntry]:
        conn = await uow.connection()
        account_id = await repository.wallet_account_id(conn, user_id, currency)
        return await _page_in(uow, user_id, account_id, flt, before=before, limit=limit)

    return read


async def latest_in(
    uow: UnitOfWork, user_id: str, *, account_id: int | None, limit: int
) -> list[HistoryEntry]:
    """The ``limit`` latest entries of the wallet ``account_id`` of the user (None: no
    wallet yet), pending ones first as the history lists them, inside the caller's unit of
    work (the home summary reads them with the balance, which found the account)."""
    check_limit(limit)
    page = await _page_in(uow, user_id, account_id, HistoryFilter(), before=None, limit=limit)
    return page.items[:limit]


async def first_page_in(
    uow: UnitOfWork, user_id: str, *, account_id: int | None, limit: int
) -> Page[HistoryEntry]:
    """The first page of :func:`transactions_read` (no filter) of the wallet ``account_id``
    of the user (None: no wallet yet), inside the caller's unit of work, for a caller that
    found the account with its own reads (the staff's customer view: one statement less)."""
    check_limit(limit)
    return await _page_in(uow, user_id, account_id, HistoryFilter(), before=None, limit=limit)


async def _page_in(
    uow: UnitOfWork,
    user_id: str,
    account_id: int | None,
    flt: HistoryFilter,
    *,
    before: int | None,
    limit: int,
) -> Page[HistoryEntry]:
    """A page of the wallet ``account_id`` of ``user_id`` (None: no wallet, no entries)."""
    if account_id is None:
        return Page(items=[], next_cursor=None)
    conn = await uow.connection()
    pending: list[RawEntry] = []
    if before is None:
        pending = await repository.pending_holds(conn, account_id, flt)
    page = await repository.posted_page(conn, account_id, flt, before=before, limit=limit)
    next_cursor = None if page.next_before is None else encode_cursor({"before": page.next_before})
    items = await _describe(uow, user_id, pending + page.entries)
    return Page(items=items, next_cursor=next_cursor)


async def get_transaction(
    services: Services, user_id: str, *, entry_id: str, currency: str = "CNY"
) -> HistoryEntry:
    """One entry of the user's own wallet (a ledger transaction or a pending hold);
    ``not_found`` for anything else."""
    read = transaction_read(entry_id=entry_id, currency=currency)
    return await run_unit(services.engine, lambda uow: read(uow, user_id), read_only=True)


def transaction_read(*, entry_id: str, currency: str = "CNY") -> UserRead[HistoryEntry]:
    """:func:`get_transaction` as a read for a user inside the caller's unit of work."""

    async def read(uow: UnitOfWork, user_id: str) -> HistoryEntry:
        conn = await uow.connection()
        account_id = await repository.wallet_account_id(conn, user_id, currency)
        raw = None
        if account_id is not None:
            raw = await repository.posted_entry(conn, account_id, entry_id)
            if raw is None:
                raw = await repository.pending_hold(conn, account_id, entry_id)
        described = [] if raw is None else await _describe(uow, user_id, [raw])
        if not described:
            raise NotFoundError("no such transaction")
        return described[0]

    return read


async def build_statement(
    services: Services, user_id: str, *, month: Month, currency: str = "CNY"
) -> Statement:
    """The statement of ``user_id``'s wallet for ``month`` (the module doc); ``not_found``
    for no such user."""

    async def work(uow: UnitOfWork) -> Statement:
        conn = await uow.connection()
        holder = await repository.holder(conn, user_id)
        if holder is None:
            raise NotFoundError("no such user")
        account_id = await repository.wallet_account_id(conn, user_id, currency)
        lines: list[HistoryEntry] = []
        opening = 0
        if account_id is not None:
            opening = await repository.opening_balance(conn, account_id, month.start)
            flt = HistoryFilter(since=month.start, until=month.end)
            raws = await repository.posted_in_order(conn, account_id, flt)
            lines = await _describe(uow, user_id, raws)
        money_in = sum(line.amount.minor for line in lines if line.direction == "in")
        money_out = sum(line.amount.minor for line in lines if line.direction == "out")
        closing = lines[-1].balance_after.minor if lines and lines[-1].balance_after else opening
        if opening + money_in - money_out != closing:
            # The ledger's own invariant; if it ever fails, no statement is better than a wrong one.
            raise RuntimeError(f"statement of {user_id} for {month} does not add up")
        return Statement(
            user_id=user_id,
            holder_phone=mask_phone(holder.phone),
            holder_name=holder.real_name_masked,
            month=month,
            currency=currency,
            opening=Money(opening, currency),
            closing=Money(closing, currency),
            total_in=Money(money_in, currency),
            total_out=Money(money_out, currency),
            lines=lines,
            issuer=services.settings.issuer_name,
            issued_at=services.clock.now(),
        )

    return await run_unit(services.engine, work, read_only=True)


async def month_spending(
    services: Services, user_id: str, *, month: Month | None = None, currency: str = "CNY"
) -> MonthSpending:
    """The user's wallet over ``month`` (the current Asia/Shanghai month by default): money
    out and in on each day, money out by entry type, the totals -- the posted movements a
    statement of the month lists, so the totals are the statement's. A user without a
    wallet yet has a month of zeros. Reads only.
    """
    read = month_spending_read(services, month=month, currency=currency)
    return await run_unit(services.engine, lambda uow: read(uow, user_id), read_only=True)


def month_spending_read(
    services: Services, *, month: Month | None = None, currency: str = "CNY"
) -> UserRead[MonthSpending]:
    """:func:`month_spending` as a read for a user inside the caller's unit of work."""
    now = services.clock.now()
    chosen = month or Month.of(now)

    async def read(uow: UnitOfWork, user_id: str) -> MonthSpending:
        raws: list[RawEntry] = []
        conn = await uow.connection()
        account_id = await repository.wallet_account_id(conn, user_id, currency)
        if account_id is not None:
            flt = HistoryFilter(since=chosen.start, until=chosen.end)
            raws = await repository.posted_in_order(conn, account_id, flt)
        return _spending(raws, chosen, now, currency)

    return read


def _spending(
    raws: Sequence[RawEntry], chosen: Month, now: datetime, currency: str
) -> MonthSpending:
    out_by_day: dict[date, int] = defaultdict(int)
    in_by_day: dict[date, int] = defaultdict(int)
    out_by_type: dict[str, int] = defaultdict(int)
    for raw in raws:
        day = raw.created_at.astimezone(CHINA_TIME).date()
        if raw.signed > 0:
            out_by_day[day] += raw.signed
            out_by_type[entry_type(raw.kind, raw.metadata)] += raw.signed
        else:
            in_by_day[day] -= raw.signed
    days = [
        DayTotals(day, Money(out_by_day[day], currency), Money(in_by_day[day], currency))
        for day in chosen.days()
    ]
    kinds = sorted(out_by_type.items(), key=lambda item: (-item[1], item[0]))
    return MonthSpending(
        month=chosen,
        currency=currency,
        days=days,
        out_by_type=[(kind, Money(total, currency)) for kind, total in kinds],
        total_out=Money(sum(out_by_day.values()), currency),
        total_in=Money(sum(in_by_day.values()), currency),
        count=len(raws),
        complete=chosen.end <= now,
    )


def render_statement(statement: Statement, file_format: StatementFormat) -> StatementFile:
    """``statement`` as a CSV or PDF file (pure)."""
    filename = f"statement-{statement.month}.{file_format}"
    if file_format == "pdf":
        return StatementFile(statement_pdf(statement), "application/pdf", filename)
    return StatementFile(statement_csv(statement), "text/csv; charset=utf-8", filename)


async def statement_file(
    services: Services, user_id: str, *, month: Month, file_format: StatementFormat
) -> StatementFile:
    """The user's statement for ``month`` rendered as CSV or PDF (see :func:`build_statement`)."""
    statement = await build_statement(services, user_id, month=month)
    return render_statement(statement, file_format)


async def users_with_activity(services: Services, month: Month) -> list[str]:
    """Ids of users whose wallet has a posting in ``month`` or a balance before it."""

    async def work(uow: UnitOfWork) -> list[str]:
        conn = await uow.connection()
        return await repository.wallet_owners_with_postings_before(conn, month.end)

    return await run_unit(services.engine, work, read_only=True)
