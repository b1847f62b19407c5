"""The merchant's own use cases through its API key: read its record, set its webhook URL,
rotate its key. Each is the staff use case of :mod:`ewallet.merchants.service` with the
merchant itself as the actor (the audit events name it), so the rules are the staff
route's: the same URL check, the same key issue, the same audit actions.

A rotated key stops at once on every process: keys are never cached, each request checks
its key against the database (:func:`~ewallet.merchants.service.authenticate`).
"""

from __future__ import annotations

from ewallet.audit.service import Actor
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.urls import MAX_URL_LENGTH
from ewallet.merchants import service as merchants
from ewallet.merchants.views import MerchantView
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


async def rotate_key(
    services: Services, actor: Actor, *, merchant_id: str
) -> tuple[MerchantView, str]:
    """The merchant and a new API key for it, returned this once; the key that called stops
    working when this commits (audited: ``merchant.key_rotated``, the merchant as actor)."""
    return await merchants.rotate_api_key(services, actor, merchant_id=merchant_id)
