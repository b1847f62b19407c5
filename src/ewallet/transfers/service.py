"""Wallet-to-wallet transfers by phone number: the use cases.

:func:`create_transfer` is the whole transfer, whoever calls it (the API, a web page, the
CLI, a job). Its refusals, in this order -- the ones that cost nothing first, so a
mistyped phone number never costs a PIN attempt:

1. a rerun of a request that already made its transfer answers that transfer (no PIN
   check, no second transfer);
2. ``validation_error`` (a memo over :data:`MEMO_MAX_LENGTH` characters), ``account_frozen``
   (the sender), ``transfer_to_self``, ``not_found`` (no wallet has that number, or it is
   closed), ``payee_account_frozen``, ``new_payee_confirmation_required`` (a first
   transfer to this payee without the scam warning confirmed; docs/transfers.md);
3. the payment password (``payment_password_not_set``, ``payment_password_locked``,
   ``payment_password_invalid``; ``payment_password_held`` of
   :mod:`ewallet.identity.payment_password.service`: steps 1 and 2 read in the unit that
   reserves the PIN's attempt slot, and a correct PIN's slot is freed in step 4's unit --
   three transactions with the session's, not six);
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

A transfer may settle something else in its own unit: ``settles`` (a money request paid
by this transfer, :mod:`ewallet.money_requests`) is called right after the spend's
admission (the sender's row lock, limits, risk), with the new transfer's id, for the
operation's own row (step 2 of the lock order: nothing else is locked yet but the sender);
whatever it writes commits with the money or not at all, and a refusal it raises rolls
the transfer back. Such a transfer cannot wait for a review: risk's ``review`` refuses it
with ``under_review`` instead of holding it.

A transfer may be delayed (``arrival`` ``2h`` or ``next_day``, PBoC 银发〔2016〕261号,
docs/transfers.md): the same checks, but the seam books a ledger hold instead of the entry,
the transfer is written ``scheduled`` with ``arrives_at`` and its arrival is queued; the
payee is neither credited nor told until :mod:`ewallet.transfers.arrival.service` posts it
(or the payer cancels it first).

A transfer keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`,
unique per payer), written in the unit that moves the money. A rerun of that request -- after
a crash between the commit and the stored answer, say -- finds it and answers it instead of
moving the money a second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.identity.errors import AccountFrozenError
from ewallet.identity.guards import ensure_active
from ewallet.identity.payment_password.service import HeldPin, payment_password_held
from ewallet.identity.runtime import Caller
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.phone import parse_phone
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import (
    CreateHold,
    Hold,
    PostHold,
    Transaction,
    TransactionKind,
    VoidHold,
    apply_command,
    chart,
)
from ewallet.ledger import transfer as ledger_transfer
from ewallet.models.identity import User, UserStatus
from ewallet.models.transfers import Arrival, TransferStatus
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.security.ratelimit import Rule
from ewallet.services import Services
from ewallet.spend.service import (
    Held,
    ReviewTerms,
    SpendRequest,
    SpendResult,
    admit_spend,
    book_spend,
    expect_spent,
    run_spend_unit,
)
from ewallet.transfers import repository
from ewallet.transfers.arrival.service import arrival_time, schedule_arrival
from ewallet.transfers.errors import (
    NewPayeeConfirmationRequiredError,
    PayeeAccountFrozenError,
    TransferToSelfError,
)
from ewallet.transfers.notices import tell_payee, tell_payer
from ewallet.transfers.views import Party, Payee, TransferView

MEMO_MAX_LENGTH: Final = 50
# A preview shows a masked name for a phone number: capped, so it cannot be used to sweep
# numbers for who has a wallet.
PREVIEWS_PER_HOUR: Final = Rule("transfer-preview-user", 30, timedelta(hours=1))

# What a transfer settles in its own unit (module doc): called with the unit and the
# transfer's id; raising rolls the transfer back.
Settles = Callable[[UnitOfWork, str], Awaitable[None]]


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
    settles: Settles | None = None,
    arrival: Arrival | None = Arrival.REALTIME,
    new_payee_acknowledged: bool | None = None,
) -> TransferView:
    """Move ``amount`` from the sender's wallet to the wallet of ``to_phone`` (E.164).

    The whole use case, refusals in the module doc's order; ``actor`` is who asked (the PIN
    check's audit events name it). With ``request_key`` the transfer stores it: a rerun of
    the same request, or a concurrent run of it that committed first, is answered instead.
    ``caller`` gets the step-up a risk challenge asks for (its SMS in the caller's
    language); ``challenge_id`` is one the sender passed, ``device_id`` their session's.
    ``settles``: what this transfer pays for, settled in its unit (module doc).

    ``arrival``: when the money reaches the payee (:class:`Arrival`; None: the sender's
    default from their transfer settings); a delayed one is held and ``scheduled``
    (:mod:`ewallet.transfers.arrival.service`). A transfer that settles something is
    always real-time. ``new_payee_acknowledged``: whether the sender confirmed the scam
    warning for a payee they never paid before -- False refuses a first transfer with
    ``new_payee_confirmation_required`` before the PIN is checked; None is for flows that
    identified the payee another way (a receive code scanned, a money request the payee
    sent) and ask nothing.
    """
    order = _Order(
        sender_id=sender_id,
        amount=amount,
        memo=memo,
        caller=caller,
        device_id=device_id,
        challenge_id=challenge_id,
        request_key=request_key,
        settles=settles,
        arrival=arrival,
    )

    def first(uow: UnitOfWork) -> Awaitable[TransferView | Payee]:
        return _rerun_or_payee(uow, order, to_phone=to_phone, acknowledged=new_payee_acknowledged)

    async with payment_password_held(
        services,
        user_id=sender_id,
        pin=payment_password,
        actor=actor,
        first=first,
        needed=lambda found: isinstance(found, Payee),
    ) as held:
        found = held.found
        if isinstance(found, Payee):
            return await _transfer(services, held, found, order)
    # A rerun: its effect happened, so the key stays with this request.
    if request_key is not None:
        request_key.effect_possible()
    return found


@dataclass(frozen=True, slots=True)
class _Order:
    """What the sender asked for, as :func:`create_transfer` took it."""

    sender_id: str
    amount: Money
    memo: str | None
    caller: Caller | None
    device_id: str | None
    challenge_id: str | None
    request_key: RequestKey | None
    settles: Settles | None
    arrival: Arrival | None


async def _rerun_or_payee(
    uow: UnitOfWork, order: _Order, *, to_phone: str, acknowledged: bool | None
) -> TransferView | Payee:
    """Steps 1 and 2 of the module doc, in the PIN check's first unit: the transfer a rerun
    of this request made, or the payee (refusing all that can be refused before the PIN)."""
    sender_id, key = order.sender_id, order.request_key
    if key is not None:
        earlier = await _transfer_of_request(uow, sender_id=sender_id, digest=key.digest)
        if earlier is not None:
            return earlier
    check_memo(order.memo)
    if order.settles is not None and order.arrival != Arrival.REALTIME:
        raise ValidationFailedError(
            "a transfer that settles a request arrives at once", field="arrival"
        )
    payee = await _payee(uow, sender_id=sender_id, to_phone=to_phone)
    if payee.new_payee and acknowledged is False:
        raise NewPayeeConfirmationRequiredError(
            "first transfer to this person: confirm the scam warning",
            payee=payee.party.describe(),
        )
    return payee


async def _transfer(
    services: Services, held: HeldPin[TransferView | Payee], payee: Payee, order: _Order
) -> TransferView:
    """Step 4 of the module doc: the money unit, once the PIN was found correct."""
    sender_id, amount, memo = order.sender_id, order.amount, order.memo
    request_key, settles, arrival = order.request_key, order.settles, order.arrival
    payee_id = payee.party.user_id
    source = await chart.account_id(services.ledger, chart.wallet(sender_id, amount.currency))
    target = await chart.account_id(services.ledger, chart.wallet(payee_id, amount.currency))
    transfer_id = new_id("trf")
    reference = f"transfer:{transfer_id}"
    clock = services.clock
    review = ReviewTerms(transfer_id, timedelta(minutes=services.settings.risk_review_sla_minutes))

    async def work(uow: UnitOfWork) -> TransferView:
        now = clock.now()
        chosen = arrival
        if chosen is None:
            chosen = await repository.default_arrival(await uow.connection(), user_id=sender_id)
        arrives_at = arrival_time(chosen, accepted_at=now)
        spend = SpendRequest(
            user_id=sender_id,
            amount=amount,
            channel=SpendChannel.TRANSFER,
            auth=AuthStrength.PIN,
            reference=reference,
            counterparty=payee_id,
            device_id=order.device_id,
            challenge_id=order.challenge_id,
        )
        admission = await admit_spend(
            uow,
            spend,
            now=now,
            policy=SpendingPolicy.from_settings(services.settings),
            keeps_held=settles is None,
        )
        await held.settle_in(uow, payer=admission.spender)
        if settles is not None:
            await settles(uow, transfer_id)
        # Read, not locked: locking the payee too would let two opposite transfers wait
        # on each other. A freeze stops spending; money arriving as it lands is harmless.
        receiver = await repository.user_by_id(uow.session, payee_id, fresh=True)
        if receiver is None or receiver.status != UserStatus.ACTIVE:
            raise _payee_frozen()
        metadata = {"transfer_id": transfer_id}
        if arrives_at is not None:  # the history shows a pending transfer's arrival time
            metadata["arrives_at"] = arrives_at.isoformat(timespec="seconds")
        command = (
            ledger_transfer(
                key=reference,
                debit_account_id=source,
                credit_account_id=target,
                amount=amount,
                kind=TransactionKind.TRANSFER,
                metadata=metadata,
            )
            if arrives_at is None
            else CreateHold(
                key=f"{reference}:hold",
                kind=TransactionKind.TRANSFER,
                debit_account_id=source,
                credit_account_id=target,
                amount=amount,
                metadata=metadata,
            )
        )
        result = await book_spend(uow, admission, command, clock=clock, review=review)
        draft = _Draft(
            transfer_id=transfer_id,
            payer=admission.spender,
            payee=receiver,
            amount=amount,
            memo=memo,
            request_digest=None if request_key is None else request_key.digest,
            arrival=chosen,
            arrives_at=arrives_at,
        )
        await _record(uow, clock, draft, result)
        # Read back in the unit: the answer, and the Idempotency-Key's record where the
        # endpoint has it written with the transfer (docs/http.md, "Claimed in the unit").
        made = (await repository.load_transfers(await uow.connection(), [transfer_id]))[transfer_id]
        if request_key is not None:
            await request_key.record_answer(uow, made)
        return made

    try:
        view = await run_spend_unit(services, work, caller=order.caller)
    except IntegrityError:
        # The same request ran at once and recorded its transfer first: answer that one.
        earlier = await transfer_for_request(services, sender_id=sender_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        # The money moved, or is held for review: the key stays with this request.
        request_key.effect_possible()
    return view


@dataclass(frozen=True, slots=True)
class _Draft:
    """A transfer its unit has admitted and booked, about to be written."""

    transfer_id: str
    payer: User
    payee: User
    amount: Money
    memo: str | None
    request_digest: str | None
    arrival: Arrival
    arrives_at: datetime | None


async def _record(uow: UnitOfWork, clock: Clock, draft: _Draft, result: SpendResult) -> None:
    """Write the transfer as its booking left it, and tell who must be told:

    - held for review: ``under_review`` on the review's hold, the payee neither credited
      nor told, the payer told when to expect the decision (a delayed one keeps its
      arrival time for when it is approved);
    - delayed: ``scheduled`` on its hold, its arrival queued, the payee neither credited
      nor told, the payer told when it arrives (and that it can be cancelled until then);
    - otherwise ``succeeded`` with its ledger entry, the payee told.
    """
    payer, payee, amount = draft.payer, draft.payee, draft.amount

    async def insert(
        status: TransferStatus,
        *,
        ledger_transaction_id: str | None = None,
        hold_id: str | None = None,
        review_id: str | None = None,
    ) -> None:
        await repository.insert_transfer(
            await uow.connection(),
            transfer_id=draft.transfer_id,
            payer_id=payer.id,
            payee_id=payee.id,
            amount=amount,
            memo=draft.memo,
            ledger_transaction_id=ledger_transaction_id,
            request_digest=draft.request_digest,
            now=clock.now(),
            status=status,
            hold_id=hold_id,
            review_id=review_id,
            arrival=draft.arrival,
            arrives_at=draft.arrives_at,
        )

    if isinstance(result, Held):
        await insert(
            TransferStatus.UNDER_REVIEW,
            hold_id=result.hold.id,
            review_id=None if result.review is None else result.review.id,
        )
        due = None if result.review is None else result.review.due_at
        await tell_payer(
            uow, clock, "transfer_under_review", payer=payer, payee=payee, amount=amount, due=due
        )
        return
    booked = expect_spent(result)
    if draft.arrives_at is not None:
        assert isinstance(booked, Hold)
        await insert(TransferStatus.SCHEDULED, hold_id=booked.id)
        await schedule_arrival(
            uow, clock, transfer_id=draft.transfer_id, arrives_at=draft.arrives_at
        )
        await tell_payer(
            uow,
            clock,
            "transfer_scheduled",
            payer=payer,
            payee=payee,
            amount=amount,
            arrives=draft.arrives_at,
        )
        return
    assert isinstance(booked, Transaction)
    await insert(TransferStatus.SUCCEEDED, ledger_transaction_id=booked.id)
    await tell_payee(uow, clock, payer=payer, payee=payee, amount=amount, memo=draft.memo)


async def finish_reviewed_transfer(
    uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
) -> None:
    """Finish a transfer held for ``review``, in the unit that decided the review
    (:mod:`ewallet.reviews.service`): the hold (step 3 of the lock order) and the accounts
    it names, then the transfer's row and the notices.

    Approved: a delayed transfer whose arrival time is still ahead becomes ``scheduled``
    on the same hold (its arrival queued, the payer told, ``transfer_scheduled``); any
    other posts the hold (one ledger transaction, kind ``transfer``), the transfer
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
        await tell_payer(
            uow, clock, "transfer_review_rejected", payer=payer, payee=payee, amount=held.amount
        )
        return
    if payer.status != UserStatus.ACTIVE:
        raise AccountFrozenError("the payer's account is frozen: reject the review instead")
    if payee.status != UserStatus.ACTIVE:
        raise _payee_frozen()
    if held.arrives_at is not None and held.arrives_at > clock.now():
        # A delayed transfer approved before its time waits for it, cancellable as any.
        await repository.schedule_reviewed(conn, transfer_id=held.id)
        await schedule_arrival(uow, clock, transfer_id=held.id, arrives_at=held.arrives_at)
        await tell_payer(
            uow,
            clock,
            "transfer_scheduled",
            payer=payer,
            payee=payee,
            amount=held.amount,
            arrives=held.arrives_at,
        )
        return
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
    await tell_payee(uow, clock, payer=payer, payee=payee, amount=held.amount, memo=held.memo)
    await tell_payer(
        uow, clock, "transfer_review_approved", payer=payer, payee=payee, amount=held.amount
    )


async def transfer_for_request(
    services: Services, *, sender_id: str, request_key: RequestKey | None
) -> TransferView | None:
    """The transfer an earlier run of the same request made, if any (reads only)."""
    if request_key is None:
        return None
    digest = request_key.digest

    def work(uow: UnitOfWork) -> Awaitable[TransferView | None]:
        return _transfer_of_request(uow, sender_id=sender_id, digest=digest)

    found = await run_unit(services.engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()  # its effect happened: the key stays with this request
    return found


async def _transfer_of_request(
    uow: UnitOfWork, *, sender_id: str, digest: str
) -> TransferView | None:
    conn = await uow.connection()
    found = await repository.transfer_id_for_request(
        conn, payer_id=sender_id, request_digest=digest
    )
    if found is None:
        return None
    return (await repository.load_transfers(conn, [found]))[found]


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
