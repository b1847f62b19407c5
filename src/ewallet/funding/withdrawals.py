"""Withdrawals to the owner's own card: hold, ask the bank, then post or void.

1. One unit of work records the withdrawal (``processing``) and holds the amount (wallet ->
   the card bank's settlement account) and the fee (wallet -> fee revenue). Not enough
   available balance refuses the whole unit: nothing is left behind.
2. Outside any transaction, the bank is asked to credit the card with the request id
   ``withdrawal:<id>`` (the bank never moves money twice for one id).
3. ``succeeded`` posts both holds; ``declined`` (or a refusal before anything happened)
   voids them and the withdrawal fails; ``unknown`` leaves it ``pending`` with the money
   held, for :func:`ewallet.funding.withdrawal_settle.settle_pending_withdrawals` to
   finish from the bank's records.

Finishing is idempotent: the status leaves ``processing``/``pending`` with a conditional
``UPDATE`` in the same unit as the ledger commands, so a withdrawal is posted (or voided)
at most once however often, or concurrently, it is settled.

Once the bank may have been asked, nothing escapes as a 500: if recording the answer fails
(a deadlock through every retry, the database gone), the withdrawal stays open with the
money held and is answered as such (``202``); the settle job finishes it from the bank's
records. The withdrawal keeps the request key of the request that made it
(:mod:`ewallet.kit.request_key`): a retry of that request finds it
(:func:`resume_withdrawal`) instead of paying out a second time.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.funding.withdrawal_fees import FeePolicy, FeeQuote, quote_for_user
from ewallet.identity.guards import locked_user
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.integrations.bank.port import BankGateway, CreditResult
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UpstreamUnavailableError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey, row_for_request
from ewallet.ledger import (
    CreateHold,
    Hold,
    Ledger,
    PostHold,
    TransactionKind,
    VoidHold,
    apply_command,
    chart,
)
from ewallet.models.identity import User
from ewallet.models.tables import cards, withdrawals
from ewallet.notify.service import notify_user
from ewallet.risk.spending import (
    AuthStrength,
    SpendChannel,
    SpendingPolicy,
    release_spend,
    reserve_spend,
)
from ewallet.security.context import SecurityContext

log = structlog.get_logger(__name__)


OPEN: Final = ("processing", "pending")


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    id: str
    user_id: str
    card_id: str
    amount: Money
    fee: Money
    status: str
    bank_reference: str | None
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None

    @property
    def total(self) -> Money:
        return self.amount + self.fee

    @property
    def is_open(self) -> bool:
        """Not final yet: the money is held until the bank's answer is known (``202``)."""
        return self.status in OPEN

    @classmethod
    def of(cls, row: Any) -> WithdrawalView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            card_id=row.card_id,
            amount=Money(row.amount, row.currency),
            fee=Money(row.fee, row.currency),
            status=row.status,
            bank_reference=row.bank_reference,
            failure_reason=row.failure_reason,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )


@dataclass(frozen=True, slots=True)
class WithdrawalServices:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    security: SecurityContext
    gateway: BankGateway
    policy: FeePolicy
    limits: SpendingPolicy


async def _active_card(uow: UnitOfWork, *, user_id: str, card_id: str) -> Any:
    conn = await uow.connection()
    row = (
        await conn.execute(
            select(cards).where(
                cards.c.id == card_id, cards.c.user_id == user_id, cards.c.status == "active"
            )
        )
    ).first()
    if row is None:
        raise NotFoundError("no such card")
    return row


async def preview_withdrawal(
    engine: AsyncEngine, policy: FeePolicy, *, user_id: str, card_id: str, amount: Money
) -> FeeQuote:
    """The fee the withdrawal would cost now; reads only."""

    async def work(uow: UnitOfWork) -> FeeQuote:
        await _active_card(uow, user_id=user_id, card_id=card_id)
        conn = await uow.connection()
        return await quote_for_user(conn, policy, user_id=user_id, amount=amount)

    return await run_unit(engine, work, read_only=True)


