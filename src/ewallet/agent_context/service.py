"""One customer as an agent sees them, finding that customer, and freezing their account.

The view: account, freeze state, account class, sign-in and payment-password guards,
cards (bank, type, last four), top-ups and withdrawals in flight, the latest notices they
were sent, their devices and the security events of their account, recent tickets, chats
and call-backs, and the first page of their transactions (the rest a page at a time, by
cursor: a customer with thousands of transactions costs one page, never all of them).

Masking follows :mod:`ewallet.agent_context.masking`. Every look is recorded in the same
transaction as the read, so there is no view without its audit event:
``support.customer_viewed`` (the view), ``support.customer_transactions_viewed`` (a
further page of transactions), ``support.customers_searched`` (a search, whatever it
found). A look is one unit: every read first (the customer's row and lists in one
statement on PostgreSQL, :func:`ewallet.agent_context.repository.customer_overview`, with
the wallet's account id; then the first page of transactions through the history's in-unit
reader, :func:`ewallet.history.service.first_page_in`), the audit event last, so the audit
chain's head -- the one row every audited action locks -- is held only for the event's
own writes and the commit.
Freezing and unfreezing go through the staff freeze service
(:mod:`ewallet.staff.service.customers`), which records its own events, and answer with
the refreshed view (itself recorded as a look).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from ewallet.agent_context import repository as repo
from ewallet.agent_context.masking import sees_in_full, shown_phone
from ewallet.agent_context.search import repository as search
from ewallet.agent_context.views import (
    AccountGuards,
    CustomerBrief,
    CustomerContext,
    CustomerSearch,
    NoticeBrief,
    OpenMovement,
    SecurityEvent,
)
from ewallet.audit.service import record_event
from ewallet.history.service import first_page_in, transactions_read
from ewallet.history.views import HistoryEntry, HistoryFilter
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import ZH_CN, Locale
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page
from ewallet.kit.phone import InvalidPhoneError, mask_phone, parse_phone
from ewallet.notify.templates import NOTICES, render
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service import customers

RECENT: Final = 10
CARDS: Final = 20
OPEN_MOVEMENTS: Final = 20
DEVICES: Final = 20
SECURITY_EVENTS: Final = 20
OVERVIEW_LIMITS: Final = repo.OverviewLimits(
    recent=RECENT, cards=CARDS, movements=OPEN_MOVEMENTS, devices=DEVICES, events=SECURITY_EVENTS
)
# The audit actions that are the customer's security story: sign-ins and their failures,
# devices, freezes, passwords and PINs, the authenticator, real name, cards, settings.
SECURITY_ACTIONS: Final = (
    "auth.signed_in",
    "auth.sign_in_failed",
    "auth.login_locked",
    "auth.sign_in_refused_locked",
    "auth.refresh_token_reused",
    "device.signed_out",
    "account.frozen",
    "account.unfrozen",
    "account.unfreeze_failed",
    "account.closed",
    "phone.changed",
    "phone.change_refused",
    "user.registered",
    "user.profile_updated",
    "user.login_password_changed",
    "login_password.reset",
    "payment_password.set",
    "payment_password.changed",
    "payment_password.reset",
    "payment_password.wrong",
    "payment_password.locked",
    "password_reset.identity_mismatch",
    "totp.enrolment_started",
    "totp.enabled",
    "totp.disabled",
    "totp.disable_failed",
    "totp.failed",
    "totp.locked",
    "identity.verified",
    "card.binding_started",
    "card.bound",
    "card.unbound",
    "anti_phishing_code.changed",
    "password_free.enabled",
    "password_free.cap_changed",
    "password_free.disabled",
    "payment_code.declined",
)
# Of an event's details, what staff may read (never a hash, a code or an address).
SHOWN_DETAILS: Final = frozenset(
    {
        "method",
        "new_device",
        "frozen_by",
        "reason",
        "with",
        "card_id",
        "remaining_attempts",
        "sessions_ended",
        "per_payment_cap",
        "currency",
    }
)
TICKET_REFERENCE: Final = re.compile(r"TKT-[0-9A-Z]{4,12}", re.IGNORECASE)
MAX_QUERY: Final = 64
MAX_REASON: Final = 200


async def customer_context(
    services: Services,
    principal: StaffPrincipal,
    *,
    user_id: str,
    locale: Locale = ZH_CN,
) -> CustomerContext:
    """The customer as the module doc lists it, masked for ``principal``'s role, notices
    in ``locale``; the look is audited.

    Refusals: ``404 not_found`` (no such customer; nothing recorded). One unit, the
    audit event last (module doc).
    """
    full = sees_in_full(principal)

    async def work(uow: UnitOfWork) -> CustomerContext:
        conn = await uow.connection()
        found = await repo.customer_overview(
            conn, user_id, limits=OVERVIEW_LIMITS, actions=SECURITY_ACTIONS
        )
        if found is None:
            raise NotFoundError("no such customer")
        user, devices = found.customer, found.devices
        now = services.clock.now()
        # The wallet's account id came with the overview: the history reads its page only.
        page = await first_page_in(uow, user_id, account_id=found.wallet_account_id, limit=RECENT)
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="support.customer_viewed",
            subject_type="user",
            subject_id=user_id,
            details={"role": principal.role, "phone_in_full": full},
        )
        labels = {device.id: device.label for device in devices}
        return CustomerContext(
            user_id=user.id,
            status=user.status,
            tier=user.tier,
            phone=shown_phone(user.phone, full=full),
            phone_masked=not full,
            real_name=user.real_name_masked,
            id_number=user.id_number_masked,
            identity_verified=user.identity_verified_at is not None,
            frozen_at=user.frozen_at,
            frozen_by=user.frozen_by,
            frozen_reason=user.frozen_reason,
            created_at=user.created_at,
            transactions=page.items,
            transactions_next_cursor=page.next_cursor,
            tickets=found.tickets,
            chats=found.chats,
            callbacks=found.callbacks,
            guards=AccountGuards(
                payment_password_set=bool(user.payment_password_set),
                payment_password_locked_until=_still(user.payment_locked_until, now),
                payment_failures=user.payment_failures,
                login_locked_until=_still(user.login_locked_until, now),
                login_failures=user.login_failures,
                totp_enabled=user.totp_enabled_at is not None,
            ),
            cards=found.cards,
            open_topups=[_movement("topup", row, now) for row in found.topups],
            open_withdrawals=[_movement("withdrawal", row, now) for row in found.withdrawals],
            notices=[notice_brief(row, locale) for row in found.notices],
            devices=devices,
            security_events=[_event(row, labels, full=full) for row in found.events],
        )

    return await run_unit(services.engine, work)


async def customer_transactions(
    services: Services,
    principal: StaffPrincipal,
    *,
    user_id: str,
    limit: int = RECENT,
    cursor: str | None = None,
) -> Page[HistoryEntry]:
    """A page of the customer's transactions, newest first (the cursor of the view's
    ``transactions_next_cursor``, then of each page); the look is audited.

    Refusals: ``422 validation_error`` (a limit out of range or a malformed cursor) and
    ``404 not_found`` (no such customer), both before anything is read or recorded.
    """
    read = transactions_read(flt=HistoryFilter(), limit=limit, cursor=cursor)

    async def work(uow: UnitOfWork) -> Page[HistoryEntry]:
        conn = await uow.connection()
        if not await repo.customer_exists(conn, user_id):
            raise NotFoundError("no such customer")
        page = await read(uow, user_id)
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="support.customer_transactions_viewed",
            subject_type="user",
            subject_id=user_id,
            details={"role": principal.role, "first_page": cursor is None},
        )
        return page

    return await run_unit(services.engine, work)


async def find_customers(
    services: Services,
    principal: StaffPrincipal,
    *,
    phone: str | None = None,
    user_id: str | None = None,
    ticket: str | None = None,
    query: str | None = None,
) -> CustomerSearch:
    """The customers matching exactly one of: a phone number (any usual way of typing a
    mainland or E.164 mobile), a customer id, a ticket (its reference ``TKT-...`` or id)
    or ``query``, which is read as whichever of these (or a chat id) it looks like.

    Rows are masked for ``principal``'s role. The search is audited whatever it found
    (``support.customers_searched``; the number searched for only masked). Refusals:
    ``422 validation_error`` (not exactly one criterion, or a query that is none of
    these), ``422 invalid_phone`` (``phone`` is not a mobile number); nothing recorded.
    """
    given = [(k, v.strip()) for k, v in _criteria(phone, user_id, ticket, query) if v is not None]
    if len(given) != 1 or not given[0][1]:
        raise ValidationFailedError("search by exactly one of phone, user_id, ticket or q")
    by, value = given[0]
    if len(value) > MAX_QUERY:
        raise ValidationFailedError("the search text is too long")
    if by == "q":
        by, value = _classify(value)
    elif by == "phone":
        value = parse_phone(value)
    full = sees_in_full(principal)

    async def work(uow: UnitOfWork) -> CustomerSearch:
        conn = await uow.connection()
        ids = await search.matching_customers(conn, by=by, value=value)
        rows = await search.users_by_ids(conn, ids)
        items = [
            CustomerBrief(
                user_id=row.id,
                phone=shown_phone(row.phone, full=full),
                phone_masked=not full,
                status=row.status,
                tier=row.tier,
                real_name=row.real_name_masked,
                identity_verified=row.identity_verified_at is not None,
                created_at=row.created_at,
            )
            for row in rows
        ]
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="support.customers_searched",
            subject_type="user",
            subject_id=items[0].user_id if len(items) == 1 else None,
            details={
                "by": by,
                "query": mask_phone(value) if by == "phone" else value,
                "matches": [item.user_id for item in items],
                "phone_in_full": full,
            },
        )
        return CustomerSearch(by, items)

    return await run_unit(services.engine, work)


async def set_frozen(
    services: Services,
    principal: StaffPrincipal,
    *,
    user_id: str,
    frozen: bool,
    reason: str,
) -> None:
    """Freeze (``frozen``) or unfreeze the customer's account through the staff freeze
    (same rules, same audit events and notices), with the reason recorded.

    Refusals: ``422 validation_error`` (a reason blank or over 200 characters, checked
    first); then those of :func:`ewallet.staff.service.customers.freeze_customer` or
    ``unfreeze_customer`` (``404 not_found``, ``409 account_frozen``,
    ``409 account_not_frozen``). A refusal changes nothing.
    """
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailedError(
            f"give a reason of 1 to {MAX_REASON} characters", field="reason"
        )
    if frozen:
        await customers.freeze_customer(services, principal, user_id=user_id, reason=reason)
    else:
        await customers.unfreeze_customer(services, principal, user_id=user_id, reason=reason)


async def freeze_customer(
    services: Services,
    principal: StaffPrincipal,
    *,
    user_id: str,
    reason: str,
    locale: Locale = ZH_CN,
) -> CustomerContext:
    """Freeze the customer's account (:func:`set_frozen`), then the refreshed view."""
    await set_frozen(services, principal, user_id=user_id, frozen=True, reason=reason)
    return await customer_context(services, principal, user_id=user_id, locale=locale)


