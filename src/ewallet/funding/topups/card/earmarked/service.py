"""A card debit earmarked for one payment: the top-up machinery, minus its own settling.

A payment funded by a bound card (:mod:`ewallet.payments.card_funding`, docs/card-payments.md)
debits the card for its card part exactly as a card top-up does -- the same ``topups`` row
(``method`` ``card``), the same deterministic bank request id ``topup:<id>``, the same
suspense while the bank's answer is unknown, the same reconciliation against the bank's
settlement file -- but the money is earmarked: crediting the wallet and paying the order
happen in *one* unit, which the payment owns. So this module gives the payment the steps
as pieces it composes into its own units, instead of use cases of their own:

- :func:`open_card_debit` (in the payment's first unit): the card is the payer's and
  ``active`` (``not_found`` else, read ``FOR SHARE`` so an unbind waits), the ``pending``
  top-up row; the decrypted agreement token to debit with;
- :func:`ask_bank` (outside any unit): one debit, its answer as a value, never an
  exception: ``succeeded``, ``declined`` (the bank refused: nothing moved), ``unavailable``
  (the request cannot have reached the bank) or ``unknown`` (it may have: settle later);
- :func:`carry_in_suspense` (its own unit): the unknown amount in suspense, as for a top-up;
- :func:`credit_earmarked` / :func:`fail_earmarked` (in the payment's settling unit): the
  top-up ``succeeded`` with the wallet credited from the bank (or from suspense) under the
  ledger key ``topup:<id>``, its metadata naming what it funds and no top-up notice; or
  ``failed`` with suspense released.

Such a top-up is skipped by the top-ups' own settle job
(:func:`ewallet.funding.topups.card.jobs.settle_pending_topups`): its payment's job settles it.
The payers are orders (:mod:`ewallet.payments.card_funding`) and bills
(:mod:`ewallet.bills.card_funding`); one card daily cap counts both
(:func:`card_spent_since`, :func:`check_card_daily_cap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.topups import repository
from ewallet.funding.topups.card.earmarked import repository as earmarked_repository
from ewallet.funding.topups.card.service import (
    bank_request_id,
    hold_unknown_in_suspense,
    is_in_suspense,
    release_suspense,
    settlement_accounts,
)
from ewallet.funding.topups.service import credit_topup, find_topup
from ewallet.funding.topups.views import TopupView
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import Account, chart
from ewallet.models.funding import CardStatus, TopupMethod, TopupStatus
from ewallet.risk.limits import china_day_start
from ewallet.risk.spending import LimitExceededError
from ewallet.services import Services

log = structlog.get_logger(__name__)

# The limit named in ``limit_exceeded`` when the card's daily cap refuses a payment.
CARD_DAILY_LIMIT: Final = "card_payment_daily"

BankOutcome = Literal["succeeded", "declined", "unavailable", "unknown", "not_found"]


@dataclass(frozen=True, slots=True)
class CardDebit:
    """A recorded, not yet answered debit: its top-up, the card's bank and agreement."""

    topup: TopupView
    bank_code: str
    agreement_token: str


@dataclass(frozen=True, slots=True)
class BankAnswer:
    outcome: BankOutcome
    reason: str | None = None  # the bank's reason for a decline; the error code if unavailable
    bank_reference: str | None = None
    amount: Money | None = None  # what a query says was debited
    error: DomainError | None = None  # for ``unavailable``: what to answer the caller


@dataclass(frozen=True, slots=True)
class CreditAccounts:
    """The accounts an earmarked credit posts from: the bank's settlement account and
    suspense (the wallet's is opened with them)."""

    bank: Account
    suspense: Account


async def open_card_debit(
    uow: UnitOfWork,
    services: Services,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    now: datetime,
) -> CardDebit:
    """The ``pending`` top-up of ``amount`` from ``card_id`` (``not_found`` unless it is
    the user's active card), in the caller's unit (its step 2 lock: the card ``FOR SHARE``)."""
    card = await repository.share_locked_card(uow, card_id)
    if card is None or card.user_id != user_id or card.status != CardStatus.ACTIVE:
        raise NotFoundError("no such card")
    if card.agreement_token_encrypted is None:
        raise NotFoundError("no such card")
    token = services.security.cipher.decrypt(
        card.agreement_token_encrypted, context=f"agreement:{card.id}"
    )
    topup = await repository.insert_topup(
        await uow.connection(),
        topup_id=new_id("top"),
        user_id=user_id,
        method=TopupMethod.CARD,
        card_id=card.id,
        amount=amount,
        status=TopupStatus.PENDING,
        request_key=None,  # the payment keeps the request's key
        now=now,
    )
    return CardDebit(topup, card.bank_code, token)


