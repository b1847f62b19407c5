"""Merchant use cases: create, list, rotate the API key, change settings, authenticate a key.

Creating a merchant opens its ledger account (``merchant:<id>:CNY``, a liability: what the
wallet owes the merchant), and the fee revenue its payments' fees go to, so the first
payment never has to. Every staff change is
audit-logged in the same transaction as the change. Each function takes the process's
:class:`~ewallet.services.Services` first and, for a change, the :class:`Actor` making it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.kit.urls import MAX_URL_LENGTH, checked_callback_url
from ewallet.ledger import chart
from ewallet.merchants import repository
from ewallet.merchants.keys import issue_api_key, key_id_of, key_matches, new_webhook_secret
from ewallet.merchants.repository import MerchantRecord
from ewallet.merchants.views import MerchantPrincipal, MerchantView, NewMerchant, WebhookSigning
from ewallet.models.merchants import MerchantStatus
from ewallet.services import Services

DEFAULT_CATEGORY = "general"
CHANGEABLE = frozenset(
    {"name", "category", "status", "accepts_wallet", "webhook_url", "fee_rate_bp", "fee_minimum"}
)
MAX_FEE_RATE_BP: Final = 1_000  # 10 %: the most staff may set for one merchant
MAX_FEE_MINIMUM: Final = 100_00  # ¥100, in fen
MAX_SEARCH: Final = 100
MAX_NAME: Final = 100
CATEGORY: Final = re.compile(r"^[a-z0-9_]{1,40}$")


def check_settings(values: dict[str, Any]) -> None:
    """The rules a merchant's settings keep (the staff API's schema says the same): a name
    of 1 to 100 characters, not all blank; a category of lowercase letters, digits and
    ``_``; a known status; a webhook URL that is an absolute http(s) URL of at most 500
    characters, or none; fee terms (``fee_rate_bp`` basis points up to
    :data:`MAX_FEE_RATE_BP`, ``fee_minimum`` fen up to :data:`MAX_FEE_MINIMUM`) whole and not
    negative, or none (the defaults). Refusal: ``validation_error`` naming the ``field``."""
    name = values.get("name")
    if "name" in values and (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME):
        raise ValidationFailedError(f"a name has 1 to {MAX_NAME} characters", field="name")
    category = values.get("category")
    if "category" in values and (not isinstance(category, str) or not CATEGORY.match(category)):
        raise ValidationFailedError(
            "a category is 1 to 40 lowercase letters, digits or _", field="category"
        )
    if "status" in values and values["status"] not in tuple(MerchantStatus):
        raise ValidationFailedError("status is active or disabled", field="status")
    url = values.get("webhook_url")
    if url is not None and not _callback_url(url):
        raise ValidationFailedError(
            "the webhook URL must be an absolute http:// or https:// URL", field="webhook_url"
        )
    if not _within(values.get("fee_rate_bp"), MAX_FEE_RATE_BP):
        raise ValidationFailedError(
            f"a fee rate is 0 to {MAX_FEE_RATE_BP} basis points", field="fee_rate_bp"
        )
    if not _within(values.get("fee_minimum"), MAX_FEE_MINIMUM):
        raise ValidationFailedError("a minimum fee is 0 to 100.00", field="fee_minimum")


def _within(value: object, most: int) -> bool:
    """None (the default applies), or a whole number from 0 to ``most``."""
    if value is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


def _callback_url(url: object) -> bool:
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        return False
    try:
        checked_callback_url(url)
    except ValueError:
        return False
    return True


def webhook_secret_context(merchant_id: str) -> str:
    return f"webhook_secret:{merchant_id}"


async def _audit(
    uow: UnitOfWork, clock: Clock, actor: Actor, action: str, merchant_id: str, **details: Any
) -> None:
    await record_event(
        await uow.connection(),
        clock=clock,
        actor=actor,
        action=action,
        subject_type="merchant",
        subject_id=merchant_id,
        details=details,
    )


async def _record(uow: UnitOfWork, merchant_id: str) -> MerchantRecord:
    found = await repository.merchant_record(await uow.connection(), merchant_id)
    if found is None:
        raise NotFoundError("no such merchant")
    return found


async def create_merchant(
    services: Services,
    actor: Actor,
    *,
    name: str,
    category: str = DEFAULT_CATEGORY,
    accepts_wallet: bool = True,
    webhook_url: str | None = None,
) -> NewMerchant:
    """A new active merchant with its ledger account, API key and webhook secret (audited:
    ``merchant.created``). The key and the secret are returned this once. Refusal:
    settings breaking :func:`check_settings` (``validation_error``)."""
    check_settings({"name": name, "category": category, "webhook_url": webhook_url})
    clock, security = services.clock, services.security
    merchant_id = new_id("mch")
    key = issue_api_key(security.digest)
    secret = new_webhook_secret()
    await chart.open_account(services.ledger, chart.merchant(merchant_id))
    # Where its payments' fees go (one account for all merchants): open before the first
    # payment, so a refused payment opens no account either.
    await chart.open_account(services.ledger, chart.fee_revenue())

    async def work(uow: UnitOfWork) -> MerchantView:
        now = clock.now()
        await repository.insert_merchant(
            await uow.connection(),
            id=merchant_id,
            name=name,
            category=category,
            status=MerchantStatus.ACTIVE,
            accepts_wallet=accepts_wallet,
            webhook_url=webhook_url,
            api_key_id=key.key_id,
            api_key_digest=key.digest,
            webhook_secret_encrypted=security.cipher.encrypt(
                secret, context=webhook_secret_context(merchant_id)
            ),
            key_rotated_at=now,
            created_at=now,
            updated_at=now,
        )
        await _audit(uow, clock, actor, "merchant.created", merchant_id, name=name)
        return (await _record(uow, merchant_id)).view

    view = await run_unit(services.engine, work)
    return NewMerchant(merchant=view, api_key=key.plain, webhook_secret=secret)


async def rotate_api_key(
    services: Services, actor: Actor, *, merchant_id: str
) -> tuple[MerchantView, str]:
    """A new API key; the old one stops working when this commits (audited:
    ``merchant.key_rotated``). Returns the new key; ``not_found`` for no such merchant."""
    clock = services.clock
    key = issue_api_key(services.security.digest)

    async def work(uow: UnitOfWork) -> MerchantView:
        await _record(uow, merchant_id)
        now = clock.now()
        await repository.update_merchant(
            await uow.connection(),
            merchant_id,
            updated_at=now,
            api_key_id=key.key_id,
            api_key_digest=key.digest,
            key_rotated_at=now,
        )
        await _audit(uow, clock, actor, "merchant.key_rotated", merchant_id)
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work), key.plain


async def update_merchant(
    services: Services, actor: Actor, *, merchant_id: str, changes: dict[str, Any]
) -> MerchantView:
    """Apply ``changes`` (name, category, status, accepts_wallet, webhook_url, fee_rate_bp,
    fee_minimum -- None for a fee term: back to the default) as given,
    audited with the values before and after (``merchant.updated``). Refusals, in order:
    settings breaking :func:`check_settings` (``validation_error``), no such merchant
    (``not_found``). Changes that change nothing record nothing."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    check_settings(changes)
    clock = services.clock

    async def work(uow: UnitOfWork) -> MerchantView:
        before = (await _record(uow, merchant_id)).view
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if changed:
            await repository.update_merchant(
                await uow.connection(), merchant_id, updated_at=clock.now(), **changed
            )
            old = {name: getattr(before, name) for name in changed}
            await _audit(
                uow, clock, actor, "merchant.updated", merchant_id, before=old, after=changed
            )
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work)


