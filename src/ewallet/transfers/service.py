"""Wallet-to-wallet transfers by phone number: the use cases.

:func:`create_transfer` is the whole transfer, whoever calls it (the API, a web page, the
CLI, a job). Its refusals, in this order -- the ones that cost nothing first, so a
mistyped phone number never costs a PIN attempt:

1. a rerun of a request that already made its transfer answers that transfer (no PIN
   check, no second transfer);
2. ``validation_error`` (a memo over :data:`MEMO_MAX_LENGTH` characters), ``account_frozen``
   (the sender), ``transfer_to_self``, ``not_found`` (no wallet has that number, or it is
   closed), ``payee_account_frozen``;
3. the payment password (``payment_password_not_set``, ``payment_password_locked``,
   ``payment_password_invalid``; ``require_payment_password`` of
   :mod:`ewallet.identity.payment_password.service`);
4. one unit of work through the spend seam (:mod:`ewallet.spend.service`): the sender's row
   lock, the freeze again under it, the limits (``limit_exceeded``), the payee's state again
   (read, not locked), one balanced ledger entry (kind ``transfer``, ``insufficient_balance``),
   the transfer row and the payee's notice. Any refusal rolls all of it back: a refused
   transfer leaves nothing.

Risk control may challenge a transfer (a new device and a large amount, a burst of
transfers; docs/risk-rules.md): without a passed step-up for exactly this transfer -- same
payee, amount and currency -- nothing moves and the answer is ``step_up_required`` with a
fresh ``challenge_id`` (:func:`~ewallet.spend.service.run_spend_unit`); the client proves it
with ``POST /v1/me/step-up`` and sends the transfer again with that ``challenge_id``, which
pays once.

Risk control may hold a transfer for review (docs/risk-review.md): the seam then books a
ledger hold of the amount instead of the entry and opens the review, and the transfer is
written ``under_review`` -- the payee is neither credited nor told, the payer gets the
``transfer_under_review`` notice with the time the decision is due. A risk officer's
decision (:mod:`ewallet.reviews`) finishes it through :func:`finish_reviewed_transfer`:
approved, the hold posts and the transfer succeeds as if it had gone through at once;
rejected, the hold is voided, the spend released from the limits and the payer told.

A transfer keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`,
unique per payer), written in the unit that moves the money. A rerun of that request -- after
a crash between the commit and the stored answer, say -- finds it and answers it instead of
moving the money a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.identity.errors import AccountFrozenError
from ewallet.identity.guards import ensure_active
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.runtime import Caller
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.phone import parse_phone
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import PostHold, Transaction, TransactionKind, VoidHold, apply_command, chart
from ewallet.ledger import transfer as ledger_transfer
from ewallet.models.identity import User, UserStatus
from ewallet.models.transfers import TransferStatus
from ewallet.notify.service import notify_user
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.security.ratelimit import Rule
from ewallet.services import Services
from ewallet.spend.service import (
    Held,
    ReviewTerms,
    SpendRequest,
    admit_spend,
    book_spend,
    expect_spent,
    run_spend_unit,
)
from ewallet.transfers import repository
from ewallet.transfers.errors import PayeeAccountFrozenError, TransferToSelfError
from ewallet.transfers.views import Party, Payee, TransferView

MEMO_MAX_LENGTH: Final = 50
# A preview shows a masked name for a phone number: capped, so it cannot be used to sweep
# numbers for who has a wallet.
PREVIEWS_PER_HOUR: Final = Rule("transfer-preview-user", 30, timedelta(hours=1))


def check_memo(memo: str | None) -> None:
    """A transfer's memo holds at most :data:`MEMO_MAX_LENGTH` characters
    (``validation_error`` with ``field="memo"``): the API's schema and the web wallet's
    form both stop a longer one, and :func:`create_transfer` checks it again."""
    if memo is not None and len(memo) > MEMO_MAX_LENGTH:
        raise ValidationFailedError(
            f"the memo is longer than {MEMO_MAX_LENGTH} characters", field="memo"
        )


def _payee_frozen() -> PayeeAccountFrozenError:
    return PayeeAccountFrozenError("the payee's account cannot receive money at the moment")


async def _payee(uow: UnitOfWork, *, sender_id: str, to_phone: str) -> Payee:
    """The payee of ``to_phone`` for ``sender_id``, or the refusal (step 2 of the module doc)."""
    sender = await repository.user_by_id(uow.session, sender_id)
    if sender is None:
        raise NotFoundError("no such user")
    ensure_active(sender)
    if sender.phone == to_phone:
        raise TransferToSelfError("a transfer cannot go to your own wallet")
    payee = await repository.user_by_phone(uow.session, to_phone)
    if payee is None or payee.status == UserStatus.CLOSED:
        raise NotFoundError("no wallet is registered with this phone number")
    if payee.status != UserStatus.ACTIVE:
        raise _payee_frozen()
    earlier = await repository.has_sent_to(
        await uow.connection(), payer_id=sender_id, payee_id=payee.id
    )
    return Payee(Party.of(payee), new_payee=not earlier)


async def _find_payee(services: Services, *, sender_id: str, to_phone: str) -> Payee:
    return await run_unit(
        services.engine,
        lambda uow: _payee(uow, sender_id=sender_id, to_phone=to_phone),
        read_only=True,
    )


async def preview_transfer(services: Services, sender_id: str, *, to_phone: str) -> Payee:
    """Who ``to_phone`` is (masked) and whether the sender paid them before; reads only.

    ``to_phone`` as the caller typed it. Refusals, in order: ``rate_limited``
    (:data:`PREVIEWS_PER_HOUR` per sender, counted before the number is even parsed),
    ``invalid_phone``, then step 2 of the module doc.
    """
    refused = await services.limiter.hit(PREVIEWS_PER_HOUR, sender_id)
    if refused is not None:
        raise refused.error("too many payee look-ups; wait before trying again")
    return await _find_payee(services, sender_id=sender_id, to_phone=parse_phone(to_phone))


async def create_transfer(
    services: Services,
    actor: Actor,
    *,
    sender_id: str,
    to_phone: str,
    amount: Money,
    memo: str | None,
    payment_password: str,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    request_key: RequestKey | None = None,
) -> TransferView:
    """Move ``amount`` from the sender's wallet to the wallet of ``to_phone`` (E.164).

    The whole use case, refusals in the module doc's order; ``actor`` is who asked (the PIN
    check's audit events name it). With ``request_key`` the transfer stores it: a rerun of
    the same request, or a concurrent run of it that committed first, is answered instead.
    ``caller`` gets the step-up a risk challenge asks for (its SMS in the caller's
    language); ``challenge_id`` is one the sender passed, ``device_id`` their session's.
    """
    earlier = await transfer_for_request(services, sender_id=sender_id, request_key=request_key)
    if earlier is not None:
        return earlier
    check_memo(memo)
    payee = await _find_payee(services, sender_id=sender_id, to_phone=to_phone)
    await require_payment_password(services, user_id=sender_id, pin=payment_password, actor=actor)
    payee_id = payee.party.user_id
    source = await chart.account_id(services.ledger, chart.wallet(sender_id, amount.currency))
    target = await chart.account_id(services.ledger, chart.wallet(payee_id, amount.currency))
    transfer_id = new_id("trf")
    reference = f"transfer:{transfer_id}"
    clock = services.clock
    review = ReviewTerms(transfer_id, timedelta(minutes=services.settings.risk_review_sla_minutes))

    async def work(uow: UnitOfWork) -> None:
        now = clock.now()
        spend = SpendRequest(
            user_id=sender_id,
            amount=amount,
            channel=SpendChannel.TRANSFER,
            auth=AuthStrength.PIN,
            reference=reference,
            counterparty=payee_id,
            device_id=device_id,
            challenge_id=challenge_id,
        )
        admission = await admit_spend(
            uow,
            spend,
            now=now,
            policy=SpendingPolicy.from_settings(services.settings),
            keeps_held=True,
        )
        # Read, not locked: locking the payee too would let two opposite transfers wait
        # on each other. A freeze stops spending; money arriving as it lands is harmless.
        receiver = await repository.user_by_id(uow.session, payee_id, fresh=True)
        if receiver is None or receiver.status != UserStatus.ACTIVE:
            raise _payee_frozen()
        command = ledger_transfer(
            key=reference,
            debit_account_id=source,
            credit_account_id=target,
            amount=amount,
            kind=TransactionKind.TRANSFER,
            metadata={"transfer_id": transfer_id},
        )
        result = await book_spend(uow, admission, command, clock=clock, review=review)
        sender = admission.spender
        if isinstance(result, Held):
            await _hold_for_review(uow, result, sender=sender, receiver=receiver, memo=memo)
            return
        booked = expect_spent(result)
        assert isinstance(booked, Transaction)
        await repository.insert_transfer(
            await uow.connection(),
            transfer_id=transfer_id,
            payer_id=sender_id,
            payee_id=payee_id,
            amount=amount,
            memo=memo,
            ledger_transaction_id=booked.id,
            request_digest=None if request_key is None else request_key.digest,
            now=now,
        )
        await _tell_payee(uow, clock, payer=sender, payee=receiver, amount=amount, memo=memo)

    async def _hold_for_review(
        uow: UnitOfWork, held: Held, *, sender: User, receiver: User, memo: str | None
    ) -> None:
        """The transfer waits on its review hold: written ``under_review``, the payee
        neither credited nor told, the payer told when to expect the decision."""
        await repository.insert_transfer(
            await uow.connection(),
            transfer_id=transfer_id,
            payer_id=sender_id,
            payee_id=payee_id,
            amount=amount,
            memo=memo,
            ledger_transaction_id=None,
            request_digest=None if request_key is None else request_key.digest,
            now=clock.now(),
            status=TransferStatus.UNDER_REVIEW,
            hold_id=held.hold.id,
            review_id=None if held.review is None else held.review.id,
        )
        due = None if held.review is None else held.review.due_at
        await _tell_payer(
            uow,
            clock,
            "transfer_under_review",
            payer=sender,
            payee=receiver,
            amount=amount,
            due=due,
        )

    try:
        await run_spend_unit(services, work, caller=caller)
    except IntegrityError:
        # The same request ran at once and recorded its transfer first: answer that one.
        earlier = await transfer_for_request(services, sender_id=sender_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        # The money moved, or is held for review: the key stays with this request.
        request_key.effect_possible()
    return await get_transfer(services, sender_id, transfer_id=transfer_id)


async def _tell_payee(
    uow: UnitOfWork, clock: Clock, *, payer: User, payee: User, amount: Money, memo: str | None
) -> None:
    await notify_user(
        uow.session,
        clock=clock,
        user=payee,
        kind="transfer_received",
        params={
            "payer": payer.real_name_masked or Party.of(payer).phone_masked,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "memo": memo or "",
        },
        sms=False,
        security=False,
    )


async def _tell_payer(
    uow: UnitOfWork,
    clock: Clock,
    kind: str,
    *,
    payer: User,
    payee: User,
    amount: Money,
    due: datetime | None = None,
) -> None:
    """The payer's notice about their held transfer: held (with when the decision is due,
    in-app only: the answer said so too), approved or rejected (also by SMS: the decision
    comes later, when they may not be looking)."""
    params = {
        "payee": Party.of(payee).describe(),
        "amount": amount.to_decimal_string(),
        "currency": amount.currency,
    }
    if due is not None:
        params["due"] = due.isoformat(timespec="minutes")
    await notify_user(
        uow.session,
        clock=clock,
        user=payer,
        kind=kind,
        params=params,
        sms=kind != "transfer_under_review",
        security=False,
    )


async def finish_reviewed_transfer(
    uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
) -> None:
    """Finish a transfer held for ``review``, in the unit that decided the review
    (:mod:`ewallet.reviews.service`): the hold (step 3 of the lock order) and the accounts
    it names, then the transfer's row and the notices.

    Approved: the hold posts (one ledger transaction, kind ``transfer``), the transfer
    ``succeeded`` with it, the payee credited and told (``transfer_received``) and the payer
    told (``transfer_review_approved``). Refused -- the whole decision rolled back, the
    review left open for a rejection -- when the payer's account was frozen meanwhile
    (``account_frozen``: money never leaves a frozen account) or the payee's is frozen or
    closed (``payee_account_frozen``).

    Rejected: the hold is voided (the money is available to the payer again), the spend no
    longer counts toward the payer's limits, the transfer ``rejected`` and the payer told
    (``transfer_review_rejected``). A rejection always goes through.
    """
    conn = await uow.connection()
    held = (await repository.load_transfers(conn, [review.subject_id])).get(review.subject_id)
    if held is None or not held.under_review:
        raise ConflictError(
            "the reviewed transfer is not under review",
            state="missing" if held is None else held.status,
        )
    payer = await repository.user_by_id(uow.session, held.payer.user_id, fresh=True)
    payee = await repository.user_by_id(uow.session, held.payee.user_id, fresh=True)
    assert payer is not None  # users are never deleted
    assert payee is not None
    if not approved:
        await apply_command(uow, VoidHold(hold_id=review.hold_id), clock=clock)
        await release_spend(uow, reference=review.reference, now=clock.now())
        await repository.finish_held(
            conn, transfer_id=held.id, status=TransferStatus.REJECTED, ledger_transaction_id=None
        )
        await _tell_payer(
            uow, clock, "transfer_review_rejected", payer=payer, payee=payee, amount=held.amount
        )
        return
    if payer.status != UserStatus.ACTIVE:
        raise AccountFrozenError("the payer's account is frozen: reject the review instead")
    if payee.status != UserStatus.ACTIVE:
        raise _payee_frozen()
    posted = await apply_command(
        uow,
        PostHold(
            key=f"transfer:{held.id}:approved",
            hold_id=review.hold_id,
            metadata={"review_id": review.id},
        ),
        clock=clock,
    )
    assert isinstance(posted, Transaction)
    await repository.finish_held(
        conn,
        transfer_id=held.id,
        status=TransferStatus.SUCCEEDED,
        ledger_transaction_id=posted.id,
    )
    await _tell_payee(uow, clock, payer=payer, payee=payee, amount=held.amount, memo=held.memo)
    await _tell_payer(
        uow, clock, "transfer_review_approved", payer=payer, payee=payee, amount=held.amount
    )


async def transfer_for_request(
    services: Services, *, sender_id: str, request_key: RequestKey | None
) -> TransferView | None:
    """The transfer an earlier run of the same request made, if any (reads only)."""
    if request_key is None:
        return None
    digest = request_key.digest

    async def work(uow: UnitOfWork) -> TransferView | None:
        conn = await uow.connection()
        found = await repository.transfer_id_for_request(
            conn, payer_id=sender_id, request_digest=digest
        )
        if found is None:
            return None
        return (await repository.load_transfers(conn, [found]))[found]

    found = await run_unit(services.engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()  # its effect happened: the key stays with this request
    return found


async def get_transfer(services: Services, user_id: str, *, transfer_id: str) -> TransferView:
    """The transfer, if ``user_id`` sent it or received it (a payee only once it
    succeeded); anyone else gets ``not_found``."""

    async def work(uow: UnitOfWork) -> dict[str, TransferView]:
        return await repository.load_transfers(await uow.connection(), [transfer_id])

    view = (await run_unit(services.engine, work, read_only=True)).get(transfer_id)
    if view is None or user_id not in (view.payer.user_id, view.payee.user_id):
        raise NotFoundError("no such transfer")
    if user_id != view.payer.user_id and view.status != TransferStatus.SUCCEEDED:
        # A transfer held for review (or rejected) never reached the payee: they do not
        # learn of it -- a mule waiting for stolen money gets no hint it was stopped.
        raise NotFoundError("no such transfer")
    return view


async def transfers_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, TransferView]:
    """Transfers by id, read in the caller's unit of work (the history describes its
    entries with them); ids that name no transfer are left out."""
    return await repository.load_transfers(await uow.connection(), ids)
