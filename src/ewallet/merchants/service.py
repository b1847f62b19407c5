"""Merchant use cases: create, list, change settings; API keys (list, create, revoke,
rotate one, replace them all) and authenticating a key.

Creating a merchant opens its ledger account (``merchant:<id>:CNY``, a liability: what the
wallet owes the merchant), and the fee revenue its payments' fees go to, so the first
payment never has to. Every change is audit-logged in the same transaction as the change.
Each function takes the process's :class:`~ewallet.services.Services` first and, for a
change, the :class:`Actor` making it.

A merchant has at most :data:`MAX_ACTIVE_KEYS` active keys; changing them locks the
merchant's row, so two concurrent creations cannot pass the limit together. Keys are never
cached: each request checks its key against the database (:func:`authenticate`), so a
revoked key is refused by every process from the commit on.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.kit.urls import MAX_URL_LENGTH, checked_callback_url
from ewallet.ledger import chart
from ewallet.merchants import repository
from ewallet.merchants.errors import ApiKeyLimitError, ApiKeyRevokedError
from ewallet.merchants.keys import (
    IssuedKey,
    issue_api_key,
    key_id_of,
    key_matches,
    new_webhook_secret,
)
from ewallet.merchants.repository import MerchantRecord
from ewallet.merchants.views import (
    ApiKeyView,
    IssuedApiKey,
    KeyState,
    MerchantKeys,
    MerchantPrincipal,
    MerchantView,
    NewMerchant,
    WebhookSigning,
)
from ewallet.models.merchants import MerchantStatus
from ewallet.risk.limits import CHINA_TIME
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
MAX_ACTIVE_KEYS: Final = 10
MAX_LABEL: Final = 40
DEFAULT_LABEL: Final = "default"
# The process's facts (``services.facts``) of API keys: (merchant id, digest) by key id.
KEY_FACTS: Final = "merchant_key"
SIGNING_FACTS: Final = "merchant_webhook_signing"
# How long a process signs webhooks with a secret it read (webhook_signing: the trade-off).
WEBHOOK_SIGNING_TTL: Final = timedelta(seconds=5)
# How long a revoked key stays in the key list (its row stays for good).
REVOKED_LISTED: Final = timedelta(days=90)


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
            webhook_secret_encrypted=security.cipher.encrypt(
                secret, context=webhook_secret_context(merchant_id)
            ),
            created_at=now,
            updated_at=now,
        )
        await _insert_key(
            uow, key, merchant_id=merchant_id, label=DEFAULT_LABEL, actor=actor, now=now
        )
        await _audit(
            uow, clock, actor, "merchant.created", merchant_id, name=name, key_id=key.key_id
        )
        return (await _record(uow, merchant_id)).view

    view = await run_unit(services.engine, work)
    return NewMerchant(merchant=view, api_key=key.plain, webhook_secret=secret)


async def rotate_api_key(
    services: Services, actor: Actor, *, merchant_id: str
) -> tuple[MerchantView, str]:
    """Staff's emergency replacement: every active key of the merchant is revoked and one
    new key (label ``default``) issued, all when this commits (audited:
    ``merchant.key_rotated`` with the revoked ids). Returns the new key; ``not_found`` for
    no such merchant."""
    clock = services.clock
    key = issue_api_key(services.security.digest)

    async def work(uow: UnitOfWork) -> MerchantView:
        conn = await _locked(uow, merchant_id)
        now = clock.now()
        revoked = await repository.active_key_ids(conn, merchant_id)
        await repository.revoke_keys(conn, revoked, revoked_at=now, revoked_by=actor_text(actor))
        await _insert_key(
            uow, key, merchant_id=merchant_id, label=DEFAULT_LABEL, actor=actor, now=now
        )
        await _audit(
            uow,
            clock,
            actor,
            "merchant.key_rotated",
            merchant_id,
            revoked=revoked,
            key_id=key.key_id,
            label=DEFAULT_LABEL,
        )
        return (await _record(uow, merchant_id)).view

    return await run_unit(services.engine, work), key.plain


def actor_text(actor: Actor) -> str:
    """An actor as a key row names it: ``<type>:<id>``, or the type alone."""
    return actor.type if actor.id is None else f"{actor.type}:{actor.id}"


def checked_label(label: str) -> str:
    """A key's label trimmed: 1 to :data:`MAX_LABEL` characters, not all blank, no control
    characters. Refusal: ``validation_error`` (field ``label``)."""
    trimmed = label.strip()
    if not trimmed or len(trimmed) > MAX_LABEL or not trimmed.isprintable():
        raise ValidationFailedError(
            f"a label has 1 to {MAX_LABEL} printable characters", field="label"
        )
    return trimmed


async def _locked(uow: UnitOfWork, merchant_id: str) -> AsyncConnection:
    conn = await uow.connection()
    if not await repository.lock_merchant(conn, merchant_id):
        raise NotFoundError("no such merchant")
    return conn


async def _insert_key(
    uow: UnitOfWork, key: IssuedKey, *, merchant_id: str, label: str, actor: Actor, now: datetime
) -> None:
    await repository.insert_key(
        await uow.connection(),
        key_id=key.key_id,
        merchant_id=merchant_id,
        label=label,
        digest=key.digest,
        created_at=now,
        created_by=actor_text(actor),
    )


async def _active_key(conn: AsyncConnection, merchant_id: str, key_id: str) -> ApiKeyView:
    found = await repository.key_view(conn, merchant_id=merchant_id, key_id=key_id)
    if found is None:
        raise NotFoundError("no such API key")
    if not found.active:
        raise ApiKeyRevokedError("this API key is revoked already")
    return found


async def list_api_keys(services: Services, *, merchant_id: str) -> list[ApiKeyView]:
    """The merchant's active keys (newest first), then the keys revoked in the last 90 days
    (most recently revoked first). ``not_found`` for no such merchant."""
    since = services.clock.now() - REVOKED_LISTED

    async def work(uow: UnitOfWork) -> list[ApiKeyView]:
        await _record(uow, merchant_id)
        return await repository.keys_of(await uow.connection(), merchant_id, revoked_since=since)

    return await run_unit(services.engine, work, read_only=True)


async def merchant_keys(services: Services, *, merchant_id: str) -> MerchantKeys:
    """One merchant and its keys (as :func:`list_api_keys`), read together; ``not_found``
    for no such merchant."""
    since = services.clock.now() - REVOKED_LISTED

    async def work(uow: UnitOfWork) -> MerchantKeys:
        merchant = (await _record(uow, merchant_id)).view
        keys = await repository.keys_of(await uow.connection(), merchant_id, revoked_since=since)
        return MerchantKeys(merchant, keys)

    return await run_unit(services.engine, work, read_only=True)


async def create_api_key(
    services: Services, actor: Actor, *, merchant_id: str, label: str, via_key: str | None = None
) -> IssuedApiKey:
    """One more key for the merchant, returned this once (audited: ``merchant.key_created``;
    ``via_key``: the key the request came with, if any). Refusals, nothing made:
    ``validation_error`` (the label), ``not_found`` (no such merchant),
    ``409 api_key_limit_reached`` (:data:`MAX_ACTIVE_KEYS` active already)."""
    wanted = checked_label(label)
    clock = services.clock
    key = issue_api_key(services.security.digest)

    async def work(uow: UnitOfWork) -> ApiKeyView:
        conn = await _locked(uow, merchant_id)
        if len(await repository.active_key_ids(conn, merchant_id)) >= MAX_ACTIVE_KEYS:
            raise ApiKeyLimitError(f"a merchant has at most {MAX_ACTIVE_KEYS} active API keys")
        await _insert_key(
            uow, key, merchant_id=merchant_id, label=wanted, actor=actor, now=clock.now()
        )
        await _audit(
            uow,
            clock,
            actor,
            "merchant.key_created",
            merchant_id,
            key_id=key.key_id,
            label=wanted,
            **_via(via_key),
        )
        return await _active_key(conn, merchant_id, key.key_id)

    return IssuedApiKey(await run_unit(services.engine, work), key.plain)


async def revoke_api_key(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    key_id: str,
    via_key: str | None = None,
) -> ApiKeyView:
    """Revoke one of the merchant's keys: refused from the commit on (audited:
    ``merchant.key_revoked``). Refusals, nothing changed: ``not_found`` (no such key of
    this merchant), ``409 api_key_revoked`` (revoked already)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> ApiKeyView:
        conn = await _locked(uow, merchant_id)
        found = await _active_key(conn, merchant_id, key_id)
        await repository.revoke_keys(
            conn, [key_id], revoked_at=clock.now(), revoked_by=actor_text(actor)
        )
        await _audit(
            uow,
            clock,
            actor,
            "merchant.key_revoked",
            merchant_id,
            key_id=key_id,
            label=found.label,
            **_via(via_key),
        )
        revoked = await repository.key_view(conn, merchant_id=merchant_id, key_id=key_id)
        assert revoked is not None  # read back in the unit that holds the lock
        return revoked

    return await run_unit(services.engine, work)