async def get_merchant(services: Services, *, merchant_id: str) -> MerchantView:
    """One merchant; ``not_found`` for no such merchant."""

    async def work(uow: UnitOfWork) -> MerchantView:
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work, read_only=True)


async def list_merchants(
    services: Services,
    *,
    search: str | None = None,
    status: MerchantStatus | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[MerchantView]:
    """Merchants newest first: ``search`` is a merchant id or a part of its name (any case),
    ``status`` keeps one status; ``next_cursor`` when more remain. Refusal:
    ``validation_error`` (a limit out of range, a search too long, a malformed cursor)."""
    limit = check_limit(limit)
    wanted = (search or "").strip() or None
    if wanted is not None and len(wanted) > MAX_SEARCH:
        raise ValidationFailedError(f"search at most {MAX_SEARCH} characters")
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[MerchantView]:
        return await repository.list_merchants(
            await uow.connection(), search=wanted, status=status, after=after, limit=limit + 1
        )

    found = await run_unit(services.engine, work, read_only=True)
    return newest_first_page(found, limit)


async def authenticate(services: Services, *, api_key: str) -> MerchantPrincipal:
    """The active merchant whose key this is; ``unauthorized`` for anything else (a
    malformed key is refused without a query)."""
    key_id = key_id_of(api_key)
    if key_id is None:
        raise UnauthorizedError("not a merchant API key")

    async def work(uow: UnitOfWork) -> repository.MerchantKey | None:
        return await repository.key_of(await uow.connection(), key_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None or not key_matches(services.security.digest, api_key, found.api_key_digest):
        raise UnauthorizedError("unknown or rotated merchant API key")
    if found.status != MerchantStatus.ACTIVE:
        raise UnauthorizedError("this merchant is disabled")
    return MerchantPrincipal(merchant_id=found.merchant_id)


async def webhook_signing(services: Services, *, merchant_id: str) -> WebhookSigning:
    """The merchant's webhook secret in clear and its default webhook URL, for signing."""

    async def work(uow: UnitOfWork) -> MerchantRecord:
        return await _record(uow, merchant_id)

    found = await run_unit(services.engine, work, read_only=True)
    secret = services.security.cipher.decrypt(
        found.webhook_secret_encrypted, context=webhook_secret_context(merchant_id)
    )
    return WebhookSigning(secret, found.view.webhook_url)
