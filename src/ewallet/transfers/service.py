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

A transfer keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`,
unique per payer), written in the unit that moves the money. A rerun of that request -- after
a crash between the commit and the stored answer, say -- finds it and answers it instead of
moving the money a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.identity.guards import ensure_active
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.phone import parse_phone
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Transaction, TransactionKind, chart, transfer
from ewallet.models.identity import UserStatus
from ewallet.notify.service import notify_user
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy
from ewallet.security.ratelimit import Rule
from ewallet.services import Services
from ewallet.spend.service import SpendRequest, admit_spend, book_spend, expect_spent
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
    request_key: RequestKey | None = None,
) -> TransferView:
    """Move ``amount`` from the sender's wallet to the wallet of ``to_phone`` (E.164).

    The whole use case, refusals in the module doc's order; ``actor`` is who asked (the PIN
    check's audit events name it). With ``request_key`` the transfer stores it: a rerun of
    the same request, or a concurrent run of it that committed first, is answered instead.
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

    async def work(uow: UnitOfWork) -> None:
        now = clock.now()
        spend = SpendRequest(
            user_id=sender_id,
            amount=amount,
            channel=SpendChannel.TRANSFER,
            auth=AuthStrength.PIN,
            reference=reference,
            counterparty=payee_id,
        )
        admission = await admit_spend(
            uow, spend, now=now, policy=SpendingPolicy.from_settings(services.settings)
        )
        # Read, not locked: locking the payee too would let two opposite transfers wait
        # on each other. A freeze stops spending; money arriving as it lands is harmless.
        receiver = await repository.user_by_id(uow.session, payee_id, fresh=True)
        if receiver is None or receiver.status != UserStatus.ACTIVE:
            raise _payee_frozen()
        command = transfer(
            key=reference,
            debit_account_id=source,
            credit_account_id=target,
            amount=amount,
            kind=TransactionKind.TRANSFER,
            metadata={"transfer_id": transfer_id},
        )
        booked = expect_spent(await book_spend(uow, admission, command, clock=clock))
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
        sender = admission.spender
        await notify_user(
            uow.session,
            clock=clock,
            user=receiver,
            kind="transfer_received",
            params={
                "payer": sender.real_name_masked or Party.of(sender).phone_masked,
                "amount": amount.to_decimal_string(),
                "currency": amount.currency,
                "memo": memo or "",
            },
            sms=False,
            security=False,
        )

    try:
        await run_unit(services.engine, work)
    except IntegrityError:
        # The same request ran at once and recorded its transfer first: answer that one.
        earlier = await transfer_for_request(services, sender_id=sender_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved: the key stays with this request
    return await get_transfer(services, sender_id, transfer_id=transfer_id)


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
    """The transfer, if ``user_id`` sent or received it; anyone else gets ``not_found``."""

    async def work(uow: UnitOfWork) -> dict[str, TransferView]:
        return await repository.load_transfers(await uow.connection(), [transfer_id])

    view = (await run_unit(services.engine, work, read_only=True)).get(transfer_id)
    if view is None or user_id not in (view.payer.user_id, view.payee.user_id):
        raise NotFoundError("no such transfer")
    return view


async def transfers_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, TransferView]:
    """Transfers by id, read in the caller's unit of work (the history describes its
    entries with them); ids that name no transfer are left out."""
    return await repository.load_transfers(await uow.connection(), ids)
