"""Where a payment-code charge's money comes from: the user's setting, and what it means
for one charge (docs/payment-code.md, "Funding").

``GET``/``PUT /v1/me/payment-code/funding`` read and set the source:

- ``balance_first`` (the default, also with no row): the balance; when it is short, a
  bound card pays the rest -- the card the setting names, else the user's default card
  (the newest active one). Without an active card a short balance is
  ``insufficient_balance``, as before;
- ``card``: all of it from the named card.

A card is never debited without the payment password (docs/card-payments.md), and the
cashier's till cannot bring it: a charge the card would fund goes the pending way of a
charge above the no-PIN limit (:mod:`.charges`), and the payer's confirmation pays it
through the card-funding path of orders (:mod:`.confirmations`,
:func:`~ewallet.payments.card_funding.service.pay_order_funded`).
"""

from __future__ import annotations

from ewallet.audit.service import Actor, audit_user
from ewallet.cards.binding.service import list_cards
from ewallet.identity.guards import locked_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.models.card_payments import FundingSource
from ewallet.models.funding import CardStatus
from ewallet.models.payment_codes import CodeFundingSource
from ewallet.payments.card_funding.reading import available_balance
from ewallet.payments.card_funding.views import CardChoice, FundingChoice
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.views import CodeFunding
from ewallet.services import Services


async def active_cards(services: Services, user_id: str) -> list[CardChoice]:
    """The user's active cards, newest first (the first is the default card)."""
    return [
        CardChoice(card.id, card.bank_name, card.last_four)
        for card in await list_cards(services, user_id)
        if card.status == CardStatus.ACTIVE
    ]


async def get_funding(services: Services, user_id: str) -> CodeFunding:
    """The user's payment-code source (reads only)."""

    async def work(uow: UnitOfWork) -> tuple[str, str | None] | None:
        return await repository.funding_of(await uow.connection(), user_id)

    stored = await run_unit(services.engine, work, read_only=True)
    source, card_id = stored or (CodeFundingSource.BALANCE_FIRST.value, None)
    cards = await active_cards(services, user_id)
    named = [card for card in cards if card.id == card_id]
    card = named[0] if named else (cards[0] if cards and card_id is None else None)
    return CodeFunding(CodeFundingSource(source), card_id, card)


async def set_funding(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    source: CodeFundingSource,
    card_id: str | None,
) -> CodeFunding:
    """Set the source; ``card`` needs ``card_id`` (``validation_error``), and a named card
    must be the user's active card (``not_found``, anyone else's included). Audited as
    ``payment_code.funding_changed``. Moves no money, so asks for no password."""
    if source is CodeFundingSource.CARD and card_id is None:
        raise ValidationFailedError("a card source needs card_id")
    active = {card.id for card in await active_cards(services, user_id)}
    if card_id is not None and card_id not in active:
        raise NotFoundError("no such card")

    async def work(uow: UnitOfWork) -> None:
        await locked_user(uow, user_id)
        now = services.clock.now()
        conn = await uow.connection()
        await repository.put_funding(
            conn, user_id=user_id, source=source.value, card_id=card_id, now=now
        )
        await audit_user(
            uow,
            services.clock,
            actor,
            "payment_code.funding_changed",
            user_id,
            details={"source": source.value, "card_id": card_id},
        )

    await run_unit(services.engine, work)
    return await get_funding(services, user_id)


async def confirmation_funding(
    services: Services, user_id: str, *, amount: Money
) -> FundingChoice | None:
    """How the confirmation of a charge of ``amount`` pays: from a card
    (:class:`FundingChoice`), or None for the balance alone (the setting is
    ``balance_first`` and the balance covers it, or there is no card)."""
    found = await get_funding(services, user_id)
    if found.card is None:
        return None
    if found.source is CodeFundingSource.CARD:
        return FundingChoice(FundingSource.CARD, found.card.id)
    available = await available_balance(services, user_id, currency=amount.currency)
    if available.minor >= amount.minor:
        return None
    return FundingChoice(FundingSource.BALANCE_AND_CARD, found.card.id)
