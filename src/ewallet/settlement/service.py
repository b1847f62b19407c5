"""Settlement's use cases: payout accounts, the daily run, finishing payouts, statements.

The run for an Asia/Shanghai business day D (docs/settlement.md):

1. read every party (merchants and billers with a ledger account), what earlier rows still
   owe each one and where their last window ended, and the rows D already has;
2. for each party without a row for D: its window is ``[end of its last window, end of D)``
   (the first window starts at the beginning of time), and its *net* is the change of its
   ledger account in that window, payouts excluded -- computed from the ledger, so fees
   however booked are already taken off. ``payable = carried in + net``;
3. one unit per party: under the account's row lock, ``amount = min(payable, available)``;
   the row (unique per party and day) and, if ``amount > 0`` and the party has a payout
   account, a hold party -> the bank's settlement account are written together. Zero or
   less is carried forward, never paid;
4. outside any transaction, the bank pays the account with the request id
   ``payout:<settlement id>`` (the bank never moves money twice for one id);
5. ``succeeded`` posts the hold, ``declined`` voids it (the amount is owed again, carried
   into the next day), ``unknown`` leaves the row ``pending`` with the money held.

A rerun of D (after a crash, a kill, a timeout) finds D's rows: finished ones are left
alone; open ones are asked about by request id and finished, or sent again with the *same*
id if the bank never saw them. Nobody is paid twice.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.integrations.bank.port import PayoutResult
from ewallet.kit.bank_cards import lookup_card
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, UpstreamUnavailableError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import DEFAULT_CURRENCY, Money
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.ledger import CreateHold, Hold, PostHold, VoidHold, apply_command, chart
from ewallet.models.settlement import PartyKind, SettlementStatus
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.settlement import repository
from ewallet.settlement.errors import (
    DayNotSettleableError,
    PartyNotFoundError,
    PayoutAccountNotFoundError,
    SettlementNotFoundError,
)
from ewallet.settlement.statements import FIRST_WINDOW_START
from ewallet.settlement.views import (
    Party,
    PayoutAccountView,
    PayoutTarget,
    RunReport,
    SettlementView,
    Statement,
)

log = structlog.get_logger(__name__)

# The first window of a party starts here: everything before its first settlement.
EPOCH: Final = FIRST_WINDOW_START
MAX_HOLDER_NAME: Final = 64
DEFAULT_CONCURRENCY: Final = 8
Progress = Callable[[int, int], None]  # (done, total)


def day_window(day: date) -> tuple[datetime, datetime]:
    """The business day's bounds, Asia/Shanghai midnight to midnight, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=CHINA_TIME)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TIME)
    return start.astimezone(UTC), end.astimezone(UTC)


def due_day(now: datetime, delay_days: int) -> date:
    """The business day a run at ``now`` settles: today (Beijing) minus the delay (T+1)."""
    return now.astimezone(CHINA_TIME).date() - timedelta(days=max(delay_days, 1))


def request_id_of(settlement_id: str) -> str:
    return f"payout:{settlement_id}"


# ------------------------------------------------------------------------------ payout accounts


def _context(kind: str, party_id: str) -> str:
    return f"payout_account:{kind}:{party_id}"


async def set_payout_account(
    services: Services,
    actor: Actor,
    *,
    party_kind: PartyKind,
    party_id: str,
    account_number: str,
    holder_name: str,
) -> PayoutAccountView:
    """Register (or replace) where a merchant or biller is paid (audited:
    ``settlement.payout_account_set``, the number masked). Refusals: ``validation_error``
    (not a valid card/account number of a known bank -- kit's card checks --, or an empty
    name); ``not_found`` (no such merchant or biller)."""
    number, found = lookup_card(account_number)
    name = " ".join(holder_name.split())
    if not name or len(name) > MAX_HOLDER_NAME:
        raise ValidationFailedError("the account holder's name is required (up to 64 characters)")
    encrypted = services.security.cipher.encrypt(number, context=_context(party_kind, party_id))
    clock = services.clock

    async def work(uow: UnitOfWork) -> PayoutAccountView:
        conn = await uow.connection()
        if await repository.party_name(conn, party_kind, party_id) is None:
            raise PartyNotFoundError(f"no such {party_kind}")
        await repository.save_payout_account(
            conn,
            {
                "party_kind": str(party_kind),
                "party_id": party_id,
                "account_number_encrypted": encrypted,
                "last4": number[-4:],
                "holder_name": name,
                "bank_code": found.bank.code,
                "bank_name": found.bank.name,
                "updated_by": (actor.id or str(actor.type))[:64],
            },
            clock.now(),
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="settlement.payout_account_set",
            subject_type=str(party_kind),
            subject_id=party_id,
            details={"bank_code": found.bank.code, "last4": number[-4:], "holder_name": name},
        )
        view = await repository.payout_account(conn, party_kind, party_id)
        assert view is not None
        return view

    return await run_unit(services.engine, work)