async def unfreeze_customer(
    services: Services,
    principal: StaffPrincipal,
    *,
    user_id: str,
    reason: str,
    locale: Locale = ZH_CN,
) -> CustomerContext:
    """Lift the freeze, whoever set it (:func:`set_frozen`), then the refreshed view."""
    await set_frozen(services, principal, user_id=user_id, frozen=False, reason=reason)
    return await customer_context(services, principal, user_id=user_id, locale=locale)


def _criteria(
    phone: str | None, user_id: str | None, ticket: str | None, query: str | None
) -> list[tuple[str, str | None]]:
    return [("phone", phone), ("user_id", user_id), ("ticket", ticket), ("q", query)]


def _classify(query: str) -> tuple[str, str]:
    """What a one-box search is: an id of ours by its prefix, a ticket reference, else a
    phone number (``invalid_phone`` turned into a plain "not something we can find")."""
    lowered = query.lower()  # our ids are lower case; people copy them any way
    if lowered.startswith("usr_"):
        return "user_id", lowered
    if lowered.startswith("tkt_"):
        return "ticket", lowered
    if TICKET_REFERENCE.fullmatch(query):
        return "ticket", query.upper()
    if lowered.startswith("chat_"):
        return "chat", lowered
    try:
        return "phone", parse_phone(query)
    except InvalidPhoneError:
        raise ValidationFailedError(
            "enter a phone number, a customer id (usr_...), a ticket (TKT-...) or a chat id"
        ) from None


