"""Top-ups from a bound card: one debit at the bank per top-up, ever.

The flow (API.md ``POST /v1/topups`` with ``method: card``):

1. the payment password is checked by the endpoint (``PaymentPasswordDep``);
2. in one unit: the account is not frozen, the card is the caller's and ``active`` (else
   ``not_found``, read under a lock so an unbind cannot slip in), and the ``pending`` top-up
   row is inserted. Its bank request id is deterministic, ``topup:<id>``, so every later
   call about it (a query, a reconciliation) names the same operation at the bank;
3. the bank is asked to debit, outside any transaction;
4. ``succeeded``: :func:`credit_card_topup` posts ``bank_settlement:<bank>`` -> wallet with
   the ledger key ``topup:<id>``, marks the top-up ``succeeded`` and notifies the user, all
   in one unit guarded by a conditional ``UPDATE`` (credited at most once, however many
   settlers race); ``declined``: the top-up is ``failed`` with the bank's reason (the row
   stays as the record) and the caller gets ``bank_declined``; ``unknown`` (a timeout, a
   5xx, a dropped connection): the top-up stays ``pending``, its amount is carried in
   the suspense account (:mod:`ewallet.funding.suspense`), and it is settled later by
   :func:`ewallet.funding.settle.settle_pending_topups`, which queries the bank with the
   same request id, or by reconciliation against the bank's settlement file. The wallet
   never sends a second debit for a top-up.

Once the debit may have been sent, nothing escapes as a 500: if recording the bank's answer
fails, the top-up stays ``pending`` (answered ``202``) and the settle job finishes it. The
top-up keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`),
so a retry of that request answers it (:func:`resume_card_topup`) and never debits again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Final, Literal

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.funding.service import TopupView, credit_topup, topup_for_request
from ewallet.funding.suspense import book_in_suspense, is_in_suspense, release_suspense
from ewallet.identity.guards import ensure_not_frozen
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.clock import Clock
from ewallet.kit.db.locking import SHARE
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Ledger, chart
from ewallet.models.funding import Card
from ewallet.models.identity import User
from ewallet.models.tables import topups
from ewallet.notify.service import notify_user
from ewallet.security.crypto import FieldCipher

log = structlog.get_logger(__name__)


CardOutcome = Literal["succeeded", "pending"]
Credited = Literal["credited", "already_settled"]
# Only a pending card top-up can be settled; a failed one stays failed (see settle.py).
_SETTLEABLE: Final = ("pending",)


def bank_request_id(topup_id: str) -> str:
    """The deterministic id of a top-up's one debit at the bank."""
    return f"topup:{topup_id}"


@dataclass(frozen=True, slots=True)
class CardTopupServices:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    gateway: BankGateway
    cipher: FieldCipher


@dataclass(frozen=True, slots=True)
class CardTopupResult:
    topup: TopupView
    outcome: CardOutcome


@dataclass(frozen=True, slots=True)
class _Started:
    topup: TopupView
    bank_code: str
    agreement_token: str


async def _start(
    services: CardTopupServices,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: str | None,
) -> _Started:
    topup_id = new_id("top")

    async def work(uow: UnitOfWork) -> _Started:
        conn = await uow.connection()
        await ensure_not_frozen(conn, user_id=user_id)
        # FOR SHARE (kit/db/locking.py): an unbind waits for this unit, parallel top-ups
        # from the card do not wait for each other.
        card = await uow.session.get(Card, card_id, with_for_update=SHARE, populate_existing=True)
        if card is None or card.user_id != user_id or card.status != "active":
            raise NotFoundError("no such card")
        if card.agreement_token_encrypted is None:
            raise NotFoundError("no such card")
        token = services.cipher.decrypt(
            card.agreement_token_encrypted, context=f"agreement:{card.id}"
        )
        now = services.clock.now()
        await conn.execute(
            insert(topups).values(
                id=topup_id,
                user_id=user_id,
                method="card",
                card_id=card.id,
                amount=amount.minor,
                currency=amount.currency,
                status="pending",
                provider_reference=None,
                failure_reason=None,
                ledger_transaction_id=None,
                request_key=request_key,
                created_at=now,
                updated_at=now,
                completed_at=None,
            )
        )
        row = (await conn.execute(select(topups).where(topups.c.id == topup_id))).one()
        return _Started(TopupView.of(row), card.bank_code, token)

    return await run_unit(services.engine, work)


