"""The daily settlement run.

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

Steps 4 and 5, and finishing open rows, are :mod:`.payouts`.
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

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.money import DEFAULT_CURRENCY, Money
from ewallet.ledger import CreateHold, Hold, apply_command, chart
from ewallet.models.settlement import PartyKind, SettlementStatus
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.settlement import repository
from ewallet.settlement.errors import DayNotSettleableError
from ewallet.settlement.service.payouts import _finish_open, _pay, request_id_of
from ewallet.settlement.statements import FIRST_WINDOW_START
from ewallet.settlement.views import Party, PayoutTarget, RunReport, SettlementView

log = structlog.get_logger("ewallet.settlement.service")

# The first window of a party starts here: everything before its first settlement.
EPOCH: Final = FIRST_WINDOW_START
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
