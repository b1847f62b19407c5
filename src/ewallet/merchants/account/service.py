"""The merchant's own use cases through its API key: read its record, set its webhook URL,
list, create, revoke and rotate its API keys. Each is a use case of
:mod:`ewallet.merchants.service` with the merchant itself as the actor (the audit events
name it, and the key the request came with), so the rules are the staff route's: the same
URL check, the same key issue, the same audit actions. The portal's Developers page calls
the same functions with the owner as the actor.

A revoked or rotated key stops at once on every process: keys are never cached, each
request checks its key against the database
(:func:`~ewallet.merchants.service.authenticate`).
"""

from __future__ import annotations

from ewallet.audit.service import Actor
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.urls import MAX_URL_LENGTH
from ewallet.merchants import service as merchants
from ewallet.merchants.views import ApiKeyView, IssuedApiKey, MerchantView
from ewallet.services import Services


def merchant_actor(merchant_id: str, ip: str | None) -> Actor:
    return Actor("merchant", merchant_id, ip)


async def get_account(services: Services, *, merchant_id: str) -> MerchantView:
    """The calling merchant's record (never a credential)."""
    return await merchants.get_merchant(services, merchant_id=merchant_id)


async def set_webhook_url(
    services: Services, actor: Actor, *, merchant_id: str, url: str | None
) -> MerchantView:
    """Set (or with None clear) the merchant's default webhook URL, audited as
    ``merchant.updated`` with the merchant as actor. Refusal: a URL the staff route refuses
    too (``validation_error``, field ``url``), leaving the old URL. Where a URL may deliver
    (public addresses only) is decided at each delivery, when its host is resolved
    (payments/webhooks/destinations.py)."""
    if url is not None and len(url) > MAX_URL_LENGTH:
        raise ValidationFailedError(f"a URL has at most {MAX_URL_LENGTH} characters", field="url")
    try:
        merchants.check_settings({"webhook_url": url})
    except ValidationFailedError as error:
        raise ValidationFailedError(error.detail, field="url") from None
    return await merchants.update_merchant(
        services, actor, merchant_id=merchant_id, changes={"webhook_url": url}
    )


async def list_keys(services: Services, *, merchant_id: str) -> list[ApiKeyView]:
    """The merchant's active keys, then those revoked in the last 90 days."""
    return await merchants.list_api_keys(services, merchant_id=merchant_id)


async def create_key(
    services: Services, actor: Actor, *, merchant_id: str, label: str, via_key: str | None = None
) -> IssuedApiKey:
    """A new key with ``label``, shown this once (``merchant.key_created``). Refusals:
    ``validation_error`` (label), ``409 api_key_limit_reached``."""
    return await merchants.create_api_key(
        services, actor, merchant_id=merchant_id, label=label, via_key=via_key
    )


async def revoke_key(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    key_id: str,
    via_key: str | None = None,
) -> ApiKeyView:
    """Revoke one of the merchant's keys (``merchant.key_revoked``). Refusals: ``not_found``
    (not this merchant's key), ``409 api_key_revoked``."""
    return await merchants.revoke_api_key(
        services, actor, merchant_id=merchant_id, key_id=key_id, via_key=via_key
    )


async def rotate_key(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    key_id: str,
    via_key: str | None = None,
) -> tuple[MerchantView, IssuedApiKey]:
    """Key ``key_id`` revoked and a new one with its label returned this once, together
    (``merchant.key_rotated``); the merchant's record beside it. Refusals: ``not_found``
    (not this merchant's key), ``409 api_key_revoked``."""
    issued = await merchants.replace_api_key(
        services, actor, merchant_id=merchant_id, key_id=key_id, via_key=via_key
    )
    return await merchants.get_merchant(services, merchant_id=merchant_id), issued
