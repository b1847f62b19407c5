"""Money requests and split bills: the use cases.

**Asking.** :func:`create_money_request` asks the customer of a phone number for an
amount. The number is looked up exactly as a transfer's payee is
(:func:`ewallet.transfers.service.preview_transfer`): the same per-user cap on look-ups
(``rate_limited``), the same refusals in the same shape (``invalid_phone``,
``transfer_to_self``, ``not_found`` for a number without a wallet, ``payee_account_frozen``)
-- so asking tells nothing about a number that a transfer's confirmation would not, and is
capped the same. A split bill (:func:`split_bill`) does the look-up for each payer (each
counts against the same cap) and writes one request per payer, in one unit.

**Paying.** :func:`accept_money_request` is a transfer to the requester through
:func:`ewallet.transfers.service.create_transfer` -- its PIN check, limits, risk decision,
step-up and request key, none of them written twice -- which, inside the transfer's own
unit, claims the request (``settles``): a conditional update from ``open`` to ``paid``
naming the transfer. Two accepts racing both pass the PIN; the database lets one claim
through and the other's whole unit, money included, rolls back with
``money_request_not_open``. A wrong PIN fails before the unit: the request stays open and
nothing moves.

**Ending.** The payer declines, the requester cancels, each a conditional update of an
open, unexpired request. A request expires ``EWALLET_MONEY_REQUEST_TTL_HOURS`` (72) after
it was made: every read computes it from ``expires_at`` (an open request past it reads
``expired`` and can no longer be paid), and an outbox event due at ``expires_at``
(:mod:`ewallet.money_requests.jobs`) stores ``expired`` and tells the requester -- no
periodic sweep. Notices (in-app; no SMS, so a request from a stranger cannot become a
text message that looks like ours): received (payer), paid, declined and expired
(requester), cancelled (payer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ewallet.audit.service import Actor
from ewallet.identity.runtime import Caller
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ForbiddenError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.kit.request_key import RequestKey
from ewallet.models.identity import User
from ewallet.models.money_requests import MoneyRequestStatus
from ewallet.money_requests import repository
from ewallet.money_requests.errors import MoneyRequestNotOpenError
from ewallet.money_requests.shares import check_custom_shares, equal_shares
from ewallet.money_requests.views import MoneyRequestView, SplitBillView
from ewallet.notify.service import notify_user
from ewallet.services import Services
from ewallet.transfers.service import MEMO_MAX_LENGTH, create_transfer, preview_transfer
from ewallet.transfers.views import Party, Payee, TransferView
from ewallet.worker.outbox import enqueue

EXPIRY_TOPIC: Final = "money_requests.expire"
NOTE_MAX_LENGTH: Final = MEMO_MAX_LENGTH  # the note becomes the paying transfer's memo


@dataclass(frozen=True, slots=True)
class Accepted:
    request: MoneyRequestView
    transfer: TransferView


def check_note(note: str | None) -> None:
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailedError(
            f"the note is longer than {NOTE_MAX_LENGTH} characters", field="note"
        )


def _ttl(services: Services) -> timedelta:
    return timedelta(hours=services.settings.money_request_ttl_hours)


async def _ask(
    uow: UnitOfWork,
    services: Services,
    *,
    requester: User,
    payer_id: str,
    amount: Money,
    note: str | None,
    split_id: str | None = None,
) -> str:
    """Write one open request, its notice to the payer and its expiry event; its id."""
    clock = services.clock
    now = clock.now()
    ttl = _ttl(services)
    request_id = new_id("mrq")
    await repository.insert_request(
        await uow.connection(),
        request_id=request_id,
        requester_id=requester.id,
        payer_id=payer_id,
        amount=amount,
        note=note,
        expires_at=now + ttl,
        now=now,
        split_id=split_id,
    )
    payer = await repository.user_by_id(uow.session, payer_id)
    assert payer is not None  # found by the look-up; users are never deleted
    await _notify(
        uow,
        clock,
        user=payer,
        kind="money_request_received",
        other=Party.of(requester),
        amount=amount,
        note=note,
        expires=(now + ttl).isoformat(timespec="minutes"),
    )
    await enqueue(
        uow.session,
        topic=EXPIRY_TOPIC,
        payload={"money_request_id": request_id},
        clock=clock,
        delay=ttl,
    )
    return request_id


async def _notify(
    uow: UnitOfWork,
    clock: Clock,
    *,
    user: User,
    kind: str,
    other: Party,
    amount: Money,
    **extra: str | None,
) -> None:
    params = {
        "other": other.describe(),
        "amount": amount.to_decimal_string(),
        "currency": amount.currency,
        **{key: value or "" for key, value in extra.items()},
    }
    await notify_user(
        uow.session, clock=clock, user=user, kind=kind, params=params, sms=False, security=False
    )


async def _user(uow: UnitOfWork, user_id: str) -> User:
    user = await repository.user_by_id(uow.session, user_id)
    if user is None:
        raise NotFoundError("no such user")
    return user


async def create_money_request(
    services: Services, *, requester_id: str, to_phone: str, amount: Money, note: str | None
) -> MoneyRequestView:
    """Ask the customer of ``to_phone`` (as typed) for ``amount``; refusals in the module
    doc's order (``validation_error`` for a note over :data:`NOTE_MAX_LENGTH` first)."""
    check_note(note)
    payee = await preview_transfer(services, requester_id, to_phone=to_phone)

    async def work(uow: UnitOfWork) -> str:
        requester = await _user(uow, requester_id)
        return await _ask(
            uow,
            services,
            requester=requester,
            payer_id=payee.party.user_id,
            amount=amount,
            note=note,
        )

    request_id = await run_unit(services.engine, work)
    return await get_money_request(services, requester_id, request_id=request_id)