async def resume_card_topup(
    engine: AsyncEngine, *, user_id: str, request_key: RequestKey | None
) -> CardTopupResult | None:
    """A rerun of a request that made a card top-up: its state now, never a second debit.

    ``None`` when the request made none yet; raises ``bank_declined`` if it failed.
    """
    earlier = await topup_for_request(engine, user_id=user_id, request_key=request_key)
    return None if earlier is None else _answer(earlier)


def _answer(topup: TopupView) -> CardTopupResult:
    if topup.status == "failed":
        reason = topup.failure_reason or "declined"
        raise BankDeclinedError(f"the bank declined the debit: {reason}", reason=reason)
    return CardTopupResult(topup, "succeeded" if topup.status == "succeeded" else "pending")


async def start_card_topup(
    services: CardTopupServices,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: RequestKey | None = None,
) -> CardTopupResult:
    """Debit the card once and credit the wallet; the PIN was checked by the caller.

    Raises ``not_found`` (no such active card of the caller's), ``account_frozen``,
    ``bank_declined`` (the top-up is recorded ``failed``), ``upstream_unavailable``
    (the bank could not be reached: nothing moved, the top-up is ``failed``). With
    ``request_key``, a rerun of the same request answers the top-up it made.
    """
    digest = None if request_key is None else request_key.digest
    try:
        started = await _start(
            services, user_id=user_id, card_id=card_id, amount=amount, request_key=digest
        )
    except IntegrityError:
        # A concurrent run of the same request recorded it first: answer that one.
        earlier = await resume_card_topup(services.engine, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    topup = started.topup
    if request_key is not None:
        request_key.effect_possible()  # from here on, the key never goes back
    try:
        result = await services.gateway.debit(
            agreement_token=started.agreement_token,
            amount=amount,
            request_id=bank_request_id(topup.id),
        )
    except (BankDeclinedError, DomainError) as error:
        # The gateway raises only when the request cannot have reached the bank. After a
        # 5xx the client may retry with the same key: the top-up lets go of it then.
        declined = isinstance(error, BankDeclinedError)
        reason = str(error) if declined else error.code
        if not await _recorded(_fail_now(services, started, reason, forget=not declined), topup):
            return await _state_now(services.engine, topup)
        if not declined and request_key is not None:
            request_key.nothing_happened()
        raise
    except Exception:
        # Anything else (a bug included) may have reached the bank: pending, settled later.
        log.exception("funding.card_debit_failed", topup_id=topup.id)
        await _recorded(_carry_in_suspense(services, started), topup)
        return await _state_now(services.engine, topup)
    log.info("funding.card_debit", topup_id=topup.id, status=result.status, reason=result.reason)
    if result.status == "succeeded":
        credited = credit_card_topup(
            services.engine,
            services.ledger,
            clock=services.clock,
            topup=topup,
            bank_code=started.bank_code,
            bank_reference=result.bank_reference,
        )
        await _recorded(credited, topup)
        return await _state_now(services.engine, topup)
    if result.status == "declined":
        reason = result.reason or "declined"
        if not await _recorded(_fail_now(services, started, reason), topup):
            return await _state_now(services.engine, topup)
        raise BankDeclinedError(f"the bank declined the debit: {reason}", reason=reason)
    await _recorded(_carry_in_suspense(services, started), topup)
    return CardTopupResult(topup, "pending")


async def _carry_in_suspense(services: CardTopupServices, started: _Started) -> None:
    await hold_unknown_in_suspense(
        services.engine,
        services.ledger,
        services.clock,
        started.topup,
        bank_code=started.bank_code,
    )


async def _recorded(step: Awaitable[Any], topup: TopupView) -> bool:
    """Run a step recording the bank's answer; False (logged) if it could not be recorded.

    The card may have been debited: an error here must not become a 500 the client
    retries. The top-up stays ``pending`` and the settle job finishes it.
    """
    try:
        await step
    except Exception:
        log.exception("funding.card_topup_unrecorded", topup_id=topup.id)
        return False
    return True


async def _state_now(engine: AsyncEngine, topup: TopupView) -> CardTopupResult:
    """The top-up's answer as stored now; if even that read fails, still pending."""
    try:
        current = await _reload(engine, topup.id)
    except Exception:
        log.exception("funding.card_topup_unread", topup_id=topup.id)
        return CardTopupResult(topup, "pending")
    return _answer(current)


async def _fail_now(
    services: CardTopupServices, started: _Started, reason: str, *, forget: bool = False
) -> None:
    await mark_card_topup_failed(
        services.engine,
        services.ledger,
        services.clock,
        started.topup,
        bank_code=started.bank_code,
        reason=reason,
        forget_request=forget,
    )


async def _reload(engine: AsyncEngine, topup_id: str) -> TopupView:
    async def work(uow: UnitOfWork) -> TopupView:
        conn = await uow.connection()
        row = (await conn.execute(select(topups).where(topups.c.id == topup_id))).one()
        return TopupView.of(row)

    return await run_unit(engine, work, read_only=True)


async def mark_card_topup_failed(
    engine: AsyncEngine,
    ledger: Ledger,
    clock: Clock,
    topup: TopupView,
    *,
    bank_code: str,
    reason: str,
    notify: bool = False,
    forget_request: bool = False,
) -> bool:
    """``pending`` -> ``failed``, releasing any suspense; False if it was settled already.

    ``notify`` tells the owner (a settle job failing a top-up the user saw as pending); a
    request that fails at once answers the user directly instead. ``forget_request`` drops
    the request key, so the client's retry starts a new top-up.
    """
    bank, held = await _settlement_accounts(ledger, bank_code, topup.amount.currency)
    forget: dict[str, Any] = {"request_key": None} if forget_request else {}

    async def work(uow: UnitOfWork) -> bool:
        conn = await uow.connection()
        now = clock.now()
        changed = await conn.execute(
            update(topups)
            .where(topups.c.id == topup.id, topups.c.status.in_(_SETTLEABLE))
            .values(
                status="failed",
                failure_reason=reason[:200],
                updated_at=now,
                completed_at=now,
                **forget,
            )
        )
        if changed.rowcount != 1:
            return False
        await release_suspense(
            uow,
            clock=clock,
            topup_id=topup.id,
            amount=topup.amount,
            bank_account_id=bank.id,
            suspense_account_id=held.id,
        )
        if notify:
            user = await uow.session.get(User, topup.user_id)
            assert user is not None
            params = {"amount": topup.amount.to_decimal_string(), "currency": topup.amount.currency}
            await notify_user(
                uow.session,
                clock=clock,
                user=user,
                kind="topup_failed",
                params=params,
                sms=False,
                security=False,
            )
        return True

    return await run_unit(engine, work)


async def hold_unknown_in_suspense(
    engine: AsyncEngine, ledger: Ledger, clock: Clock, topup: TopupView, *, bank_code: str
) -> bool:
    """The debit's outcome is unknown: carry the amount in suspense until it is settled."""
    bank, held = await _settlement_accounts(ledger, bank_code, topup.amount.currency)

    async def work(uow: UnitOfWork) -> bool:
        return await book_in_suspense(
            uow,
            clock=clock,
            topup_id=topup.id,
            amount=topup.amount,
            bank_account_id=bank.id,
            suspense_account_id=held.id,
        )

    return await run_unit(engine, work)


async def _settlement_accounts(ledger: Ledger, bank_code: str, currency: str) -> tuple[Any, Any]:
    bank = await chart.open_account(ledger, chart.bank_settlement(bank_code, currency))
    held = await chart.open_account(ledger, chart.suspense(currency))
    return bank, held


async def credit_card_topup(
    engine: AsyncEngine,
    ledger: Ledger,
    *,
    clock: Clock,
    topup: TopupView,
    bank_code: str,
    bank_reference: str | None,
    creditable: tuple[str, ...] = _SETTLEABLE,
) -> Credited:
    """Credit a debited card top-up exactly once (ledger key ``topup:<id>``) and notify.

    The money comes out of suspense when the top-up was carried there (its outcome was
    unknown), else straight from the bank's settlement account. ``creditable`` widens the
    statuses that may be credited: reconciliation credits a ``failed`` top-up the bank's
    settlement file shows as debited after all.
    """
    currency = topup.amount.currency
    settlement, held = await _settlement_accounts(ledger, bank_code, currency)
    await chart.open_account(ledger, chart.wallet(topup.user_id, currency))

    async def work(uow: UnitOfWork) -> Credited:
        source = held if await is_in_suspense(uow, topup.id) else settlement
        credited = await credit_topup(
            uow,
            clock=clock,
            topup=topup,
            source_account_id=source.id,
            creditable=creditable,
            provider_reference=bank_reference,
            metadata={"bank": bank_code},
        )
        return "credited" if credited else "already_settled"

    credited = await run_unit(engine, work)
    log.info("funding.card_topup_credited", topup_id=topup.id, outcome=credited)
    return credited
