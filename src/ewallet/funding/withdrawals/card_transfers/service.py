"""Transfers to another person's bank card (API ``POST /v1/card-transfers``).

A withdrawal to a card that is not one of the payer's bound cards: the payer types the
card number and the holder's name, the bank checks the name, and the bank pays the card
by its number (:meth:`~ewallet.integrations.bank.port.BankGateway.payout`, which checks the
name again). :func:`transfer_to_card` is the whole use case:

1. a rerun of a request that already made its transfer answers it (before the PIN);
2. refusals that cost nothing: ``card_invalid`` (unknown BIN, length, Luhn),
   ``card_not_supported`` (not a debit card), ``validation_error`` (no name, or too long),
   ``card_is_own`` (one of the payer's own active cards, recognised by its keyed
   fingerprint: that is a withdrawal);
3. the payment password (``require_payment_password``);
4. the bank's name check (:meth:`~ewallet.integrations.bank.port.BankGateway.check_account_name`):
   ``payee_name_mismatch`` (member ``reason``: ``name_mismatch`` or ``account_not_found``),
   nothing held, nothing moved;
5. one unit of work: the payer's row lock (step 1 of the lock order), the fee of the
   withdrawals' policy (:mod:`ewallet.funding.withdrawals.fees`: the same rate, minimum and
   one free quota shared with withdrawals), the spend seam (freeze, limits, risk -- a risk
   ``review`` refuses with ``under_review``: this transfer cannot wait on a review), the
   row, and two ledger holds (amount: wallet -> the card bank's settlement account; fee:
   wallet -> fee revenue). Too little balance refuses the whole unit;
6. real time: the bank is asked at once with the request id ``card_transfer:<id>``;
   delayed (``2h``, ``next_day``, docs/transfers.md): the transfer waits ``scheduled`` --
   cancellable by the payer -- and an outbox event (:data:`ARRIVAL_TOPIC`) asks the bank at
   ``arrives_at`` (:func:`arrive_card_transfer`).

The bank's answer: ``succeeded`` posts both holds; ``declined`` (a refused name at payout
time included) voids them, releases the spend and answers ``bank_declined``; an unknown
outcome (timeout, 5xx, a lost answer) leaves it ``pending`` with the money held, settled
from the bank's records by :func:`settle_pending_card_transfers` as withdrawals are.
Every finishing step leaves its state with a conditional ``UPDATE`` in the unit that posts
or voids the holds, so a transfer is finished once however often, or concurrently, it is;
that ``UPDATE`` also erases the stored card number (:func:`repository.move`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.cards.errors import CardNotSupportedError
from ewallet.funding.withdrawals import repository as withdrawals_repository
from ewallet.funding.withdrawals.card_transfers import repository
from ewallet.funding.withdrawals.card_transfers.errors import (
    CardIsOwnError,
    CardTransferNotCancellableError,
    PayeeNameMismatchError,
)
from ewallet.funding.withdrawals.card_transfers.views import CardTransferView, mask_name
from ewallet.funding.withdrawals.fee_hold import hold_fee
from ewallet.funding.withdrawals.fees import FeePolicy, FeeQuote, quote_fee
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.runtime import Caller
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.bank_cards import CardType, lookup_card
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import (
    NotFoundError,
    UpstreamUnavailableError,
    ValidationFailedError,
)
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
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
from ewallet.models.card_transfers import CardTransferStatus as Status
from ewallet.models.tables import card_transfers
from ewallet.models.transfers import Arrival
from ewallet.notify.service import notify_user
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.security.card_fingerprint import card_fingerprint
from ewallet.services import Services
from ewallet.spend.service import (
    SpendRequest,
    admit_spend,
    book_spend,
    expect_spent,
    run_spend_unit,
)
from ewallet.transfers.arrival.service import arrival_time, transfer_settings
from ewallet.worker.outbox import enqueue

log = structlog.get_logger(__name__)

ARRIVAL_TOPIC: Final = "card_transfers.arrive"
PAYEE_NAME_MAX: Final = 40


def request_id_of(transfer_id: str) -> str:
    """The bank's request id of a card transfer (the same for every ask: idempotent)."""
    return _request_id(transfer_id)