async def replace_api_key(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    key_id: str,
    via_key: str | None = None,
) -> IssuedApiKey:
    """Rotate one key: it is revoked and a new key with its label issued, together
    (audited: ``merchant.key_rotated`` with the old and the new id). Refusals, nothing
    changed: ``not_found`` (no such key of this merchant), ``409 api_key_revoked``."""
    clock = services.clock
    key = issue_api_key(services.security.digest)

    async def work(uow: UnitOfWork) -> ApiKeyView:
        conn = await _locked(uow, merchant_id)
        old = await _active_key(conn, merchant_id, key_id)
        now = clock.now()
        await repository.revoke_keys(conn, [key_id], revoked_at=now, revoked_by=actor_text(actor))
        await _insert_key(uow, key, merchant_id=merchant_id, label=old.label, actor=actor, now=now)
        await _audit(
            uow,
            clock,
            actor,
            "merchant.key_rotated",
            merchant_id,
            revoked=[key_id],
            key_id=key.key_id,
            label=old.label,
            **_via(via_key),
        )
        return await _active_key(conn, merchant_id, key.key_id)

    return IssuedApiKey(await run_unit(services.engine, work), key.plain)


def _via(key_id: str | None) -> dict[str, str]:
    return {} if key_id is None else {"via_key": key_id}


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
    """The active merchant whose active key this is; ``unauthorized`` for anything else (a
    malformed key is refused without a query). One indexed read of the key joined to its
    merchant; on the key's first use of an Asia/Shanghai day, one conditional UPDATE
    records the day (``last_used_on``)."""
    key_id = key_id_of(api_key)
    if key_id is None:
        raise UnauthorizedError("not a merchant API key")

    async def read(uow: UnitOfWork) -> repository.MerchantKey | None:
        return await repository.key_of(await uow.connection(), key_id)

    found = await run_unit(services.engine, read, read_only=True)
    if found is None or not key_matches(services.security.digest, api_key, found.digest):
        raise UnauthorizedError("unknown merchant API key")
    if found.revoked:
        raise UnauthorizedError("this merchant API key was revoked")
    if found.status != MerchantStatus.ACTIVE:
        raise UnauthorizedError("this merchant is disabled")
    today = services.clock.now().astimezone(CHINA_TIME).date()
    if found.last_used_on != today:

        async def mark(uow: UnitOfWork) -> None:
            await repository.mark_key_used(await uow.connection(), key_id, today)

        await run_unit(services.engine, mark)
    return MerchantPrincipal(merchant_id=found.merchant_id, key_id=key_id)