async def get_payout_account(
    services: Services, *, party_kind: PartyKind, party_id: str
) -> PayoutAccountView:
    async def work(uow: UnitOfWork) -> PayoutAccountView | None:
        return await repository.payout_account(await uow.connection(), party_kind, party_id)

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise PayoutAccountNotFoundError("no payout account registered")
    return view


# ------------------------------------------------------------------------------ the run


@dataclass(frozen=True, slots=True)
class _Plan:
    party: Party
    start: datetime
    net: int
    carried_in: int
    gross: int
    refunds: int
    fees: int
    payments: int
    target: PayoutTarget | None


async def run_settlement(
    services: Services,
    *,
    day: date,
    currency: str = DEFAULT_CURRENCY,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> RunReport:
    """Settle ``day`` for every merchant and biller (module doc); safe to rerun and to
    resume after a kill. ``concurrency`` parties are paid at a time. Refusal: ``conflict``
    if the day has not ended yet."""
    _start, end = day_window(day)
    if services.clock.now() < end:
        raise DayNotSettleableError(f"the business day {day} has not ended yet")
    report = RunReport(day=day)

    async def read(uow: UnitOfWork) -> tuple[list[_Plan], list[SettlementView]]:
        return await _plans(await uow.connection(), day, end, currency, report)

    plans, existing = await run_unit(services.engine, read, read_only=True)
    report.parties = len(plans) + len(existing)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, report.parties)

    for row in existing:
        if row.is_open:
            await _finish_open(services, row, report)
        else:
            report.already_done.append(row.id)
        step()
    # A few parties at a time: their bank calls overlap; each party's steps stay in order.
    pending_plans = iter(plans)

    async def worker() -> None:
        for plan in pending_plans:
            try:
                await _settle_party(
                    services, plan, day=day, end=end, currency=currency, report=report
                )
            except Exception:
                # One party's failure (a lost connection, a refused hold) must not stop the
                # others: its row, if any, is open and the next run finishes it.
                log.exception("settlement.party_failed", party=f"{plan.party.kind}:{plan.party.id}")
                report.errors.append(f"{plan.party.kind}:{plan.party.id}")
            step()

    # SQLite has one writer at a time: parallel parties would only queue for its lock.
    workers = 1 if services.engine.dialect.name == "sqlite" else max(1, concurrency)
    await asyncio.gather(*(worker() for _ in range(workers)))
    log.info("settlement.run", day=day.isoformat(), **report.counts())
    return report


