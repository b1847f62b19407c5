"""Reading counter deposits: one deposit, the list, a deposit's printed receipt and the
large-cash report.

Printing a receipt shows the customer (masked) and is audit-logged
(``counter_deposit.receipt_printed``) in the unit that reads it; the list and one deposit
are read as the staff API reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from ewallet.audit.service import record_event
from ewallet.counter import repository
from ewallet.counter.views import DepositReceipt, DepositView, LargeCashView
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.kit.phone import mask_phone
from ewallet.models.counter import DepositStatus
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

SUBJECT: Final = "counter_deposit"
# One large-cash report covers at most this many days (a year and a day: leap years).
MAX_REPORT_DAYS: Final = 366
DEFAULT_REPORT_DAYS: Final = 31


async def get_deposit(services: Services, staff: StaffPrincipal, *, deposit_id: str) -> DepositView:
    """The deposit ``deposit_id``, or ``not_found``."""
    return await run_unit(services.engine, lambda uow: load(uow, deposit_id), read_only=True)


async def load(uow: UnitOfWork, deposit_id: str) -> DepositView:
    """The deposit ``deposit_id`` in the caller's unit, or ``not_found``."""
    deposit = await repository.load_deposit(await uow.connection(), deposit_id)
    if deposit is None:
        raise NotFoundError("no such counter deposit")
    return deposit


async def list_deposits(
    services: Services,
    staff: StaffPrincipal,
    *,
    status: DepositStatus | None,
    limit: int,
    cursor: str | None,
    teller_id: str | None = None,
) -> Page[DepositView]:
    """Deposits newest first, optionally of one ``status`` and of one teller (``teller_id``);
    ``next_cursor`` when more remain (``validation_failed`` for a limit out of range or a
    malformed cursor)."""
    limit = check_limit(limit)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[DepositView]:
        conn = await uow.connection()
        return await repository.list_deposits(
            conn, status=status, after=after, limit=limit + 1, teller_id=teller_id
        )

    found = await run_unit(services.engine, work, read_only=True)
    return newest_first_page(found, limit)


async def deposit_receipt(
    services: Services, staff: StaffPrincipal, *, deposit_id: str
) -> DepositReceipt:
    """What the deposit's receipt prints (``counter.receipts.receipt_pdf`` draws it), in
    any state: a waiting deposit's receipt says it is not credited yet. Audit-logged.

    Refusals: ``not_found``.
    """
    clock = services.clock

    async def work(uow: UnitOfWork) -> DepositReceipt:
        deposit = await load(uow, deposit_id)
        customer = await repository.customer(uow, deposit.user_id)
        now = clock.now()
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=staff.actor(),
            action="counter_deposit.receipt_printed",
            subject_type=SUBJECT,
            subject_id=deposit_id,
            details={"user_id": deposit.user_id, "status": deposit.status},
        )
        return DepositReceipt(
            deposit=deposit,
            customer_name_masked=customer.real_name_masked,
            phone_masked=mask_phone(deposit.phone),
            printed_at=now,
        )

    return await run_unit(services.engine, work)


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The Beijing days ``first``..``last`` (inclusive) as the UTC span [start, end).

    Large-cash reporting days are Beijing days (Asia/Shanghai, UTC+8, no daylight saving),
    as a report for regulators is asked for.
    """

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, CHINA_TIME)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, CHINA_TIME)


@dataclass(frozen=True, slots=True)
class LargeCashReport:
    window: ReportWindow
    records: list[LargeCashView]


async def large_cash_report(
    services: Services, staff: StaffPrincipal, *, first: date | None, last: date | None
) -> LargeCashReport:
    """Every large-cash record of the Beijing days ``first``..``last`` (inclusive; by
    default the last 31 days up to today), oldest first, with the deposit's status.

    ``validation_failed`` when ``first`` is after ``last`` or the span exceeds 366 days.
    """
    last = last or services.clock.now().astimezone(CHINA_TIME).date()
    first = first or last - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if first > last:
        raise ValidationFailedError("from must not be after to")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise ValidationFailedError(f"a report covers at most {MAX_REPORT_DAYS} days")
    window = ReportWindow(first, last)

    async def work(uow: UnitOfWork) -> list[LargeCashView]:
        conn = await uow.connection()
        return await repository.large_cash_between(conn, window.start, window.end)

    return LargeCashReport(window, await run_unit(services.engine, work, read_only=True))