async def get_withdrawal(
    engine: AsyncEngine, *, withdrawal_id: str, user_id: str | None
) -> WithdrawalView:
    """The withdrawal ``withdrawal_id``; with ``user_id``, only that user's (else not_found)."""

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        statement = select(withdrawals).where(withdrawals.c.id == withdrawal_id)
        if user_id is not None:
            statement = statement.where(withdrawals.c.user_id == user_id)
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, work, read_only=True)
    if row is None:
        raise NotFoundError("no such withdrawal")
    return WithdrawalView.of(row)


async def withdrawal_for_request(
    engine: AsyncEngine, *, user_id: str, request_key: RequestKey | None
) -> WithdrawalView | None:
    """The withdrawal an earlier run of the same request made, if any."""
    row = await row_for_request(
        engine, withdrawals, owner="user_id", owner_id=user_id, request_key=request_key
    )
    return None if row is None else WithdrawalView.of(row)


async def resume_withdrawal(
    engine: AsyncEngine, *, user_id: str, request_key: RequestKey | None
) -> WithdrawalView | None:
    """A rerun of a request that made a withdrawal: its state now, never a second one.

    ``None`` when the request made none yet; raises ``bank_declined`` if it failed.
    """
    earlier = await withdrawal_for_request(engine, user_id=user_id, request_key=request_key)
    return None if earlier is None else _answer(earlier, earlier.failure_reason)


def _answer(withdrawal: WithdrawalView, reason: str | None) -> WithdrawalView:
    if withdrawal.status == "failed":
        raise BankDeclinedError(
            "the bank declined the withdrawal", reason=reason, withdrawal_id=withdrawal.id
        )
    return withdrawal


async def _hold_funds(
    services: WithdrawalServices,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: str | None = None,
) -> tuple[WithdrawalView, str]:
    """Record the withdrawal and its holds in one unit; returns it and the agreement token."""
    engine, ledger, clock = services.engine, services.ledger, services.clock

    card = await run_unit(
        engine, lambda uow: _active_card(uow, user_id=user_id, card_id=card_id), read_only=True
    )
    wallet = await chart.open_account(ledger, chart.wallet(user_id, amount.currency))
    bank = await chart.open_account(ledger, chart.bank_settlement(card.bank_code, amount.currency))
    revenue = await chart.open_account(ledger, chart.fee_revenue(amount.currency))
    withdrawal_id = new_id("wdr")

    async def work(uow: UnitOfWork) -> tuple[WithdrawalView, str]:
        conn = await uow.connection()
        # Step 1 of the global lock order (kit/db/locking.py), before the ledger's accounts:
        # one withdrawal at a time per user (the free quota); reserve_spend checks the freeze.
        user = await locked_user(uow, user_id)
        live = await _active_card(uow, user_id=user_id, card_id=card_id)
        quote = await quote_for_user(conn, services.policy, user_id=user_id, amount=amount)
        now = clock.now()
        await reserve_spend(
            uow,
            user_id=user_id,
            amount=amount,
            channel=SpendChannel.WITHDRAWAL,
            auth=AuthStrength.PIN,
            reference=f"withdrawal:{withdrawal_id}",
            now=now,
            policy=services.limits,
            locked=user,
        )
        await conn.execute(
            insert(withdrawals).values(
                id=withdrawal_id,
                user_id=user_id,
                card_id=card_id,
                amount=amount.minor,
                fee=quote.fee.minor,
                currency=amount.currency,
                status="processing",
                hold_id=None,
                fee_hold_id=None,
                bank_reference=None,
                failure_reason=None,
                request_key=request_key,
                created_at=now,
                updated_at=now,
                completed_at=None,
            )
        )
        metadata = {"withdrawal_id": withdrawal_id, "card_id": card_id}
        hold = await apply_command(
            uow,
            CreateHold(
                key=f"withdrawal:{withdrawal_id}:hold",
                kind=TransactionKind.WITHDRAWAL,
                debit_account_id=wallet.id,
                credit_account_id=bank.id,
                amount=amount,
                metadata=metadata,
            ),
            clock=clock,
        )
        assert isinstance(hold, Hold)
        fee_hold_id: str | None = None
        if quote.fee.is_positive():
            fee_hold = await apply_command(
                uow,
                CreateHold(
                    key=f"withdrawal:{withdrawal_id}:fee_hold",
                    kind=TransactionKind.FEE,
                    debit_account_id=wallet.id,
                    credit_account_id=revenue.id,
                    amount=quote.fee,
                    metadata=metadata,
                ),
                clock=clock,
            )
            assert isinstance(fee_hold, Hold)
            fee_hold_id = fee_hold.id
        await conn.execute(
            update(withdrawals)
            .where(withdrawals.c.id == withdrawal_id)
            .values(hold_id=hold.id, fee_hold_id=fee_hold_id)
        )
        row = (
            await conn.execute(select(withdrawals).where(withdrawals.c.id == withdrawal_id))
        ).one()
        return WithdrawalView.of(row), str(live.agreement_token_encrypted)

    return await run_unit(engine, work)