async def _plans(
    conn: AsyncConnection, day: date, end: datetime, currency: str, report: RunReport
) -> tuple[list[_Plan], list[SettlementView]]:
    """What the run must do: new parties' plans (module doc, step 2) and the day's rows."""
    everyone = await repository.parties(conn, currency)
    prior = await repository.prior_settlements(conn, day)
    later = await repository.settled_after(conn, day)
    existing = await repository.rows_for_day(conn, day)
    targets = await repository.payout_targets(conn)
    fresh: list[Party] = []
    for party in everyone:
        key = (party.kind, party.id)
        if key in existing:
            continue
        if key in later:
            report.skipped.append(f"{party.kind}:{party.id}")
            continue
        fresh.append(party)
    by_start: dict[datetime, list[Party]] = defaultdict(list)
    for party in fresh:
        earlier = prior.get((party.kind, party.id))
        by_start[EPOCH if earlier is None else earlier.period_end].append(party)
    plans = []
    for window_start, group in by_start.items():
        activity = await repository.window_activity(
            conn, [party.account_id for party in group], window_start, end
        )
        merchant_ids = [p.id for p in group if p.kind == PartyKind.MERCHANT]
        biller_ids = [p.id for p in group if p.kind == PartyKind.BILLER]
        merchant_totals = await repository.merchant_totals(conn, merchant_ids, window_start, end)
        biller_totals = await repository.biller_totals(conn, biller_ids, window_start, end)
        totals = {(PartyKind.MERCHANT.value, k): v for k, v in merchant_totals.items()}
        totals.update({(PartyKind.BILLER.value, k): v for k, v in biller_totals.items()})
        for party in group:
            moved = activity.get(party.account_id)
            earlier = prior.get((party.kind, party.id))
            owed = 0 if earlier is None else earlier.owed
            if moved is None and owed <= 0:
                continue  # nothing happened and nothing is owed: no row, no statement
            total = totals.get((party.kind, party.id), repository.Totals())
            plans.append(
                _Plan(
                    party=party,
                    start=window_start,
                    net=0 if moved is None else moved.net,
                    carried_in=owed,
                    gross=total.gross,
                    refunds=total.refunds,
                    fees=total.fees,
                    payments=total.payments,
                    target=targets.get((party.kind, party.id)),
                )
            )
    return plans, list(existing.values())


async def _settle_party(
    services: Services,
    plan: _Plan,
    *,
    day: date,
    end: datetime,
    currency: str,
    report: RunReport,
) -> None:
    party = plan.party
    clock = services.clock
    settlement_id = new_id("stl")
    payable = plan.carried_in + plan.net

    target = plan.target
    bank_account = None
    if target is not None and payable > 0:
        bank_account = await chart.account_id(
            services.ledger, chart.bank_settlement(target.bank_code, currency)
        )

    async def create(uow: UnitOfWork) -> SettlementView:
        conn = await uow.connection()
        now = clock.now()
        amount = 0
        reason = None
        if payable > 0 and target is None:
            reason = "no_payout_account"
        elif payable > 0:
            amount = min(payable, await repository.locked_available(conn, party.account_id))
        paying = amount > 0 and target is not None
        await repository.insert_settlement(
            conn,
            {
                "id": settlement_id,
                "party_kind": party.kind,
                "party_id": party.id,
                "business_day": day.isoformat(),
                "currency": currency,
                "period_start": plan.start,
                "period_end": end,
                "gross": plan.gross,
                "refunds": plan.refunds,
                "fees": plan.fees,
                "net": plan.net,
                "carried_in": plan.carried_in,
                "amount": amount if paying else 0,
                "status": SettlementStatus.PROCESSING if paying else SettlementStatus.CARRIED,
                "bank_request_id": request_id_of(settlement_id) if paying else None,
                "bank_code": None if target is None else target.bank_code,
                "account_last4": None if target is None else target.last4,
                "failure_reason": reason,
                "created_at": now,
                "updated_at": now,
                "finished_at": None if paying else now,
            },
        )
        if paying:
            assert bank_account is not None
            hold = await apply_command(
                uow,
                CreateHold(
                    key=f"settlement:{settlement_id}:hold",
                    kind=repository.PAYOUT_KIND,
                    debit_account_id=party.account_id,
                    credit_account_id=bank_account,
                    amount=Money(amount, currency),
                    metadata={"settlement_id": settlement_id, "business_day": day.isoformat()},
                ),
                clock=clock,
            )
            assert isinstance(hold, Hold)
            await repository.set_hold(conn, settlement_id, hold.id)
        loaded = await repository.load(conn, settlement_id)
        assert loaded is not None
        return loaded

    try:
        row = await run_unit(services.engine, create)
    except IntegrityError:
        # Another run made the row first (unique per party and day): it pays, not us.
        report.already_done.append(f"{party.kind}:{party.id}")
        return
    report.payments += plan.payments
    if row.status == SettlementStatus.CARRIED:
        report.carried.append(row.id)
        return
    assert target is not None
    await _pay(services, row, target, report)