async def split_bill(
    services: Services,
    *,
    requester_id: str,
    total: Money,
    note: str | None,
    payers: Sequence[tuple[str, Money | None]],
) -> SplitBillView:
    """Split ``total`` among ``payers`` (phone as typed, and a custom share or None):
    equal shares when no share is given, the given ones when all are (they must sum to
    the total), one open request per payer (:mod:`ewallet.money_requests.shares`)."""
    check_note(note)
    given = [share for _, share in payers if share is not None]
    if given and len(given) != len(payers):
        raise ValidationFailedError("give every payer a share, or none", field="payers")
    shares = check_custom_shares(total, given) if given else equal_shares(total, len(payers))
    if any(share.currency != total.currency for share in shares):
        raise ValidationFailedError("the shares are in another currency", field="payers")
    found: list[Payee] = []
    for phone, _ in payers:
        found.append(await preview_transfer(services, requester_id, to_phone=phone))
    if len({payee.party.user_id for payee in found}) != len(found):
        raise ValidationFailedError("a payer is named twice", field="payers")
    split_id = new_id("spl")

    async def work(uow: UnitOfWork) -> None:
        requester = await _user(uow, requester_id)
        await repository.insert_split(
            await uow.connection(),
            split_id=split_id,
            requester_id=requester_id,
            total=total,
            note=note,
            now=services.clock.now(),
        )
        for payee, share in zip(found, shares, strict=True):
            await _ask(
                uow,
                services,
                requester=requester,
                payer_id=payee.party.user_id,
                amount=share,
                note=note,
                split_id=split_id,
            )

    await run_unit(services.engine, work)
    return await get_split_bill(services, requester_id, split_id=split_id)


async def get_split_bill(services: Services, user_id: str, *, split_id: str) -> SplitBillView:
    """The split bill with each payer's share and status; only its requester reads it."""
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> tuple[str, SplitBillView] | None:
        return await repository.load_split(await uow.connection(), split_id, now=now)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None or found[0] != user_id:
        raise NotFoundError("no such split bill")
    return found[1]


async def _load(services: Services, request_id: str) -> MoneyRequestView | None:
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> dict[str, MoneyRequestView]:
        return await repository.load_requests(await uow.connection(), [request_id], now=now)

    return (await run_unit(services.engine, work, read_only=True)).get(request_id)


async def get_money_request(
    services: Services, user_id: str, *, request_id: str
) -> MoneyRequestView:
    """The request, if ``user_id`` made it or is asked to pay it; anyone else: ``not_found``."""
    view = await _load(services, request_id)
    if view is None or user_id not in (view.payer.user_id, view.requester.user_id):
        raise NotFoundError("no such money request")
    return view


async def list_money_requests(
    services: Services,
    user_id: str,
    *,
    incoming: bool,
    limit: int = 20,
    cursor: str | None = None,
) -> Page[MoneyRequestView]:
    """The requests asked of the user (``incoming``) or made by them, newest first."""
    check_limit(limit)
    before = None if cursor is None else created_position(cursor)
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> list[MoneyRequestView]:
        return await repository.requests_of(
            await uow.connection(),
            user_id=user_id,
            incoming=incoming,
            limit=limit + 1,
            before=before,
            now=now,
        )

    return newest_first_page(await run_unit(services.engine, work, read_only=True), limit)


def _not_open(view: MoneyRequestView) -> MoneyRequestNotOpenError:
    return MoneyRequestNotOpenError("this money request is no longer open", state=view.status)