async def ask_bank(services: Services, debit: CardDebit) -> BankAnswer:
    """Ask the bank to debit once (request id ``topup:<id>``); the answer, never a raise.

    The gateway raises only when the request cannot have reached the bank (``declined`` or
    ``unavailable``); anything else unexpected may have reached it: ``unknown``.
    """
    topup = debit.topup
    try:
        result = await services.bank.debit(
            agreement_token=debit.agreement_token,
            amount=topup.amount,
            request_id=bank_request_id(topup.id),
        )
    except BankDeclinedError as declined:
        return BankAnswer("declined", reason=declined.extra.get("reason") or str(declined))
    except DomainError as error:
        return BankAnswer("unavailable", reason=error.code, error=error)
    except Exception:
        log.exception("funding.earmarked_debit_failed", topup_id=topup.id)
        return BankAnswer("unknown")
    log.info("funding.earmarked_debit", topup_id=topup.id, status=result.status)
    if result.status == "succeeded":
        return BankAnswer("succeeded", bank_reference=result.bank_reference)
    if result.status == "declined":
        return BankAnswer("declined", reason=result.reason or "declined")
    return BankAnswer("unknown")


async def query_bank(services: Services, topup: TopupView) -> BankAnswer:
    """What the bank knows now of the debit (the same request id; never a new debit)."""
    try:
        status = await services.bank.query(request_id=bank_request_id(topup.id))
    except DomainError as error:
        return BankAnswer("unavailable", reason=error.code, error=error)
    if status.status == "succeeded":
        return BankAnswer("succeeded", bank_reference=status.bank_reference, amount=status.amount)
    if status.status == "declined":
        return BankAnswer("declined", reason=status.reason or "declined")
    return BankAnswer("not_found")


async def carry_in_suspense(services: Services, debit: CardDebit) -> bool:
    """The debit's outcome is unknown: its amount in suspense until settled (own unit)."""
    return await hold_unknown_in_suspense(services, debit.topup, bank_code=debit.bank_code)


async def credit_accounts(services: Services, *, user_id: str, bank_code: str) -> CreditAccounts:
    """Open (or find) what :func:`credit_earmarked` posts between, before its unit."""
    bank, suspense = await settlement_accounts(services, bank_code, "CNY")
    await chart.open_account(services.ledger, chart.wallet(user_id, "CNY"))
    return CreditAccounts(bank, suspense)


async def credit_earmarked(
    uow: UnitOfWork,
    services: Services,
    *,
    topup: TopupView,
    accounts: CreditAccounts,
    bank_reference: str | None,
    funds: str,
) -> bool:
    """The debited card part into the wallet, once (``topup:<id>``), in the caller's unit;
    ``funds`` (``payment:<id>``) goes into the entry's metadata. False if it was credited
    already (reconciliation got there first): the money is in the wallet either way."""
    in_suspense = await is_in_suspense(uow, topup.id)
    source = accounts.suspense if in_suspense else accounts.bank
    return await credit_topup(
        uow,
        clock=services.clock,
        topup=topup,
        source_account_id=source.id,
        creditable=(TopupStatus.PENDING,),
        provider_reference=bank_reference,
        metadata={"funds": funds},
        notify=False,
    )


async def fail_earmarked(
    uow: UnitOfWork,
    services: Services,
    *,
    topup: TopupView,
    accounts: CreditAccounts,
    reason: str,
) -> bool:
    """The card was not debited: the top-up ``failed``, suspense released (caller's unit);
    False if it was no longer pending."""
    changed = await repository.fail_topup(
        await uow.connection(),
        topup.id,
        from_statuses=(TopupStatus.PENDING,),
        reason=reason,
        now=services.clock.now(),
    )
    if changed:
        await release_suspense(
            services, uow, topup, bank_account_id=accounts.bank.id, held_id=accounts.suspense.id
        )
    return changed


async def earmarked_topup(services: Services, topup_id: str) -> TopupView:
    """The top-up a card payment names (it exists: a foreign key)."""
    found = await find_topup(services, topup_id)
    assert found is not None
    return found


# ------------------------------------------------------------------ the card's daily cap


async def card_spent_since(conn: AsyncConnection, *, user_id: str, since: datetime) -> int:
    """What the user's earmarked card debits since ``since`` may have taken (orders' and
    bills' card parts, pending or credited): the card daily cap's count."""
    return await earmarked_repository.earmarked_debited_since(conn, user_id=user_id, since=since)


async def check_card_daily_cap(
    services: Services, conn: AsyncConnection, *, user_id: str, card_part: Money, now: datetime
) -> None:
    """``limit_exceeded`` (limit ``card_payment_daily``, ``remaining``, ``resets_at``) if
    ``card_part`` would take the user's card payments today (China time) -- orders and bills
    together -- past ``card_payment_daily_limit_minor``. Read under the payer's row lock."""
    cap = services.settings.card_payment_daily_limit_minor
    day = china_day_start(now)
    used = await card_spent_since(conn, user_id=user_id, since=day)
    if used + card_part.minor <= cap:
        return
    remaining = Money(max(0, cap - used), card_part.currency)
    resets_at = (day + timedelta(days=1)).isoformat()
    raise LimitExceededError(
        f"the {CARD_DAILY_LIMIT} limit allows {remaining} more; resets at {resets_at}",
        limit=CARD_DAILY_LIMIT,
        resets_at=resets_at,
        remaining={"amount": remaining.to_decimal_string(), "currency": remaining.currency},
    )


async def bill_funding_topups(conn: AsyncConnection, topup_ids: list[str]) -> set[str]:
    """Those of ``topup_ids`` earmarked for a bill payment (the top-ups' job skips them)."""
    return await earmarked_repository.bill_funding_topups(conn, topup_ids)
