"""Wallet-to-wallet transfers by phone number.

A transfer is one unit of work: the sender's spend is checked and counted
(:func:`~ewallet.risk.spending.reserve_spend`, which also locks the sender's row and
re-checks the freeze), the transfer row is written, one balanced ledger entry (kind
``transfer``) moves the money wallet to wallet, and the payee gets a notice. Any refusal
-- a limit, the balance -- rolls all of it back, so a refused transfer leaves nothing.

Refusals that need no money are answered before the payment password is checked, so a
mistyped phone number never costs a PIN attempt: ``account_frozen`` (the sender),
``transfer_to_self``, ``not_found`` (no wallet has that number), ``payee_account_frozen``.

A transfer keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`,
unique per payer), written in the unit that moves the money. A rerun of that request -- after
a crash between the commit and the stored answer, say -- finds it
(:func:`transfer_for_request`) and answers it instead of moving the money a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.identity.guards import ensure_active
from ewallet.identity.users_repository import find_by_phone
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Ledger, Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.identity import User
from ewallet.models.tables import transfers, users
from ewallet.notify.service import notify_user
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, reserve_spend
from ewallet.transfers.errors import PayeeAccountFrozenError, TransferToSelfError

MEMO_MAX_LENGTH = 50


@dataclass(frozen=True, slots=True)
class Party:
    """Someone on the other side, as the other side may see them: masked."""

    user_id: str
    phone_masked: str
    name_masked: str | None


@dataclass(frozen=True, slots=True)
class Payee:
    party: Party
    new_payee: bool  # the sender never transferred to this wallet before


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    payer: Party
    payee: Party
    amount: Money
    memo: str | None
    status: str
    ledger_transaction_id: str
    created_at: datetime

    def direction_for(self, user_id: str) -> str:
        return "out" if user_id == self.payer.user_id else "in"

    def counterparty_for(self, user_id: str) -> Party:
        return self.payee if user_id == self.payer.user_id else self.payer


def party_of(user: Any) -> Party:
    return Party(user.id, mask_phone(user.phone), user.real_name_masked)


async def _payee(uow: UnitOfWork, *, sender_id: str, to_phone: str) -> Payee:
    """The payee of ``to_phone`` for ``sender_id``, or the refusal (module doc's order)."""
    sender = await uow.session.get(User, sender_id)
    if sender is None:
        raise NotFoundError("no such user")
    ensure_active(sender)
    if sender.phone == to_phone:
        raise TransferToSelfError("a transfer cannot go to your own wallet")
    payee = await find_by_phone(uow.session, to_phone)
    if payee is None or payee.status == "closed":
        raise NotFoundError("no wallet is registered with this phone number")
    if payee.status != "active":
        raise PayeeAccountFrozenError("the payee's account cannot receive money at the moment")
    conn = await uow.connection()
    earlier = (
        await conn.execute(
            select(transfers.c.id)
            .where(transfers.c.payer_user_id == sender_id, transfers.c.payee_user_id == payee.id)
            .limit(1)
        )
    ).first()
    return Payee(party_of(payee), new_payee=earlier is None)


async def preview_transfer(engine: AsyncEngine, *, sender_id: str, to_phone: str) -> Payee:
    """Who ``to_phone`` is (masked), for the sender to confirm; reads only."""
    return await run_unit(
        engine, lambda uow: _payee(uow, sender_id=sender_id, to_phone=to_phone), read_only=True
    )


@dataclass(frozen=True, slots=True)
class TransferServices:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    policy: SpendingPolicy


async def create_transfer(
    services: TransferServices,
    *,
    sender_id: str,
    to_phone: str,
    amount: Money,
    memo: str | None,
    request_key: RequestKey | None = None,
) -> TransferView:
    """Move ``amount`` from the sender's wallet to the wallet of ``to_phone``.

    The payment password has been checked by the caller. Raises ``limit_exceeded``,
    ``insufficient_balance``, ``account_frozen`` (a freeze that landed meanwhile) or a
    payee refusal, each with nothing changed.

    With ``request_key`` the transfer stores it; a concurrent run of the same request that
    committed first is answered instead (the unique key refuses the second transfer).
    """
    engine, clock = services.engine, services.clock
    payee = await preview_transfer(engine, sender_id=sender_id, to_phone=to_phone)
    payee_id = payee.party.user_id
    source = await chart.account_id(services.ledger, chart.wallet(sender_id, amount.currency))
    target = await chart.account_id(services.ledger, chart.wallet(payee_id, amount.currency))
    transfer_id = new_id("trf")

    async def work(uow: UnitOfWork) -> None:
        now = clock.now()
        await reserve_spend(
            uow,
            user_id=sender_id,
            amount=amount,
            channel=SpendChannel.TRANSFER,
            auth=AuthStrength.PIN,
            reference=f"transfer:{transfer_id}",
            now=now,
            policy=services.policy,
        )
        # Read, not locked: locking the payee too would let two opposite transfers wait
        # on each other. A freeze stops spending; money arriving as it lands is harmless.
        receiver = await uow.session.get(User, payee_id, populate_existing=True)
        if receiver is None or receiver.status != "active":
            raise PayeeAccountFrozenError("the payee's account cannot receive money at the moment")
        outcome = await apply_command(
            uow,
            transfer(
                key=f"transfer:{transfer_id}",
                debit_account_id=source,
                credit_account_id=target,
                amount=amount,
                kind=TransactionKind.TRANSFER,
                metadata={"transfer_id": transfer_id},
            ),
            clock=clock,
        )
        assert isinstance(outcome, Transaction)
        conn = await uow.connection()
        await conn.execute(
            insert(transfers).values(
                id=transfer_id,
                payer_user_id=sender_id,
                payee_user_id=payee_id,
                amount=amount.minor,
                currency=amount.currency,
                memo=memo,
                status="succeeded",
                ledger_transaction_id=outcome.id,
                request_key=None if request_key is None else request_key.digest,
                created_at=now,
            )
        )
        sender = await uow.session.get(User, sender_id)
        assert sender is not None
        payer_name = sender.real_name_masked or mask_phone(sender.phone)
        await notify_user(
            uow.session,
            clock=clock,
            user=receiver,
            kind="transfer_received",
            params={
                "payer": payer_name,
                "amount": amount.to_decimal_string(),
                "currency": amount.currency,
                "memo": memo or "",
            },
            sms=False,
            security=False,
        )

    try:
        await run_unit(engine, work)
    except IntegrityError:
        # The same request ran at once and recorded its transfer first: answer that one.
        earlier = await transfer_for_request(engine, sender_id=sender_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved: the key stays with this request
    return await get_transfer(engine, transfer_id=transfer_id, user_id=sender_id)


async def transfer_for_request(
    engine: AsyncEngine, *, sender_id: str, request_key: RequestKey | None
) -> TransferView | None:
    """The transfer an earlier run of the same request made, if any (reads only)."""
    if request_key is None:
        return None

    async def work(uow: UnitOfWork) -> TransferView | None:
        conn = await uow.connection()
        found = (
            await conn.execute(
                select(transfers.c.id).where(
                    transfers.c.payer_user_id == sender_id,
                    transfers.c.request_key == request_key.digest,
                )
            )
        ).scalar()
        if found is None:
            return None
        return (await load_transfers(conn, [found]))[found]

    found = await run_unit(engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()  # its effect happened: the key stays with this request
    return found


async def load_transfers(conn: AsyncConnection, ids: list[str]) -> dict[str, TransferView]:
    """Transfers by id with both parties (masked); history uses it to describe entries."""
    if not ids:
        return {}
    payer = users.alias("payer")
    payee = users.alias("payee")
    statement = (
        select(
            transfers,
            payer.c.phone.label("payer_phone"),
            payer.c.real_name_masked.label("payer_name"),
            payee.c.phone.label("payee_phone"),
            payee.c.real_name_masked.label("payee_name"),
        )
        .join(payer, payer.c.id == transfers.c.payer_user_id)
        .join(payee, payee.c.id == transfers.c.payee_user_id)
        .where(transfers.c.id.in_(ids))
    )
    views = {}
    for row in (await conn.execute(statement)).all():
        views[row.id] = TransferView(
            id=row.id,
            payer=Party(row.payer_user_id, mask_phone(row.payer_phone), row.payer_name),
            payee=Party(row.payee_user_id, mask_phone(row.payee_phone), row.payee_name),
            amount=Money(row.amount, row.currency),
            memo=row.memo,
            status=row.status,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
        )
    return views


async def get_transfer(engine: AsyncEngine, *, transfer_id: str, user_id: str) -> TransferView:
    """The transfer, if ``user_id`` sent or received it; anyone else gets ``not_found``."""

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        mine = or_(transfers.c.payer_user_id == user_id, transfers.c.payee_user_id == user_id)
        found = (
            await conn.execute(
                select(transfers.c.id).where(and_(transfers.c.id == transfer_id, mine))
            )
        ).first()
        if found is None:
            return None
        return (await load_transfers(conn, [transfer_id]))[transfer_id]

    view = await run_unit(engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such transfer")
    assert isinstance(view, TransferView)
    return view
