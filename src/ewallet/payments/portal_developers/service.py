"""The owner's Developers page: the merchant's API keys (create, rotate, revoke -- each
confirmed with the owner's authenticator; a new key is shown once), the webhook URL and
the webhook delivery log. Owners only (``API_KEYS``); the merchant is always the owner's
own. The key and URL changes are the merchant's self-service use cases
(:mod:`ewallet.merchants.account.service`) with the person as the audit actor.

A refusal the page can tell before the code is checked (a bad label, the key limit, an
unknown or revoked key) comes first, so it does not spend the owner's authenticator code.
"""

from __future__ import annotations

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, ForbiddenError, NotFoundError
from ewallet.merchants.account import service as account
from ewallet.merchants.errors import ApiKeyLimitError, ApiKeyRevokedError
from ewallet.merchants.people import service as people
from ewallet.merchants.people.permissions import API_KEYS
from ewallet.merchants.people.views import PortalUser
from ewallet.merchants.service import MAX_ACTIVE_KEYS, checked_label
from ewallet.merchants.views import ApiKeyView
from ewallet.payments.portal_developers import repository
from ewallet.payments.portal_developers.views import DeveloperSettings, NewKey
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC, list_deliveries
from ewallet.services import Services
from ewallet.worker.outbox import enqueue


def _owner(member: PortalUser) -> None:
    if not API_KEYS.allows(member.role):
        raise ForbiddenError("only the owner manages the API keys")


async def developer_settings(
    services: Services, owner: PortalUser, *, limit: int, cursor: str | None
) -> DeveloperSettings:
    """The keys, the webhook URL and a page of the delivery log (newest first)."""
    _owner(owner)
    keys = await account.list_keys(services, merchant_id=owner.merchant_id)
    merchant = await account.get_account(services, merchant_id=owner.merchant_id)
    log = await list_deliveries(
        services, owner.merchant_id, order_id=None, limit=limit, cursor=cursor
    )
    return DeveloperSettings(
        keys=keys,
        max_active_keys=MAX_ACTIVE_KEYS,
        webhook_url=merchant.webhook_url,
        deliveries=log,
    )


async def _active_key(services: Services, owner: PortalUser, key_id: str) -> ApiKeyView:
    keys = await account.list_keys(services, merchant_id=owner.merchant_id)
    found = next((key for key in keys if key.id == key_id), None)
    if found is None:
        raise NotFoundError("no such API key")
    if not found.active:
        raise ApiKeyRevokedError("this API key is revoked already")
    return found


async def create_key(
    services: Services, owner: PortalUser, *, label: str, totp_code: str
) -> NewKey:
    """A new API key with ``label``, shown this once. Refusals, nothing changed: ``403``
    (not an owner), ``validation_error`` (the label), ``409 api_key_limit_reached``, ``400
    totp_invalid`` (the code, counted against the owner's lock)."""
    _owner(owner)
    wanted = checked_label(label)
    keys = await account.list_keys(services, merchant_id=owner.merchant_id)
    if sum(1 for key in keys if key.active) >= MAX_ACTIVE_KEYS:
        raise ApiKeyLimitError(f"a merchant has at most {MAX_ACTIVE_KEYS} active API keys")
    await people.confirm_with_code(services, owner, code=totp_code, purpose="api_key_creation")
    issued = await account.create_key(
        services, owner.actor(), merchant_id=owner.merchant_id, label=wanted
    )
    return NewKey(issued=issued, rotated=False)


async def rotate_key(
    services: Services, owner: PortalUser, *, key_id: str, totp_code: str
) -> NewKey:
    """Key ``key_id`` revoked and a new key with its label shown this once; the old key is
    refused from the commit on. Refusals, nothing changed: ``403`` (not an owner), ``404``
    (not this merchant's key), ``409 api_key_revoked``, ``400 totp_invalid``."""
    _owner(owner)
    await _active_key(services, owner, key_id)
    await people.confirm_with_code(services, owner, code=totp_code, purpose="api_key_rotation")
    _, issued = await account.rotate_key(
        services, owner.actor(), merchant_id=owner.merchant_id, key_id=key_id
    )
    return NewKey(issued=issued, rotated=True)


async def revoke_key(
    services: Services, owner: PortalUser, *, key_id: str, totp_code: str
) -> ApiKeyView:
    """Revoke key ``key_id`` at once. Refusals, nothing changed: ``403`` (not an owner),
    ``404`` (not this merchant's key), ``409 api_key_revoked``, ``400 totp_invalid``."""
    _owner(owner)
    await _active_key(services, owner, key_id)
    await people.confirm_with_code(services, owner, code=totp_code, purpose="api_key_revocation")
    return await account.revoke_key(
        services, owner.actor(), merchant_id=owner.merchant_id, key_id=key_id
    )


async def set_webhook_url(services: Services, owner: PortalUser, *, url: str | None) -> None:
    """Set or clear the merchant's webhook URL (the API's rules; ``validation_error``,
    field ``url``, leaves the old one)."""
    _owner(owner)
    await account.set_webhook_url(services, owner.actor(), merchant_id=owner.merchant_id, url=url)


class NotReplayableError(ConflictError):
    """A delivery that cannot be replayed: it succeeded, its event is still being retried,
    or the event is no longer kept."""


async def replay_delivery(services: Services, owner: PortalUser, *, delivery_id: int) -> str:
    """Send a failed delivery's event again: the same event (id, type, body) queued anew
    to the URL it went to, with a fresh set of attempts (``webhook.replayed`` audited,
    the person as actor). Returns the event id. Refusals, nothing queued: ``403`` (not an
    owner), ``404`` (not this merchant's delivery), ``409 conflict`` (it succeeded, its
    event is still being retried, or the event is no longer kept)."""
    _owner(owner)
    clock = services.clock

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        delivery = await repository.delivery_of(
            conn, merchant_id=owner.merchant_id, delivery_id=delivery_id
        )
        if delivery is None:
            raise NotFoundError("no such delivery")
        if delivery.succeeded:
            raise NotReplayableError("this delivery succeeded")
        queued = await repository.queued_event(
            conn, topic=WEBHOOK_TOPIC, event_id=delivery.event_id, merchant_id=owner.merchant_id
        )
        if queued is None:
            raise NotReplayableError("this event is no longer kept")
        if queued.status == "pending":
            raise NotReplayableError("this event is still being retried")
        await enqueue(uow.session, topic=WEBHOOK_TOPIC, payload=queued.payload, clock=clock)
        await record_event(
            conn,
            clock=clock,
            actor=owner.actor(),
            action="webhook.replayed",
            subject_type="webhook_event",
            subject_id=delivery.event_id,
            details={"merchant_id": owner.merchant_id, "delivery_id": delivery.id},
        )
        return delivery.event_id

    return await run_unit(services.engine, work)