async def identify(services: Services, *, api_key: str) -> MerchantPrincipal:
    """Whose key this is, proven by its digest, *without* reading whether it is still in
    force: for a hot path whose unit of work reads the merchant anyway and checks that
    there (:func:`require_key_in_force`), so a revoked key or a disabled merchant is refused
    by the very next request on every process. A key's id, merchant and digest never change
    (a rotation makes a new key), so they are read once per process (``services.facts``).
    ``unauthorized`` for a malformed or unknown key."""
    key_id = key_id_of(api_key)
    if key_id is None:
        raise UnauthorizedError("not a merchant API key")
    fact: tuple[str, str] | None = services.facts.get(KEY_FACTS, key_id)
    if fact is None:

        async def read(uow: UnitOfWork) -> repository.MerchantKey | None:
            return await repository.key_of(await uow.connection(), key_id)

        found = await run_unit(services.engine, read, read_only=True)
        if found is None:
            raise UnauthorizedError("unknown merchant API key")
        fact = (found.merchant_id, found.digest)
        services.facts.put(KEY_FACTS, key_id, fact)
    merchant_id, digest = fact
    if not key_matches(services.security.digest, api_key, digest):
        raise UnauthorizedError("unknown merchant API key")
    return MerchantPrincipal(merchant_id=merchant_id, key_id=key_id, in_force=False)


async def require_key_in_force(
    uow: UnitOfWork, clock: Clock, principal: MerchantPrincipal, state: KeyState | None
) -> None:
    """In the caller's unit: the key :func:`identify` proved is still in force and its
    merchant enabled (``unauthorized`` else, as :func:`authenticate` answers); ``state`` is
    what the unit read of them (``None``: no such key). Records the day's first use."""
    if principal.in_force:
        return
    if state is None or state.revoked:
        raise UnauthorizedError("this merchant API key was revoked")
    if state.status != MerchantStatus.ACTIVE:
        raise UnauthorizedError("this merchant is disabled")
    today = clock.now().astimezone(CHINA_TIME).date()
    if state.last_used_on != today and principal.key_id is not None:
        await repository.mark_key_used(await uow.connection(), principal.key_id, today)


async def webhook_signing(services: Services, *, merchant_id: str) -> WebhookSigning:
    """The merchant's webhook secret in clear and its default webhook URL, for signing.

    Kept per process for :data:`WEBHOOK_SIGNING_TTL` (in ``services.facts`` with the time
    it was read): a delivery per payment cannot afford a transaction and a decryption each
    (docs/performance.md, "Webhook delivery"). The secret is written once, when the
    merchant is made; should it ever change (a rotation, a fix in the database), every
    process signs with the new one within the TTL, with no read per delivery and no
    cross-process message. The trade-off: for up to the TTL after a change a delivery is
    signed with the old secret, which a merchant already checking the new one refuses --
    and the relay's retry, seconds later, is signed afresh. The URL may be as stale; the
    delivery itself uses the URL queued with the event.
    """
    now = services.clock.now()
    cached = services.facts.get(SIGNING_FACTS, merchant_id)
    if cached is not None:
        read_at, kept = cached
        if isinstance(kept, WebhookSigning) and timedelta(0) <= now - read_at < WEBHOOK_SIGNING_TTL:
            return kept

    async def work(uow: UnitOfWork) -> MerchantRecord:
        return await _record(uow, merchant_id)

    found = await run_unit(services.engine, work, read_only=True)
    secret = services.security.cipher.decrypt(
        found.webhook_secret_encrypted, context=webhook_secret_context(merchant_id)
    )
    signing = WebhookSigning(secret, found.view.webhook_url)
    services.facts.put(SIGNING_FACTS, merchant_id, (now, signing))
    return signing