async def start_withdrawal(
    services: WithdrawalServices,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: RequestKey | None = None,
) -> WithdrawalView:
    """Hold, ask the bank, finish: ``succeeded``, open (``is_open``: answer ``202``) or
    raise ``bank_declined`` / ``upstream_unavailable`` (nothing paid out, money released).

    With ``request_key``, a rerun of the same request answers the withdrawal it made.
    """
    digest = None if request_key is None else request_key.digest
    try:
        withdrawal, token_encrypted = await _hold_funds(
            services, user_id=user_id, card_id=card_id, amount=amount, request_key=digest
        )
    except IntegrityError:
        # A concurrent run of the same request recorded it first: answer that one.
        earlier = await resume_withdrawal(services.engine, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    token = services.security.cipher.decrypt(token_encrypted, context=f"agreement:{card_id}")
    if request_key is not None:
        request_key.effect_possible()  # from here on, the key never goes back
    engine, clock = services.engine, services.clock
    try:
        result = await services.gateway.credit(
            agreement_token=token, amount=amount, request_id=f"withdrawal:{withdrawal.id}"
        )
    except (UpstreamUnavailableError, BankDeclinedError) as error:
        # Refused before anything could happen: release the money. After a 5xx the client
        # may retry with the same key, so the withdrawal lets go of it too.
        unreachable = isinstance(error, UpstreamUnavailableError)
        failed = fail_withdrawal(
            engine, clock, withdrawal.id, f"{error.code}: {error}", forget_request=unreachable
        )
        if not await _recorded(failed, withdrawal.id):
            return await _left_open(engine, clock, withdrawal, "unrecorded")
        if unreachable and request_key is not None:
            request_key.nothing_happened()
        raise
    except Exception:
        # Anything else may have reached the bank: keep the money held for settlement.
        log.exception("funding.withdrawal_bank_call_failed", withdrawal_id=withdrawal.id)
        return await _left_open(engine, clock, withdrawal, "unexpected_error")
    except BaseException:
        # Cancelled mid-call: the same, then let the cancellation go on.
        await _mark_pending(engine, clock, withdrawal.id, "unexpected_error")
        raise
    if not await _recorded(_apply_result(engine, clock, withdrawal.id, result), withdrawal.id):
        return await _left_open(engine, clock, withdrawal, "unrecorded")
    return _answer(await _state_now(engine, withdrawal), result.reason)


async def _recorded(step: Awaitable[None], withdrawal_id: str) -> bool:
    """Run a step recording the bank's answer; False (logged) if it could not be recorded.

    The bank may have paid: an error here must not become a 500 the client retries. The
    withdrawal stays open with the money held, and the settle job finishes it.
    """
    try:
        await step
    except Exception:
        log.exception("funding.withdrawal_unrecorded", withdrawal_id=withdrawal_id)
        return False
    return True


async def _left_open(
    engine: AsyncEngine, clock: Clock, withdrawal: WithdrawalView, reason: str
) -> WithdrawalView:
    """``pending`` if that can still be recorded (else it stays ``processing``, which the
    settle job also takes up once stale); the money stays held either way."""
    await _recorded(_mark_pending(engine, clock, withdrawal.id, reason), withdrawal.id)
    return await _state_now(engine, withdrawal)


async def _state_now(engine: AsyncEngine, withdrawal: WithdrawalView) -> WithdrawalView:
    """The withdrawal as stored now; if even that read fails, as still open."""
    try:
        return await get_withdrawal(engine, withdrawal_id=withdrawal.id, user_id=None)
    except Exception:
        log.exception("funding.withdrawal_unread", withdrawal_id=withdrawal.id)
        return replace(withdrawal, status="pending")


async def _apply_result(
    engine: AsyncEngine, clock: Clock, withdrawal_id: str, result: CreditResult
) -> None:
    if result.status == "succeeded":
        await succeed_withdrawal(engine, clock, withdrawal_id, result.bank_reference)
    elif result.status == "declined":
        await fail_withdrawal(engine, clock, withdrawal_id, result.reason or "declined")
    else:
        await _mark_pending(engine, clock, withdrawal_id, result.reason or "unknown")


async def _claim(uow: UnitOfWork, clock: Clock, withdrawal_id: str, **values: Any) -> Any:
    """Move an open withdrawal to its final state; None if someone else already did."""
    conn = await uow.connection()
    now = clock.now()
    claimed = await conn.execute(
        update(withdrawals)
        .where(withdrawals.c.id == withdrawal_id, withdrawals.c.status.in_(OPEN))
        .values({"updated_at": now, "completed_at": now, "failure_reason": None, **values})
    )
    if claimed.rowcount != 1:
        return None
    return (await conn.execute(select(withdrawals).where(withdrawals.c.id == withdrawal_id))).one()


async def _notify(uow: UnitOfWork, clock: Clock, row: Any, kind: str) -> None:
    user = await uow.session.get(User, row.user_id)
    assert user is not None
    view = WithdrawalView.of(row)
    amounts = {"amount": view.amount, "fee": view.fee}
    params = {k: v.to_decimal_string() for k, v in amounts.items()} | {"currency": row.currency}
    await notify_user(
        uow.session, clock=clock, user=user, kind=kind, params=params, sms=False, security=False
    )


async def succeed_withdrawal(
    engine: AsyncEngine, clock: Clock, withdrawal_id: str, bank_reference: str | None
) -> None:
    async def work(uow: UnitOfWork) -> None:
        row = await _claim(
            uow, clock, withdrawal_id, status="succeeded", bank_reference=bank_reference
        )
        if row is None:
            return
        metadata = {"withdrawal_id": withdrawal_id}
        await apply_command(
            uow,
            PostHold(
                key=f"withdrawal:{withdrawal_id}:post", hold_id=row.hold_id, metadata=metadata
            ),
            clock=clock,
        )
        if row.fee_hold_id is not None:
            await apply_command(
                uow,
                PostHold(
                    key=f"withdrawal:{withdrawal_id}:fee_post",
                    hold_id=row.fee_hold_id,
                    metadata=metadata,
                ),
                clock=clock,
            )
        await _notify(uow, clock, row, "withdrawal_succeeded")

    await run_unit(engine, work)
    log.info("funding.withdrawal_succeeded", withdrawal_id=withdrawal_id)


async def fail_withdrawal(
    engine: AsyncEngine,
    clock: Clock,
    withdrawal_id: str,
    reason: str,
    *,
    forget_request: bool = False,
) -> None:
    """Void the holds; ``forget_request`` also drops the request key (a retry starts anew)."""
    forget: dict[str, Any] = {"request_key": None} if forget_request else {}

    async def work(uow: UnitOfWork) -> None:
        row = await _claim(
            uow, clock, withdrawal_id, status="failed", failure_reason=reason[:200], **forget
        )
        if row is None:
            return
        for hold_id in (row.hold_id, row.fee_hold_id):
            if hold_id is not None:
                await apply_command(uow, VoidHold(hold_id=hold_id), clock=clock)
        # The money never left: the withdrawal no longer counts toward the daily limit.
        await release_spend(uow, reference=f"withdrawal:{withdrawal_id}", now=clock.now())
        await _notify(uow, clock, row, "withdrawal_failed")

    await run_unit(engine, work)
    log.info("funding.withdrawal_failed", withdrawal_id=withdrawal_id, reason=reason)


async def _mark_pending(engine: AsyncEngine, clock: Clock, withdrawal_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await conn.execute(
            update(withdrawals)
            .where(withdrawals.c.id == withdrawal_id, withdrawals.c.status == "processing")
            .values(status="pending", failure_reason=reason[:200], updated_at=clock.now())
        )

    await run_unit(engine, work)
    log.warning("funding.withdrawal_pending", withdrawal_id=withdrawal_id, reason=reason)