async def _as_payer(services: Services, payer_id: str, request_id: str) -> MoneyRequestView:
    view = await get_money_request(services, payer_id, request_id=request_id)
    if view.payer.user_id != payer_id:
        raise ForbiddenError("only the person asked can pay or decline a money request")
    if not view.is_open:
        raise _not_open(view)
    return view


async def accept_money_request(
    services: Services,
    actor: Actor,
    *,
    payer_id: str,
    request_id: str,
    payment_password: str,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    request_key: RequestKey | None = None,
) -> Accepted:
    """Pay the request: a transfer to the requester that marks it ``paid`` in its own unit
    (module doc). Refusals: ``not_found`` (not the payer's nor the requester's),
    ``forbidden`` (the requester's own), ``money_request_not_open``, then the transfer's."""
    view = await _as_payer(services, payer_id, request_id)

    async def to_phone(uow: UnitOfWork) -> str:
        return (await _user(uow, view.requester.user_id)).phone

    phone = await run_unit(services.engine, to_phone, read_only=True)
    clock = services.clock

    async def claim(uow: UnitOfWork, transfer_id: str) -> None:
        claimed = await repository.claim_open(
            await uow.connection(),
            request_id=request_id,
            status=MoneyRequestStatus.PAID,
            now=clock.now(),
            payer_id=payer_id,
            transfer_id=transfer_id,
        )
        if not claimed:
            raise MoneyRequestNotOpenError("this money request is no longer open")
        requester = await _user(uow, view.requester.user_id)
        await _notify(
            uow,
            clock,
            user=requester,
            kind="money_request_paid",
            other=view.payer,
            amount=view.amount,
        )

    transfer = await create_transfer(
        services,
        actor,
        sender_id=payer_id,
        to_phone=phone,
        amount=view.amount,
        memo=view.note,
        payment_password=payment_password,
        caller=caller,
        device_id=device_id,
        challenge_id=challenge_id,
        request_key=request_key,
        settles=claim,
    )
    paid = await get_money_request(services, payer_id, request_id=request_id)
    return Accepted(paid, transfer)


async def _end(
    services: Services,
    view: MoneyRequestView,
    *,
    status: MoneyRequestStatus,
    payer_id: str | None = None,
    requester_id: str | None = None,
) -> MoneyRequestView:
    """Decline, cancel or expire an open request and tell the other side."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> bool:
        claimed = await repository.claim_open(
            await uow.connection(),
            request_id=view.id,
            status=status,
            now=clock.now(),
            payer_id=payer_id,
            requester_id=requester_id,
        )
        if not claimed:
            return False
        if status == MoneyRequestStatus.CANCELLED:
            told, other = view.payer.user_id, view.requester
        else:
            told, other = view.requester.user_id, view.payer
        user = await _user(uow, told)
        await _notify(
            uow,
            clock,
            user=user,
            kind=f"money_request_{status.value}",
            other=other,
            amount=view.amount,
        )
        return True

    if not await run_unit(services.engine, work):
        raise _not_open(await get_money_request(services, view.payer.user_id, request_id=view.id))
    return await get_money_request(services, view.payer.user_id, request_id=view.id)


async def decline_money_request(
    services: Services, *, payer_id: str, request_id: str
) -> MoneyRequestView:
    """The payer says no; the requester is told."""
    view = await _as_payer(services, payer_id, request_id)
    return await _end(services, view, status=MoneyRequestStatus.DECLINED, payer_id=payer_id)


async def cancel_money_request(
    services: Services, *, requester_id: str, request_id: str
) -> MoneyRequestView:
    """The requester withdraws an open request; the payer is told."""
    view = await get_money_request(services, requester_id, request_id=request_id)
    if view.requester.user_id != requester_id:
        raise ForbiddenError("only the requester can cancel a money request")
    if not view.is_open:
        raise _not_open(view)
    return await _end(
        services, view, status=MoneyRequestStatus.CANCELLED, requester_id=requester_id
    )


async def expire_money_request(services: Services, request_id: str) -> str | None:
    """Store ``expired`` for an open request past its time and tell the requester (the
    expiry event's work). Answers the request's stored status afterwards, or None when
    there is no such request; an open one not yet due stays open."""
    view = await _load(services, request_id)
    if view is None:
        return None
    if view.status == MoneyRequestStatus.EXPIRED:
        # Paid, declined or cancelled at the last moment, or stored expired already: fine.
        with contextlib.suppress(MoneyRequestNotOpenError):
            await _end(services, view, status=MoneyRequestStatus.EXPIRED)
    after = await _load(services, request_id)
    return None if after is None else after.status
