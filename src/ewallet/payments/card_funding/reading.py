"""Reading card-funded payments: one payment as its payer sees it, and what an order's
payer could pay it from (the wallet's order page and the payment-code confirmation).

Split from :mod:`.service` (which re-exports :func:`card_payment_view` and
:func:`payer_choices`) to keep the use case's module about moving money.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ewallet.cards.binding.service import list_cards
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.card_payments import CardPaymentStatus
from ewallet.models.funding import CardStatus
from ewallet.payments import repository as payments_repository
from ewallet.payments.card_funding import repository
from ewallet.payments.card_funding.views import CardChoice, CardPaymentView, PayerChoices
from ewallet.payments.service import get_payment, order_for_payer
from ewallet.payments.views import OrderView, PaymentView
from ewallet.services import Services

PENDING: Final = "pending"
FAILED: Final = "failed"


async def order_of(services: Services, order_id: str) -> OrderView:
    async def work(uow: UnitOfWork) -> OrderView | None:
        conn = await uow.connection()
        return await payments_repository.order_view(conn, order_id, now=services.clock.now())

    found = await run_unit(services.engine, work, read_only=True)
    assert found is not None  # a foreign key
    return found


async def card_payment_view(services: Services, user_id: str, *, payment_id: str) -> PaymentView:
    """One of the payer's payments as ``GET /v1/payments/{id}`` shows it: the payment once
    the order is paid (with its funding), else the card payment ``pending`` or ``failed``;
    ``not_found`` for anyone else's."""

    async def work(uow: UnitOfWork) -> tuple[CardPaymentView | None, PaymentView | None]:
        conn = await uow.connection()
        card = await repository.card_payment(conn, payment_id, user_id=user_id)
        paid = await payments_repository.payment_view(conn, payment_id, user_id=user_id)
        return card, paid

    card, paid = await run_unit(services.engine, work, read_only=True)
    if card is None:  # a payment from the balance (or one held for review)
        return await get_payment(services, user_id, payment_id=payment_id)
    if paid is not None:
        return replace(paid, funding=card.funding)
    order = await order_of(services, card.order_id)
    status = PENDING if card.status == CardPaymentStatus.PENDING else FAILED
    return PaymentView(
        id=card.id,
        order_id=card.order_id,
        merchant_id=order.merchant_id,
        merchant_name=order.merchant_name,
        subject=order.subject,
        user_id=card.user_id,
        amount=card.amount,
        refunded=Money(0, card.amount.currency),
        status=status,
        ledger_transaction_id=None,
        created_at=card.created_at,
        funding=card.funding,
    )


async def payer_choices(services: Services, user_id: str, *, order_id: str) -> PayerChoices:
    """The order as ``user_id`` sees it before paying (:func:`order_for_payer`), with the
    available balance and their active cards: the wallet's order page offers "pay the rest
    with card ****1234" and "pay all with card" when the balance is short (reads only)."""
    shown = await order_for_payer(services, user_id, order_id=order_id)
    currency = shown.order.amount.currency
    available = (await available_balance(services, user_id, currency=currency)).minor
    cards = tuple(
        CardChoice(card.id, card.bank_name, card.last_four)
        for card in await list_cards(services, user_id)
        if card.status == CardStatus.ACTIVE
    )
    return PayerChoices(shown, Money(available, currency), cards)


async def available_balance(services: Services, user_id: str, *, currency: str) -> Money:
    """The user's available wallet balance (posted less holds; reads only)."""

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        wallet = await ledger_repository.get_account_by_code(
            conn, chart.wallet(user_id, currency).code
        )
        return 0 if wallet is None else wallet.available

    return Money(await run_unit(services.engine, work, read_only=True), currency)