async def _pay(
    services: Services, row: SettlementView, target: PayoutTarget, report: RunReport
) -> None:
    """Ask the bank once and record its answer (module doc, steps 4-5)."""
    assert row.bank_request_id is not None
    number = services.security.cipher.decrypt(
        target.account_number_encrypted, context=_context(row.party_kind, row.party_id)
    )
    try:
        result = await services.bank.payout(
            account_number=number,
            holder_name=target.holder_name,
            amount=row.amount,
            request_id=row.bank_request_id,
        )
    except BankDeclinedError as error:
        await fail_payout(services, row.id, f"{error.code}: {error}")
        report.failed.append(row.id)
        return
    except UpstreamUnavailableError as error:
        # Nothing reached the bank; the money stays held and the next run sends it again
        # with the same request id.
        await _mark_pending(services, row.id, f"{error.code}: {error}")
        report.pending.append(row.id)
        return
    except Exception:
        log.exception("settlement.bank_call_failed", settlement_id=row.id)
        await _mark_pending(services, row.id, "unexpected_error")
        report.pending.append(row.id)
        return
    except BaseException:
        await _mark_pending(services, row.id, "unexpected_error")
        raise
    await _apply(services, row, result, report)


async def _apply(
    services: Services, row: SettlementView, result: PayoutResult, report: RunReport
) -> None:
    if result.status == "succeeded":
        await succeed_payout(services, row.id, result.bank_reference)
        report.paid.append(row.id)
        report.paid_total += row.amount.minor
    elif result.status == "declined":
        await fail_payout(services, row.id, result.reason or "declined")
        report.failed.append(row.id)
    else:
        await _mark_pending(services, row.id, result.reason or "unknown")
        report.pending.append(row.id)


async def _finish_open(services: Services, row: SettlementView, report: RunReport) -> None:
    """An open payout of an earlier run: finish it from the bank's record, or send it again
    with the same request id if the bank never saw it."""
    assert row.bank_request_id is not None
    try:
        answer = await services.bank.query(request_id=row.bank_request_id)
    except DomainError as error:
        log.warning("settlement.query_failed", settlement_id=row.id, code=error.code)
        report.errors.append(row.id)
        return
    if answer.status == "succeeded":
        await succeed_payout(services, row.id, answer.bank_reference)
        report.paid.append(row.id)
        report.paid_total += row.amount.minor
        return
    if answer.status == "declined":
        await fail_payout(services, row.id, answer.reason or "declined")
        report.failed.append(row.id)
        return

    async def target_of(uow: UnitOfWork) -> PayoutTarget | None:
        return await repository.payout_target(await uow.connection(), row.party_kind, row.party_id)

    target = await run_unit(services.engine, target_of, read_only=True)
    if target is None or target.last4 != row.account_last4:
        # The account changed since the row was made: never pay a different account under
        # the same request id; release the money, it is owed again next day.
        await fail_payout(services, row.id, "payout_account_changed")
        report.failed.append(row.id)
        return
    await _pay(services, row, target, report)


async def settle_open_payouts(services: Services, *, limit: int = 500) -> RunReport:
    """Finish every open payout (of any day) from the bank's records; the periodic query
    job, as withdrawals have theirs. Safe to repeat and to race with a run."""

    async def open_ones(uow: UnitOfWork) -> list[SettlementView]:
        return await repository.open_settlements(await uow.connection(), limit=limit)

    rows = await run_unit(services.engine, open_ones, read_only=True)
    report = RunReport(day=services.clock.now().astimezone(CHINA_TIME).date())
    report.parties = len(rows)
    for row in rows:
        await _finish_open(services, row, report)
    return report


# ------------------------------------------------------------------------------ finishing