def _still(until: datetime | None, now: datetime) -> datetime | None:
    """A lock's end while it still holds, else None."""
    return until if until is not None and until > now else None


def _movement(kind: str, row: repo.MovementRow, now: datetime) -> OpenMovement:
    card = f"{row.bank_name} ({row.last_four})" if row.bank_name and row.last_four else None
    return OpenMovement(
        kind=kind,
        id=row.id,
        status=row.status,
        method=row.method,
        amount=Money(row.amount, row.currency),
        fee=None if row.fee is None else Money(row.fee, row.currency),
        card=card,
        created_at=row.created_at,
        age_seconds=max(0, int((now - row.created_at).total_seconds())),
    )


def notice_brief(row: repo.NoticeRow, locale: Locale) -> NoticeBrief:
    """A notice the customer was sent as the console lists it: its label (the notice's own
    title) and body in the staff member's ``locale``, from :data:`ewallet.notify.templates.
    NOTICES` -- so every kind that can be sent has a label in both languages."""
    if row.kind in NOTICES:
        title, body = render(row.kind, row.params, locale)
    else:  # a kind this version does not know: still listed, by its name
        title, body = row.kind, ""
    return NoticeBrief(
        row.id, row.kind, title, body, row.created_at, row.read_at is not None, row.is_security
    )


def _event(row: repo.EventRow, labels: dict[str, str | None], *, full: bool) -> SecurityEvent:
    device = labels.get(row.subject_id or "") if row.subject_type == "device" else None
    return SecurityEvent(
        id=row.id,
        action=row.action,
        occurred_at=row.occurred_at,
        actor_type=row.actor_type,
        actor_id=row.actor_id if row.actor_type == "staff" else None,
        ip=row.ip if full else None,
        device_label=device,
        details={k: v for k, v in row.details.items() if k in SHOWN_DETAILS},
    )
