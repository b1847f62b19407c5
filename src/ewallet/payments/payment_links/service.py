"""Payment links: made, listed and disabled by the merchant; opened by a payer.

A link carries a subject and a fixed amount or none (the payer types the amount on the
link's page). Opening it (:func:`open_link`) makes an ordinary order of the merchant's --
the same row, ``out_trade_no`` namespace, webhooks and refunds as an order made through
``POST /v1/merchant/orders`` -- and the payer goes on to the existing checkout page to pay
it. ``max_uses`` bounds how many orders the link makes; the count and the order are
written in one unit, so a refused opening leaves neither.

The token is 32 random bytes (``secrets.token_urlsafe``): the link cannot be guessed from
another, nor from its id.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ewallet.audit.service import Actor, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import InvalidAmountError, Money
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.models.payment_links import PaymentLinkStatus
from ewallet.payments import repository as shared
from ewallet.payments.errors import MerchantNotSupportedError, require_wallet_currency
from ewallet.payments.payment_links import repository
from ewallet.payments.payment_links.errors import PaymentLinkUnavailableError
from ewallet.payments.payment_links.views import PaymentLinkView
from ewallet.payments.views import OrderView
from ewallet.services import Services

DEFAULT_PREFIX: Final = "PL"
PREFIX: Final = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MAX_USES: Final = 1_000_000
MAX_SUBJECT: Final = 128
# What an opened link's orders are numbered after the prefix: the link's own random tail
# (so two links with one prefix never collide) and the use count.
_LINK_TAIL: Final = 10


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """What the merchant asks for: ``amount`` None is an open amount."""

    subject: str
    amount: Money | None = None
    currency: str = "CNY"
    out_trade_prefix: str | None = None
    expires_at: datetime | None = None
    max_uses: int | None = None


def _check(request: LinkRequest, now: datetime) -> None:
    require_wallet_currency(request.currency)
    if request.amount is not None:
        require_wallet_currency(request.amount.currency)
    if not request.subject.strip() or len(request.subject) > MAX_SUBJECT:
        raise ValidationFailedError(f"a subject has 1 to {MAX_SUBJECT} characters", field="subject")
    prefix = request.out_trade_prefix
    if prefix is not None and not PREFIX.match(prefix):
        raise ValidationFailedError(
            "out_trade_prefix is 1 to 16 letters, digits, _ or -", field="out_trade_prefix"
        )
    if request.expires_at is not None:
        if request.expires_at.tzinfo is None:
            raise ValidationFailedError("expires_at needs its UTC offset", field="expires_at")
        if request.expires_at <= now:
            raise ValidationFailedError("expires_at must be in the future", field="expires_at")
    if request.max_uses is not None and not 1 <= request.max_uses <= MAX_USES:
        raise ValidationFailedError(f"max_uses is 1 to {MAX_USES}", field="max_uses")


async def create_link(
    services: Services, actor: Actor, merchant_id: str, *, request: LinkRequest
) -> PaymentLinkView:
    """A new active link of the merchant's (audited: ``payment_link.created``). Refusals,
    with nothing written: an amount in a currency no wallet holds
    (``currency_not_supported``), a bad subject, prefix, expiry or use limit
    (``validation_error``), a merchant that does not take wallet payments
    (``merchant_not_supported``: nobody could pay the link's orders)."""
    clock = services.clock
    _check(request, clock.now())
    link_id = new_id("plk")

    async def work(uow: UnitOfWork) -> PaymentLinkView:
        conn = await uow.connection()
        now = clock.now()
        merchant = await shared.merchant_view(conn, merchant_id)
        if merchant is None or not merchant.takes_wallet_payments:
            raise MerchantNotSupportedError("this merchant does not take wallet payments")
        await repository.insert_link(
            conn,
            id=link_id,
            merchant_id=merchant_id,
            token=secrets.token_urlsafe(32),
            amount=None if request.amount is None else request.amount.minor,
            currency=request.currency if request.amount is None else request.amount.currency,
            subject=request.subject,
            out_trade_prefix=request.out_trade_prefix or DEFAULT_PREFIX,
            status=PaymentLinkStatus.ACTIVE,
            max_uses=request.max_uses,
            uses=0,
            expires_at=request.expires_at,
            disabled_at=None,
            created_at=now,
            updated_at=now,
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="payment_link.created",
            subject_type="payment_link",
            subject_id=link_id,
            details={
                "merchant_id": merchant_id,
                "amount": None if request.amount is None else request.amount.minor,
                "max_uses": request.max_uses,
            },
        )
        view = await repository.link_view(conn, now=now, link_id=link_id)
        assert view is not None
        return view

    return await run_unit(services.engine, work)


async def get_link(services: Services, merchant_id: str, *, link_id: str) -> PaymentLinkView:
    """One of the merchant's links; another merchant's (or none) is ``not_found``."""

    async def work(uow: UnitOfWork) -> PaymentLinkView | None:
        return await repository.link_view(
            await uow.connection(),
            now=services.clock.now(),
            link_id=link_id,
            merchant_id=merchant_id,
        )

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such payment link")
    return view


async def list_links(
    services: Services, merchant_id: str, *, limit: int, cursor: str | None = None
) -> Page[PaymentLinkView]:
    """The merchant's links newest first; ``next_cursor`` when more remain. Refusal:
    ``validation_error`` (a limit out of range, a malformed cursor)."""
    limit = check_limit(limit)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[PaymentLinkView]:
        return await repository.list_links(
            await uow.connection(),
            merchant_id=merchant_id,
            after=after,
            limit=limit + 1,
            now=services.clock.now(),
        )

    found = await run_unit(services.engine, work, read_only=True)
    return newest_first_page(found, limit)


async def disable_link(
    services: Services, actor: Actor, merchant_id: str, *, link_id: str
) -> PaymentLinkView:
    """Disable the link for good (audited: ``payment_link.disabled``); again: no change.
    Orders it already made stay payable. ``not_found`` for another merchant's link."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> PaymentLinkView:
        conn = await uow.connection()
        now = clock.now()
        changed = await repository.disable_link(
            conn, link_id=link_id, merchant_id=merchant_id, now=now
        )
        view = await repository.link_view(conn, now=now, link_id=link_id, merchant_id=merchant_id)
        if view is None:
            raise NotFoundError("no such payment link")
        if changed:
            await record_event(
                conn,
                clock=clock,
                actor=actor,
                action="payment_link.disabled",
                subject_type="payment_link",
                subject_id=link_id,
                details={"merchant_id": merchant_id},
            )
        return view

    return await run_unit(services.engine, work)


async def link_for_payer(services: Services, *, token: str) -> PaymentLinkView:
    """The link a payer opened, whatever its state (its page says it); ``not_found`` else."""

    async def work(uow: UnitOfWork) -> PaymentLinkView | None:
        return await repository.link_view(
            await uow.connection(), now=services.clock.now(), token=token
        )

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such payment link")
    return view


def _unavailable(view: PaymentLinkView) -> PaymentLinkUnavailableError:
    return PaymentLinkUnavailableError(
        f"this payment link is {view.status.replace('_', ' ')}", reason=view.status
    )


async def open_link(services: Services, *, token: str, amount: Money | None) -> OrderView:
    """Make an order from the link for the payer to pay at checkout: the link's amount, or
    ``amount`` (what the payer typed) for an open link. Refusals, in order, with nothing
    written: no such link (``not_found``), an open link without an amount
    (``invalid_amount``), a disabled, expired or used-up link
    (``payment_link_unavailable``, ``reason`` says which), a merchant that no longer takes
    wallet payments (``merchant_not_supported``)."""
    clock = services.clock
    link = await link_for_payer(services, token=token)
    if link.amount is None and amount is None:
        raise InvalidAmountError("type the amount to pay")
    charged = link.amount if link.amount is not None else amount
    assert charged is not None
    require_wallet_currency(charged.currency)
    if not link.usable:
        raise _unavailable(link)
    lifetime = timedelta(seconds=services.settings.order_default_expiry_seconds)

    async def work(uow: UnitOfWork) -> OrderView:
        conn = await uow.connection()
        now = clock.now()
        merchant = await shared.merchant_view(conn, link.merchant_id)
        if merchant is None or not merchant.takes_wallet_payments:
            raise MerchantNotSupportedError("this merchant does not take wallet payments")
        use = await repository.take_use(conn, link_id=link.id, now=now)
        if use is None:  # disabled, expired or used up since it was read
            current = await repository.link_view(conn, now=now, link_id=link.id)
            assert current is not None
            raise _unavailable(current)
        order_id = new_id("ord")
        digest = json.dumps([link.id, use, charged.minor, charged.currency])
        await shared.insert_order(
            conn,
            order_id=order_id,
            merchant_id=link.merchant_id,
            out_trade_no=f"{link.out_trade_prefix}-{link.id[-_LINK_TAIL:]}-{use}",
            amount=charged,
            subject=link.subject,
            notify_url=None,
            request_hash=hashlib.sha256(digest.encode()).hexdigest(),
            expires_at=now + lifetime,
            now=now,
        )
        view = await shared.order_view(conn, order_id, now=now)
        assert view is not None
        return view

    return await run_unit(services.engine, work)