async def succeed_payout(
    services: Services, settlement_id: str, bank_reference: str | None
) -> None:
    """The bank paid: post the hold (once; a no-op if already final)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        claimed = await repository.claim_final(
            await uow.connection(),
            settlement_id,
            status=SettlementStatus.PAID,
            now=clock.now(),
            bank_reference=bank_reference,
        )
        if claimed is None or claimed.hold_id is None:
            return
        await apply_command(
            uow,
            PostHold(
                key=f"settlement:{settlement_id}:post",
                hold_id=claimed.hold_id,
                metadata={"settlement_id": settlement_id},
            ),
            clock=clock,
        )

    await run_unit(services.engine, work)
    log.info("settlement.paid", settlement_id=settlement_id)


async def fail_payout(services: Services, settlement_id: str, reason: str) -> None:
    """The bank refused: void the hold (the amount is owed again); once."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        claimed = await repository.claim_final(
            await uow.connection(),
            settlement_id,
            status=SettlementStatus.FAILED,
            now=clock.now(),
            failure_reason=reason[:200],
        )
        if claimed is None or claimed.hold_id is None:
            return
        await apply_command(uow, VoidHold(hold_id=claimed.hold_id), clock=clock)

    await run_unit(services.engine, work)
    log.warning("settlement.failed", settlement_id=settlement_id, reason=reason)


async def _mark_pending(services: Services, settlement_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        await repository.mark_pending(
            await uow.connection(), settlement_id, reason=reason, now=services.clock.now()
        )

    await run_unit(services.engine, work)
    log.warning("settlement.pending", settlement_id=settlement_id, reason=reason)


# ------------------------------------------------------------------------------ reading


async def list_settlements(
    services: Services,
    *,
    party_kind: PartyKind,
    party_id: str,
    limit: int,
    cursor: str | None = None,
) -> Page[SettlementView]:
    """The party's settlements, newest business day first (``?limit=&cursor=``)."""
    check_limit(limit)
    before = None
    if cursor is not None:
        position = decode_cursor(cursor)
        day, last_id = position.get("d"), position.get("i")
        if not isinstance(day, str) or not isinstance(last_id, str):
            raise ValidationFailedError("malformed cursor")
        before = (day, last_id)

    async def work(uow: UnitOfWork) -> list[SettlementView]:
        conn = await uow.connection()
        return await repository.page_for_party(
            conn, party_kind, party_id, limit=limit + 1, before=before
        )

    rows = await run_unit(services.engine, work, read_only=True)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"d": last.business_day.isoformat(), "i": last.id})
    return Page(items=items, next_cursor=next_cursor)


async def get_settlement(
    services: Services, *, party_kind: PartyKind, party_id: str, settlement_id: str
) -> SettlementView:
    """The party's settlement ``settlement_id``; ``not_found`` for anyone else's."""

    async def work(uow: UnitOfWork) -> SettlementView | None:
        return await repository.load(
            await uow.connection(), settlement_id, party=(party_kind, party_id)
        )

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise SettlementNotFoundError("no such settlement")
    return found


async def settlement_by_id(services: Services, settlement_id: str) -> SettlementView | None:
    """Any settlement by id (staff tools, reconciliation)."""

    async def work(uow: UnitOfWork) -> SettlementView | None:
        return await repository.load(await uow.connection(), settlement_id)

    return await run_unit(services.engine, work, read_only=True)


async def paid_between(services: Services, start: datetime, end: datetime) -> list[SettlementView]:
    """Payouts finished as paid in ``[start, end)``: reconciliation checks them with the bank."""

    async def work(uow: UnitOfWork) -> list[SettlementView]:
        return await repository.paid_on(await uow.connection(), start, end)

    return await run_unit(services.engine, work, read_only=True)


async def get_statement(
    services: Services, *, party_kind: PartyKind, party_id: str, settlement_id: str
) -> Statement:
    """The settlement with its payments and refunds, for the CSV and PDF statements."""

    async def work(uow: UnitOfWork) -> Statement:
        conn = await uow.connection()
        row = await repository.load(conn, settlement_id, party=(party_kind, party_id))
        if row is None:
            raise SettlementNotFoundError("no such settlement")
        name = await repository.party_name(conn, party_kind, party_id) or party_id
        lines = []
        if party_kind == PartyKind.MERCHANT:
            lines = await repository.statement_lines(
                conn, party_id, row.period_start, row.period_end
            )
        return Statement(settlement=row, party_name=name, lines=lines)

    return await run_unit(services.engine, work, read_only=True)