def _request_id(transfer_id: str) -> str:
    return f"card_transfer:{transfer_id}"


def _context(transfer_id: str) -> str:
    return f"card_transfer:{transfer_id}"


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class CardTransferQuote:
    """What the confirmation shows before the PIN: the bank, the last four, the fee."""

    bank_name: str
    card_last_four: str
    quote: FeeQuote


async def preview_card_transfer(
    services: Services, user_id: str, *, card_number: str, amount: Money
) -> CardTransferQuote:
    """The card's bank and the fee the transfer would cost now (reads only;
    ``card_invalid``, ``card_not_supported``, ``card_is_own``)."""
    number, bank_name = _card(card_number)
    policy = FeePolicy.from_settings(services.settings)
    fingerprint = card_fingerprint(services.security.digest, number)

    async def work(uow: UnitOfWork) -> FeeQuote:
        await _refuse_own_card(uow, user_id, fingerprint)
        used = await _quota_used(uow, user_id, amount.currency)
        return quote_fee(policy, amount=amount, quota_used_minor=used)

    quote = await run_unit(services.engine, work, read_only=True)
    return CardTransferQuote(bank_name=bank_name, card_last_four=number[-4:], quote=quote)


async def get_card_transfer(
    services: Services, user_id: str, *, transfer_id: str
) -> CardTransferView:
    """The caller's card transfer; ``not_found`` for anyone else's."""

    async def work(uow: UnitOfWork) -> CardTransferView | None:
        return await repository.load(await uow.connection(), transfer_id, user_id=user_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise NotFoundError("no such card transfer")
    return found


def _card(card_number: str) -> tuple[str, str]:
    number, entry = lookup_card(card_number)
    if entry.card_type is not CardType.DEBIT:
        raise CardNotSupportedError(
            "money can be sent to debit cards only",
            reason="card_type",
            card_type=str(entry.card_type),
        )
    return number, entry.bank.name


async def _refuse_own_card(uow: UnitOfWork, user_id: str, fingerprint: str) -> None:
    """``card_is_own`` when the number is one of the user's own active cards: money goes
    there by a withdrawal (compared by keyed fingerprint, nothing decrypted)."""
    conn = await uow.connection()
    if await repository.is_own_active_card(conn, user_id=user_id, fingerprint=fingerprint):
        raise CardIsOwnError("use a withdrawal to send money to your own card")


async def _quota_used(uow: UnitOfWork, user_id: str, currency: str) -> int:
    """The free quota withdrawals and card transfers share (module doc, step 5)."""
    conn = await uow.connection()
    return await withdrawals_repository.quota_used(conn, user_id=user_id, currency=currency)


# ------------------------------------------------------------------------------ the use case


async def transfer_to_card(
    services: Services,
    user_id: str,
    actor: Actor,
    *,
    card_number: str,
    payee_name: str,
    amount: Money,
    payment_password: str,
    caller: Caller,
    arrival: Arrival | None = Arrival.REALTIME,
    request_key: RequestKey | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
) -> CardTransferView:
    """Send ``amount`` to another person's card (module doc): ``succeeded``, ``scheduled``
    (delayed), or open (``is_open``: answer ``202``). ``arrival`` None takes the payer's
    default (``/v1/me/transfer-settings``)."""
    earlier = await _for_request(services, user_id=user_id, request_key=request_key)
    if earlier is not None:
        return _answer(earlier)
    number, bank_name = _card(card_number)
    name = " ".join(payee_name.split())
    if not name or len(name) > PAYEE_NAME_MAX:
        raise ValidationFailedError(
            f"the payee's name has 1 to {PAYEE_NAME_MAX} characters", field="payee_name"
        )
    fingerprint = card_fingerprint(services.security.digest, number)
    await run_unit(
        services.engine,
        lambda uow: _refuse_own_card(uow, user_id, fingerprint),
        read_only=True,
    )
    await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)
    mismatch = await services.bank.check_account_name(account_number=number, holder_name=name)
    if mismatch is not None:
        raise PayeeNameMismatchError(
            "the bank says this name is not the card's holder", reason=mismatch
        )
    if arrival is None:
        arrival = Arrival((await transfer_settings(services, user_id)).default_arrival)
    transfer_id = new_id("ctr")
    spend = SpendRequest(
        user_id=user_id,
        amount=amount,
        channel=SpendChannel.WITHDRAWAL,
        auth=AuthStrength.PIN,
        reference=_request_id(transfer_id),
        device_id=device_id,
        challenge_id=challenge_id,
    )
    payee = _Payee(name=name, number=number, bank_code=_bank_code(number), bank_name=bank_name)
    try:
        held = await _hold(
            services,
            spend,
            transfer_id,
            payee,
            arrival=arrival,
            caller=caller,
            request_key=request_key,
        )
    except IntegrityError:
        earlier = await _for_request(services, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return _answer(earlier)
    if request_key is not None:
        request_key.effect_possible()
    if held.scheduled:
        return held
    return await ask_bank(services, held, request_key=request_key)


def _bank_code(number: str) -> str:
    return lookup_card(number)[1].bank.code


@dataclass(frozen=True, slots=True)
class _Payee:
    name: str
    number: str
    bank_code: str
    bank_name: str


async def _hold(
    services: Services,
    spend: SpendRequest,
    transfer_id: str,
    payee: _Payee,
    *,
    arrival: Arrival,
    caller: Caller,
    request_key: RequestKey | None,
) -> CardTransferView:
    """Record the transfer and its two holds in one unit (module doc, step 5)."""
    ledger, clock, amount = services.ledger, services.clock, spend.amount
    wallet = await chart.open_account(ledger, chart.wallet(spend.user_id, amount.currency))
    bank = await chart.open_account(ledger, chart.bank_settlement(payee.bank_code, amount.currency))
    revenue = await chart.open_account(ledger, chart.fee_revenue(amount.currency))
    fees = FeePolicy.from_settings(services.settings)
    limits = SpendingPolicy.from_settings(services.settings)
    encrypted = services.security.cipher.encrypt(payee.number, context=_context(transfer_id))

    async def work(uow: UnitOfWork) -> CardTransferView:
        conn = await uow.connection()
        user = await locked_user(uow, spend.user_id)  # step 1: one at a time (the quota)
        quote = quote_fee(
            fees, amount=amount, quota_used_minor=await _quota_used(uow, user.id, amount.currency)
        )
        now = clock.now()
        admission = await admit_spend(uow, spend, now=now, policy=limits, locked=user)
        arrives_at = arrival_time(arrival, accepted_at=now)
        await repository.insert_card_transfer(
            conn,
            id=transfer_id,
            user_id=user.id,
            payee_name=payee.name,
            card_number_encrypted=encrypted,
            card_last_four=payee.number[-4:],
            bank_code=payee.bank_code,
            bank_name=payee.bank_name,
            amount=amount.minor,
            fee=quote.fee.minor,
            currency=amount.currency,
            status=(Status.PROCESSING if arrives_at is None else Status.SCHEDULED).value,
            arrival=arrival.value,
            arrives_at=arrives_at,
            request_key=None if request_key is None else request_key.digest,
            created_at=now,
            sent_at=now if arrives_at is None else None,
            updated_at=now,
        )
        metadata = {"card_transfer_id": transfer_id}
        booked = await book_spend(
            uow,
            admission,
            CreateHold(
                key=f"{_request_id(transfer_id)}:hold",
                kind=TransactionKind.WITHDRAWAL,
                debit_account_id=wallet.id,
                credit_account_id=bank.id,
                amount=amount,
                metadata=metadata,
            ),
            clock=clock,
        )
        hold = expect_spent(booked)
        assert isinstance(hold, Hold)
        fee_hold_id = await hold_fee(
            uow,
            key=f"{_request_id(transfer_id)}:fee_hold",
            wallet_id=wallet.id,
            revenue_id=revenue.id,
            fee=quote.fee,
            metadata=metadata,
            clock=clock,
        )
        await repository.set_holds(conn, transfer_id, hold_id=hold.id, fee_hold_id=fee_hold_id)
        view = await repository.load(conn, transfer_id)
        assert view is not None
        if arrives_at is not None:
            await enqueue(
                uow.session,
                topic=ARRIVAL_TOPIC,
                payload={"card_transfer_id": transfer_id},
                clock=clock,
                delay=arrives_at - now,
            )
            await _tell(uow, clock, view, "card_transfer_scheduled", arrives=arrives_at)
        return view

    return await run_spend_unit(services, work, caller=caller)


async def _for_request(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> CardTransferView | None:
    row = await row_for_request(
        services.engine, card_transfers, owner="user_id", owner_id=user_id, request_key=request_key
    )
    if row is None:
        return None
    return await get_card_transfer(services, user_id, transfer_id=row.id)


def _answer(transfer: CardTransferView) -> CardTransferView:
    if transfer.status == Status.FAILED:
        raise BankDeclinedError(
            "the bank declined the transfer",
            reason=transfer.failure_reason,
            card_transfer_id=transfer.id,
        )
    return transfer


# ------------------------------------------------------------------------------ the bank


async def ask_bank(
    services: Services, transfer: CardTransferView, *, request_key: RequestKey | None = None
) -> CardTransferView:
    """Ask the bank to pay the card, once, with the request id ``card_transfer:<id>``,
    and record its answer; the transfer's state after. A refusal before anything happened
    (``bank_declined``, ``upstream_unavailable``) raises after the money is released (and,
    for the latter, ``request_key`` is let go: a retry starts anew)."""
    if transfer.card_number_encrypted is None:  # erased: the transfer is final already
        raise RuntimeError(f"card transfer {transfer.id} is final; its number was erased")
    number = services.security.cipher.decrypt(
        transfer.card_number_encrypted, context=_context(transfer.id)
    )
    try:
        result = await services.bank.payout(
            account_number=number,
            holder_name=transfer.payee_name,
            amount=transfer.amount,
            request_id=_request_id(transfer.id),
        )
    except (UpstreamUnavailableError, BankDeclinedError) as error:
        await fail_card_transfer(services, transfer.id, f"{error.code}: {error}")
        if isinstance(error, UpstreamUnavailableError) and request_key is not None:
            request_key.nothing_happened()
        raise
    except Exception:
        # Anything else may have reached the bank: keep the money held for settlement.
        log.exception("funding.card_transfer_bank_call_failed", card_transfer_id=transfer.id)
        await _mark_pending(services, transfer.id, "unexpected_error")
        return await _reload(services, transfer)
    if result.status == "succeeded":
        await succeed_card_transfer(services, transfer.id, result.bank_reference)
    elif result.status == "declined":
        await fail_card_transfer(services, transfer.id, result.reason or "declined")
    else:
        await _mark_pending(services, transfer.id, result.reason or "unknown")
    return _answer(await _reload(services, transfer))


async def _reload(services: Services, transfer: CardTransferView) -> CardTransferView:
    return await get_card_transfer(services, transfer.user_id, transfer_id=transfer.id)


async def _tell(
    uow: UnitOfWork, clock: Clock, transfer: CardTransferView, kind: str, **extra: object
) -> None:
    """The payer's notice ``kind``; by SMS too when the money came back (a decline comes
    later, when they may not be looking)."""
    owner = await withdrawals_repository.owner(uow, transfer.user_id)
    card = f"{transfer.bank_name} ({transfer.card_last_four})"
    await notify_user(
        uow.session,
        clock=clock,
        user=owner,
        kind=kind,
        params={
            "payee": f"{mask_name(transfer.payee_name)} · {card}",
            "amount": transfer.amount.to_decimal_string(),
            "fee": transfer.fee.to_decimal_string(),
            "currency": transfer.amount.currency,
            **extra,
        },
        sms=kind == "card_transfer_failed",
        security=False,
    )


# ------------------------------------------------------------------------------ finishing


async def succeed_card_transfer(
    services: Services, transfer_id: str, bank_reference: str | None
) -> None:
    """The bank paid the card: post both holds and tell the payer (once)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        claimed = await repository.move(
            await uow.connection(),
            transfer_id,
            from_statuses=(Status.PROCESSING, Status.PENDING),
            to=Status.SUCCEEDED,
            now=clock.now(),
            bank_reference=bank_reference,
            failure_reason=None,
        )
        if claimed is None:
            return
        for key, hold_id in (("post", claimed.hold_id), ("fee_post", claimed.fee_hold_id)):
            if hold_id is not None:
                command = PostHold(
                    key=f"{_request_id(transfer_id)}:{key}",
                    hold_id=hold_id,
                    metadata={"card_transfer_id": transfer_id},
                )
                await apply_command(uow, command, clock=clock)
        await _tell(uow, clock, claimed, "card_transfer_succeeded")

    await run_unit(services.engine, work)


async def fail_card_transfer(services: Services, transfer_id: str, reason: str) -> None:
    """Nothing was paid: void both holds, release the spend, tell the payer (once)."""
    await _give_back(
        services,
        transfer_id,
        from_statuses=(Status.SCHEDULED, Status.PROCESSING, Status.PENDING),
        to=Status.FAILED,
        notice="card_transfer_failed",
        failure_reason=reason[:200],
    )


async def _give_back(
    services: Services,
    transfer_id: str,
    *,
    from_statuses: tuple[Status, ...],
    to: Status,
    notice: str,
    user_id: str | None = None,
    **values: object,
) -> CardTransferView | None:
    """Leave ``from_statuses`` for ``to`` and give the money back, in one unit: the holds
    voided, the spend released from the limits, the payer told. ``user_id`` (a payer's own
    cancel) locks their row first; None (nothing changed) if the transfer was not in one
    of ``from_statuses``."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> CardTransferView | None:
        if user_id is not None:
            await locked_user(uow, user_id)  # step 1 of the lock order
        claimed = await repository.move(
            await uow.connection(),
            transfer_id,
            from_statuses=from_statuses,
            to=to,
            now=clock.now(),
            **values,
        )
        if claimed is None:
            return None
        for hold_id in (claimed.hold_id, claimed.fee_hold_id):
            if hold_id is not None:
                await apply_command(uow, VoidHold(hold_id=hold_id), clock=clock)
        await release_spend(uow, reference=_request_id(transfer_id), now=clock.now())
        await _tell(uow, clock, claimed, notice)
        return claimed

    return await run_unit(services.engine, work)


async def status_of(services: Services, transfer_id: str) -> str:
    """The transfer's status as stored now (reads only)."""

    async def work(uow: UnitOfWork) -> str:
        found = await repository.load(await uow.connection(), transfer_id)
        if found is None:
            raise NotFoundError("no such card transfer")
        return found.status

    return await run_unit(services.engine, work, read_only=True)


async def _mark_pending(services: Services, transfer_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        await repository.move(
            await uow.connection(),
            transfer_id,
            from_statuses=(Status.PROCESSING,),
            to=Status.PENDING,
            now=services.clock.now(),
            failure_reason=reason[:200],
        )

    await run_unit(services.engine, work)
    log.warning("funding.card_transfer_pending", card_transfer_id=transfer_id, reason=reason)


async def cancel_card_transfer(
    services: Services, *, user_id: str, transfer_id: str
) -> CardTransferView:
    """The payer cancels their scheduled card transfer before the bank is asked: both
    holds voided, the spend released, ``cancelled``. ``not_found`` for anyone else's;
    ``transfer_not_cancellable`` (member ``state``) once it is no longer scheduled."""
    transfer = await get_card_transfer(services, user_id, transfer_id=transfer_id)
    cancelled = await _give_back(
        services,
        transfer_id,
        from_statuses=(Status.SCHEDULED,),
        to=Status.CANCELLED,
        notice="card_transfer_cancelled",
        user_id=user_id,
    )
    if cancelled is None:
        now = await get_card_transfer(services, user_id, transfer_id=transfer.id)
        raise CardTransferNotCancellableError(
            "only a scheduled transfer can be cancelled", state=now.status
        )
    return cancelled
