"""Paying and finishing payouts: steps 4 and 5 of the daily run (:mod:`.run`), and the
periodic job that finishes open payouts.

4. outside any transaction, the bank pays the account with the request id
   ``payout:<settlement id>`` (the bank never moves money twice for one id);
5. ``succeeded`` posts the hold, ``declined`` voids it (the amount is owed again, carried
   into the next day), ``unknown`` leaves the row ``pending`` with the money held.

An open row (a crash, a kill, a timeout) is asked about by request id and finished, or sent
again with the *same* id if the bank never saw it. Nobody is paid twice.
"""

from __future__ import annotations

import structlog

from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.integrations.bank.port import PayoutResult
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, UpstreamUnavailableError
from ewallet.ledger import PostHold, VoidHold, apply_command
from ewallet.models.settlement import SettlementStatus
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.settlement import repository
from ewallet.settlement.service.payout_accounts import _context
from ewallet.settlement.views import PayoutTarget, RunReport, SettlementView

log = structlog.get_logger("ewallet.settlement.service")


def request_id_of(settlement_id: str) -> str:
    return f"payout:{settlement_id}"


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
