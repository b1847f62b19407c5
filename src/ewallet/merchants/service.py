"""Merchant use cases: create, rotate the API key, change settings, authenticate a key.

Creating a merchant opens its ledger account (``merchant:<id>:CNY``, a liability: what the
wallet owes the merchant) so the first payment never has to. Every staff change is
audit-logged in the same transaction as the change. Each function takes the process's
:class:`~ewallet.services.Services` first and, for a change, the :class:`Actor` making it.
"""

from __future__ import annotations

from typing import Any

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError
from ewallet.kit.ids import new_id
from ewallet.ledger import chart
from ewallet.merchants import repository
from ewallet.merchants.keys import issue_api_key, key_id_of, key_matches, new_webhook_secret
from ewallet.merchants.repository import MerchantRecord
from ewallet.merchants.views import MerchantPrincipal, MerchantView, NewMerchant, WebhookSigning
from ewallet.models.merchants import MerchantStatus
from ewallet.services import Services

DEFAULT_CATEGORY = "general"
CHANGEABLE = frozenset({"name", "category", "status", "accepts_wallet", "webhook_url"})


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
    ``merchant.created``). The key and the secret are returned this once."""
    clock, security = services.clock, services.security
    merchant_id = new_id("mch")
    key = issue_api_key(security.digest)
    secret = new_webhook_secret()
    await chart.open_account(services.ledger, chart.merchant(merchant_id))

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
    """Apply ``changes`` (name, category, status, accepts_wallet, webhook_url) as given,
    audited with the values before and after (``merchant.updated``); ``not_found``."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    clock = services.clock

    async def work(uow: UnitOfWork) -> MerchantView:
        before = (await _record(uow, merchant_id)).view
        if changes:
            await repository.update_merchant(
                await uow.connection(), merchant_id, updated_at=clock.now(), **changes
            )
            old = {name: getattr(before, name) for name in changes}
            await _audit(
                uow, clock, actor, "merchant.updated", merchant_id, before=old, after=changes
            )
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work)


async def get_merchant(services: Services, *, merchant_id: str) -> MerchantView:
    """One merchant; ``not_found`` for no such merchant."""

    async def work(uow: UnitOfWork) -> MerchantView:
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work, read_only=True)


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
