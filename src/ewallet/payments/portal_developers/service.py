"""The owner's Developers page: the API key's id and when it was issued, rotating it
(confirmed with the owner's authenticator; the old key stops at once), the webhook URL
and the webhook delivery log. Owners only (``API_KEYS``); the merchant is always the
owner's own. The key and URL changes are the merchant's self-service use cases
(:mod:`ewallet.merchants.account.service`) with the person as the audit actor."""

from __future__ import annotations

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, ForbiddenError, NotFoundError
from ewallet.merchants.account import service as account
from ewallet.merchants.people import service as people
from ewallet.merchants.people.permissions import API_KEYS
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.portal_developers import repository
from ewallet.payments.portal_developers.views import DeveloperSettings, KeyFacts, RotatedKey
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC, list_deliveries
from ewallet.services import Services
from ewallet.worker.outbox import enqueue


def _owner(member: PortalUser) -> None:
    if not API_KEYS.allows(member.role):
        raise ForbiddenError("only the owner manages the API key")


async def _facts(services: Services, merchant_id: str) -> KeyFacts:
    async def read(uow: UnitOfWork) -> KeyFacts | None:
        return await repository.key_facts(await uow.connection(), merchant_id)

    found = await run_unit(services.engine, read, read_only=True)
    if found is None:
        raise NotFoundError("no such merchant")
    return found


async def developer_settings(
    services: Services, owner: PortalUser, *, limit: int, cursor: str | None
) -> DeveloperSettings:
    """The key's facts and a page of the delivery log (newest first)."""
    _owner(owner)
    keys = await _facts(services, owner.merchant_id)
    log = await list_deliveries(
        services, owner.merchant_id, order_id=None, limit=limit, cursor=cursor
    )
    return DeveloperSettings(keys=keys, deliveries=log)


async def rotate_key(services: Services, owner: PortalUser, *, totp_code: str) -> RotatedKey:
    """A new API key, shown this once; the old key is refused from the commit on.
    Refusals, nothing changed: ``403`` (not an owner), ``400 totp_invalid`` (the code,
    counted against the owner's lock)."""
    _owner(owner)
    await people.confirm_with_code(services, owner, code=totp_code, purpose="api_key_rotation")
    _, key = await account.rotate_key(services, owner.actor(), merchant_id=owner.merchant_id)
    return RotatedKey(keys=await _facts(services, owner.merchant_id), api_key=key)


async def set_webhook_url(services: Services, owner: PortalUser, *, url: str | None) -> KeyFacts:
    """Set or clear the merchant's webhook URL (the API's rules; ``validation_error``,
    field ``url``, leaves the old one)."""
    _owner(owner)
    await account.set_webhook_url(services, owner.actor(), merchant_id=owner.merchant_id, url=url)
    return await _facts(services, owner.merchant_id)


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
