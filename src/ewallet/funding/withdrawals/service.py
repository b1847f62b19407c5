"""Withdrawals to the owner's own card: hold, ask the bank, then post or void.

:func:`withdraw` is the whole use case (API.md ``POST /v1/withdrawals``):

1. a rerun of a request that already made its withdrawal answers it
   (:func:`resume_withdrawal`) -- before the PIN, so a retry costs no attempt;
2. the payment password (``require_payment_password``, :mod:`ewallet.identity.payment_password`);
3. one unit of work locks the user (step 1 of the lock order, docs/architecture.md: one
   withdrawal at a time per user, for the free quota), checks the card, quotes the fee,
   admits the spend through the spend seam (:func:`ewallet.spend.service.admit_spend`:
   the freeze, the limits, risk), records the withdrawal (``processing``) and holds the
   amount (wallet -> the card bank's settlement account, :func:`~ewallet.spend.service.book_spend`)
   and the fee (wallet -> fee revenue, a second ledger command in the same unit). Not
   enough available balance refuses the whole unit: nothing is left behind;
4. outside any transaction, the bank is asked to credit the card with the request id
   ``withdrawal:<id>`` (the bank never moves money twice for one id);
5. ``succeeded`` posts both holds; ``declined`` (or a refusal before anything happened)
   voids them and the withdrawal fails; ``unknown`` leaves it ``pending`` with the money
   held, for :func:`ewallet.funding.withdrawals.jobs.settle_pending_withdrawals` to finish
   from the bank's records.

Risk control may hold a withdrawal for review at step 3 (docs/risk-review.md): the amount's
hold is then the review's hold, the fee is held as usual, the withdrawal is written
``under_review`` and step 4 does not happen -- the answer is ``202 under_review``. A risk
officer's decision finishes it (:mod:`ewallet.funding.withdrawals.review`): rejected, both
holds are voided; approved, the bank is asked after the decision commits, by the outbox
worker, and from step 4 on it is a withdrawal like any other. A risk challenge at step 3
answers ``401 step_up_required``; the request brought back with the passed
``challenge_id`` goes through (:func:`ewallet.spend.service.run_spend_unit`).

Finishing is idempotent: the status leaves ``processing``/``pending`` with a conditional
``UPDATE`` in the same unit as the ledger commands, so a withdrawal is posted (or voided)
at most once however often, or concurrently, it is settled.

Once the bank may have been asked, nothing escapes as a 500: if recording the answer fails
(a deadlock through every retry, the database gone), the withdrawal stays open with the
money held and is answered as such (``202``); the settle job finishes it from the bank's
records. The withdrawal keeps the request key of the request that made it
(:mod:`ewallet.kit.request_key`): a retry of that request finds it instead of paying out a
second time.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.funding.withdrawals import repository
from ewallet.funding.withdrawals.fee_hold import hold_fee
from ewallet.funding.withdrawals.fees import FeePolicy, FeeQuote, quota_remaining, quote_fee
from ewallet.funding.withdrawals.notices import tell_owner
from ewallet.funding.withdrawals.review import finish_reviewed_withdrawal
from ewallet.funding.withdrawals.views import (
    PayoutCard,
    WithdrawalOptions,
    WithdrawalQuote,
    WithdrawalView,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.runtime import Caller
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.integrations.bank.port import CreditResult
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UpstreamUnavailableError
from ewallet.kit.ids import new_id
from ewallet.kit.money import DEFAULT_CURRENCY, Money
from ewallet.kit.request_key import RequestKey, row_for_request
from ewallet.ledger import (
    CreateHold,
    Hold,
    PostHold,
    TransactionKind,
    VoidHold,
    apply_command,
    chart,
)
from ewallet.models.funding import WithdrawalStatus
from ewallet.models.tables import withdrawals
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.services import Services
from ewallet.spend.service import (
    Held,
    ReviewTerms,
    SpendRequest,
    admit_spend,
    book_spend,
    run_spend_unit,
)

log = structlog.get_logger(__name__)

__all__ = ["finish_reviewed_withdrawal"]  # the review queue's finisher (module doc)


# ------------------------------------------------------------------------------ reading


async def preview_withdrawal(
    services: Services, user_id: str, *, card_id: str, amount: Money
) -> FeeQuote:
    """The fee the withdrawal would cost now (``not_found``: no such active card); reads only."""
    return (await quote_withdrawal(services, user_id, card_id=card_id, amount=amount)).quote


async def quote_withdrawal(
    services: Services, user_id: str, *, card_id: str, amount: Money
) -> WithdrawalQuote:
    """The preview with its card and the wallet's available balance, in one read: what a
    confirmation page shows before the payment password (``not_found``: no such active
    card of the caller's). The fee is :func:`preview_withdrawal`'s, the one charged."""
    policy = FeePolicy.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> WithdrawalQuote:
        conn = await uow.connection()
        cards = await repository.active_cards(conn, user_id=user_id)
        choice = next((card for card in cards if card.id == card_id), None)
        if choice is None:
            raise NotFoundError("no such card")
        used = await repository.quota_used(conn, user_id=user_id, currency=amount.currency)
        quote = quote_fee(policy, amount=amount, quota_used_minor=used)
        available = await repository.available(conn, user_id=user_id, currency=amount.currency)
        return WithdrawalQuote(quote=quote, card=choice, available=available)

    return await run_unit(services.engine, work, read_only=True)


async def withdrawal_options(
    services: Services, user_id: str, *, currency: str = DEFAULT_CURRENCY
) -> WithdrawalOptions:
    """What a withdrawal form offers the user now: their active cards, the wallet's
    available balance, the free quota left and the fee rule above it (:mod:`.fees`).
    Reads only."""
    policy = FeePolicy.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> WithdrawalOptions:
        conn = await uow.connection()
        choices = await repository.active_cards(conn, user_id=user_id)
        used = await repository.quota_used(conn, user_id=user_id, currency=currency)
        available = await repository.available(conn, user_id=user_id, currency=currency)
        remaining = Money(quota_remaining(policy, quota_used_minor=used), currency)
        return WithdrawalOptions(
            cards=choices,
            available=available,
            free_quota_remaining=remaining,
            fee_rate=policy.rate,
            min_fee=Money(policy.min_fee_minor, currency),
        )

    return await run_unit(services.engine, work, read_only=True)


async def get_withdrawal(services: Services, user_id: str, *, withdrawal_id: str) -> WithdrawalView:
    """The caller's withdrawal ``withdrawal_id``; ``not_found`` for any other."""
    withdrawal = await _load(services, withdrawal_id, user_id=user_id)
    if withdrawal is None:
        raise NotFoundError("no such withdrawal")
    return withdrawal


async def _load(
    services: Services, withdrawal_id: str, *, user_id: str | None = None
) -> WithdrawalView | None:
    async def work(uow: UnitOfWork) -> WithdrawalView | None:
        conn = await uow.connection()
        return await repository.load_withdrawal(conn, withdrawal_id, user_id=user_id)

    return await run_unit(services.engine, work, read_only=True)


async def resume_withdrawal(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> WithdrawalView | None:
    """A rerun of a request that made a withdrawal: its state now, never a second one.

    ``None`` when the request made none yet; raises ``bank_declined`` if it failed.
    """
    row = await row_for_request(
        services.engine, withdrawals, owner="user_id", owner_id=user_id, request_key=request_key
    )
    if row is None:
        return None
    earlier = await _stored(services, row.id)  # with its review's due time, if held
    return _answer(earlier, earlier.failure_reason)


def _answer(withdrawal: WithdrawalView, reason: str | None) -> WithdrawalView:
    if withdrawal.status == WithdrawalStatus.FAILED:
        raise BankDeclinedError(
            "the bank declined the withdrawal", reason=reason, withdrawal_id=withdrawal.id
        )
    return withdrawal


# ------------------------------------------------------------------------------ the use case


async def withdraw(
    services: Services,
    user_id: str,
    actor: Actor,
    *,
    card_id: str,
    amount: Money,
    payment_password: str,
    caller: Caller,
    request_key: RequestKey | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
) -> WithdrawalView:
    """Hold, ask the bank, finish: ``succeeded``, or open (``is_open``: answer ``202``), or
    held for a risk officer (``under_review``: ``202 under_review``, the bank not asked).

    ``caller`` is where the request came from (a risk challenge is sent to them:
    ``step_up_required``), ``device_id`` the session's device (risk reads it) and
    ``challenge_id`` the step-up the user passed for this withdrawal.

    Refusals, in order: a rerun of the same request answers the withdrawal it made
    (raising ``bank_declined`` if it failed) before anything else; the PIN check's refusals
    (``account_frozen``, ``payment_password_not_set``/``_locked``/``_invalid``);
    ``not_found`` (no such active card of the caller's); ``account_frozen`` and
    ``limit_exceeded`` (the spend seam, under the user's lock); ``insufficient_balance``;
    then ``bank_declined`` / ``upstream_unavailable`` (nothing paid out, the money released;
    after ``upstream_unavailable`` the request key is let go, so the retry starts anew).
    """
    earlier = await resume_withdrawal(services, user_id=user_id, request_key=request_key)
    if earlier is not None:
        return earlier
    await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)
    withdrawal_id = new_id("wdr")
    spend = SpendRequest(
        user_id=user_id,
        amount=amount,
        channel=SpendChannel.WITHDRAWAL,
        auth=AuthStrength.PIN,
        reference=f"withdrawal:{withdrawal_id}",
        device_id=device_id,
        challenge_id=challenge_id,
    )
    return await _pay_out(
        services, spend, withdrawal_id, card_id=card_id, caller=caller, request_key=request_key
    )


async def _active_card(uow: UnitOfWork, *, user_id: str, card_id: str) -> PayoutCard:
    card = await repository.active_card(await uow.connection(), user_id=user_id, card_id=card_id)
    if card is None:
        raise NotFoundError("no such card")
    return card


@dataclass(frozen=True, slots=True)
class _Held:
    withdrawal: WithdrawalView
    token_encrypted: str


async def _hold_funds(
    services: Services,
    spend: SpendRequest,
    withdrawal_id: str,
    *,
    card_id: str,
    caller: Caller,
    request_key: str | None,
) -> _Held:
    """Record the withdrawal and its holds in one unit (module doc, step 3), waiting
    ``under_review`` if risk control holds it."""
    engine, ledger, clock = services.engine, services.ledger, services.clock
    user_id, amount = spend.user_id, spend.amount
    card = await run_unit(
        engine, lambda uow: _active_card(uow, user_id=user_id, card_id=card_id), read_only=True
    )
    wallet = await chart.open_account(ledger, chart.wallet(user_id, amount.currency))
    bank = await chart.open_account(ledger, chart.bank_settlement(card.bank_code, amount.currency))
    revenue = await chart.open_account(ledger, chart.fee_revenue(amount.currency))
    fees = FeePolicy.from_settings(services.settings)
    limits = SpendingPolicy.from_settings(services.settings)
    review = ReviewTerms(
        withdrawal_id, timedelta(minutes=services.settings.risk_review_sla_minutes)
    )

    async def work(uow: UnitOfWork) -> _Held:
        conn = await uow.connection()
        # Step 1 of the global lock order, before the ledger's accounts: one withdrawal at a
        # time per user (the free quota); the spend seam checks the freeze under it.
        user = await locked_user(uow, user_id)
        live = await _active_card(uow, user_id=user_id, card_id=card_id)
        used = await repository.quota_used(conn, user_id=user_id, currency=amount.currency)
        quote = quote_fee(fees, amount=amount, quota_used_minor=used)
        now = clock.now()
        admission = await admit_spend(
            uow, spend, now=now, policy=limits, locked=user, keeps_held=True
        )
        await repository.insert_withdrawal(
            conn,
            withdrawal_id=withdrawal_id,
            user_id=user_id,
            card_id=card_id,
            amount=amount,
            fee=quote.fee,
            request_key=request_key,
            now=now,
        )
        metadata = {"withdrawal_id": withdrawal_id, "card_id": card_id}
        booked = await book_spend(
            uow,
            admission,
            CreateHold(
                key=f"withdrawal:{withdrawal_id}:hold",
                kind=TransactionKind.WITHDRAWAL,
                debit_account_id=wallet.id,
                credit_account_id=bank.id,
                amount=amount,
                metadata=metadata,
            ),
            clock=clock,
            review=review,
        )
        # Held for review, the amount's hold is the review's: the same accounts and amount.
        hold = booked.hold if isinstance(booked, Held) else booked.booked
        assert isinstance(hold, Hold)
        fee_hold_id = await hold_fee(
            uow,
            key=f"withdrawal:{withdrawal_id}:fee_hold",
            wallet_id=wallet.id,
            revenue_id=revenue.id,
            fee=quote.fee,
            metadata=metadata,
            clock=clock,
        )
        under_review = isinstance(booked, Held)
        withdrawal = await repository.set_holds(
            conn,
            withdrawal_id,
            hold_id=hold.id,
            fee_hold_id=fee_hold_id,
            under_review=under_review,
            review_id=booked.review.id if isinstance(booked, Held) and booked.review else None,
        )
        if under_review:
            due = withdrawal.review_due_at
            shown = "" if due is None else due.isoformat(timespec="minutes")
            await tell_owner(uow, clock, withdrawal, "withdrawal_under_review", due=shown)
        return _Held(withdrawal, str(live.agreement_token_encrypted))

    return await run_spend_unit(services, work, caller=caller)


async def _pay_out(
    services: Services,
    spend: SpendRequest,
    withdrawal_id: str,
    *,
    card_id: str,
    caller: Caller,
    request_key: RequestKey | None,
) -> WithdrawalView:
    """Hold, ask the bank once, record its answer (module doc, steps 3-5)."""
    digest = None if request_key is None else request_key.digest
    try:
        held = await _hold_funds(
            services, spend, withdrawal_id, card_id=card_id, caller=caller, request_key=digest
        )
    except IntegrityError:
        # A concurrent run of the same request recorded it first: answer that one.
        earlier = await resume_withdrawal(services, user_id=spend.user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # from here on, the key never goes back
    if held.withdrawal.under_review:
        return held.withdrawal  # the bank is asked only once a risk officer approves it
    return await ask_bank(services, held.withdrawal, held.token_encrypted, request_key=request_key)


async def ask_bank(
    services: Services,
    withdrawal: WithdrawalView,
    token_encrypted: str,
    *,
    request_key: RequestKey | None = None,
) -> WithdrawalView:
    """Ask the bank to credit the card, once, with the request id ``withdrawal:<id>``, and
    record its answer (module doc, steps 4-5): the withdrawal's state after. The bank's
    refusal before anything happened raises after the money is released
    (``bank_declined``, ``upstream_unavailable``; after the latter ``request_key``, if
    given, is let go so a retry starts anew)."""
    amount, card_id = withdrawal.amount, withdrawal.card_id
    token = services.security.cipher.decrypt(token_encrypted, context=f"agreement:{card_id}")
    try:
        result = await services.bank.credit(
            agreement_token=token, amount=amount, request_id=f"withdrawal:{withdrawal.id}"
        )
    except (UpstreamUnavailableError, BankDeclinedError) as error:
        # Refused before anything could happen: release the money. After a 5xx the client
        # may retry with the same key, so the withdrawal lets go of it too (an approved
        # one, asked by the worker, keeps it: its request was answered long ago).
        unreachable = isinstance(error, UpstreamUnavailableError)
        forget = unreachable and request_key is not None
        failed = fail_withdrawal(
            services, withdrawal.id, f"{error.code}: {error}", forget_request=forget
        )
        if not await _recorded(failed, withdrawal.id):
            return await _left_open(services, withdrawal, "unrecorded")
        if unreachable and request_key is not None:
            request_key.nothing_happened()
        raise
    except Exception:
        # Anything else may have reached the bank: keep the money held for settlement.
        log.exception("funding.withdrawal_bank_call_failed", withdrawal_id=withdrawal.id)
        return await _left_open(services, withdrawal, "unexpected_error")
    except BaseException:
        # Cancelled mid-call: the same, then let the cancellation go on.
        await _mark_pending(services, withdrawal.id, "unexpected_error")
        raise
    if not await _recorded(_apply_result(services, withdrawal.id, result), withdrawal.id):
        return await _left_open(services, withdrawal, "unrecorded")
    return _answer(await _state_now(services, withdrawal), result.reason)


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


async def _left_open(services: Services, withdrawal: WithdrawalView, reason: str) -> WithdrawalView:
    """``pending`` if that can still be recorded (else it stays ``processing``, which the
    settle job also takes up once stale); the money stays held either way."""
    await _recorded(_mark_pending(services, withdrawal.id, reason), withdrawal.id)
    return await _state_now(services, withdrawal)


async def _state_now(services: Services, withdrawal: WithdrawalView) -> WithdrawalView:
    """The withdrawal as stored now; if even that read fails, as still open."""
    try:
        return await _stored(services, withdrawal.id)
    except Exception:
        log.exception("funding.withdrawal_unread", withdrawal_id=withdrawal.id)
        return replace(withdrawal, status=WithdrawalStatus.PENDING)


async def _stored(services: Services, withdrawal_id: str) -> WithdrawalView:
    withdrawal = await _load(services, withdrawal_id)
    if withdrawal is None:
        raise NotFoundError("no such withdrawal")
    return withdrawal


async def _apply_result(services: Services, withdrawal_id: str, result: CreditResult) -> None:
    if result.status == "succeeded":
        await succeed_withdrawal(services, withdrawal_id, result.bank_reference)
    elif result.status == "declined":
        await fail_withdrawal(services, withdrawal_id, result.reason or "declined")
    else:
        await _mark_pending(services, withdrawal_id, result.reason or "unknown")


# ------------------------------------------------------------------------------ finishing


async def succeed_withdrawal(
    services: Services, withdrawal_id: str, bank_reference: str | None
) -> None:
    """The bank paid the card: post both holds and tell the owner (once; a no-op if the
    withdrawal is already final)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        claimed = await repository.claim_final(
            await uow.connection(),
            withdrawal_id,
            status=WithdrawalStatus.SUCCEEDED,
            now=clock.now(),
            bank_reference=bank_reference,
        )
        if claimed is None:
            return
        metadata = {"withdrawal_id": withdrawal_id}
        assert claimed.hold_id is not None
        await apply_command(
            uow,
            PostHold(
                key=f"withdrawal:{withdrawal_id}:post", hold_id=claimed.hold_id, metadata=metadata
            ),
            clock=clock,
        )
        if claimed.fee_hold_id is not None:
            await apply_command(
                uow,
                PostHold(
                    key=f"withdrawal:{withdrawal_id}:fee_post",
                    hold_id=claimed.fee_hold_id,
                    metadata=metadata,
                ),
                clock=clock,
            )
        await tell_owner(uow, clock, claimed, "withdrawal_succeeded")

    await run_unit(services.engine, work)
    log.info("funding.withdrawal_succeeded", withdrawal_id=withdrawal_id)


async def fail_withdrawal(
    services: Services, withdrawal_id: str, reason: str, *, forget_request: bool = False
) -> None:
    """Void the holds, give the spend back to the limits and tell the owner (once; a no-op
    if the withdrawal is already final); ``forget_request`` also drops the request key (a
    retry starts anew)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        claimed = await repository.claim_final(
            await uow.connection(),
            withdrawal_id,
            status=WithdrawalStatus.FAILED,
            now=clock.now(),
            failure_reason=reason[:200],
            forget_request=forget_request,
        )
        if claimed is None:
            return
        for hold_id in (claimed.hold_id, claimed.fee_hold_id):
            if hold_id is not None:
                await apply_command(uow, VoidHold(hold_id=hold_id), clock=clock)
        # The money never left: the withdrawal no longer counts toward the daily limit.
        await release_spend(uow, reference=f"withdrawal:{withdrawal_id}", now=clock.now())
        await tell_owner(uow, clock, claimed, "withdrawal_failed")

    await run_unit(services.engine, work)
    log.info("funding.withdrawal_failed", withdrawal_id=withdrawal_id, reason=reason)


async def _mark_pending(services: Services, withdrawal_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        await repository.mark_pending(
            await uow.connection(), withdrawal_id, reason=reason, now=services.clock.now()
        )

    await run_unit(services.engine, work)
    log.warning("funding.withdrawal_pending", withdrawal_id=withdrawal_id, reason=reason)
