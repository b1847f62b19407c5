"""A copy of one's own data (PIPL art. 45): request, build (worker), list, download.

Requesting writes a ``building`` row and an outbox event (``data_copy.build``) in one
unit; the worker's handler (:mod:`~ewallet.identity.data_copy.jobs`) reads every section
in a read-only unit, renders the JSON and the PDF outside any transaction, stores both in
the row and notifies the owner. One copy at a time (``data_copy_in_progress``), at most
``EWALLET_DATA_COPIES_PER_DAY`` a rolling day (``rate_limited``). A copy can be
downloaded by its owner only (anyone else's id: ``not_found``) until it expires
(``EWALLET_DATA_COPY_TTL_DAYS``, default 7: ``data_copy_expired``, 410), when its documents
are deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.data_copy import repository as repo
from ewallet.identity.data_copy.errors import DataCopyExpiredError, DataCopyInProgressError
from ewallet.identity.data_copy.render import copy_json, copy_pdf, money_text
from ewallet.identity.data_copy.views import DataCopyView, Download, PersonalData
from ewallet.identity.guards import locked_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, RateLimitedError
from ewallet.kit.ids import new_id
from ewallet.models.account_closure import DataCopyStatus
from ewallet.models.identity import UserStatus
from ewallet.notify.service import notify_user
from ewallet.services import Services
from ewallet.worker.outbox import enqueue

BUILD_TOPIC: Final = "data_copy.build"
CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")  # times in notices and file names
CopyFormat = Literal["json", "pdf"]


async def request_data_copy(services: Services, *, user_id: str, actor: Actor) -> DataCopyView:
    """``POST /v1/me/data-copies``. Refusals: ``data_copy_in_progress``, ``rate_limited``
    (``retry_after``); a closed account has no data to copy here (``not_found``)."""
    clock, settings = services.clock, services.settings

    async def work(uow: UnitOfWork) -> DataCopyView:
        user = await locked_user(uow, user_id)  # one request at a time per user
        if user.status == UserStatus.CLOSED:
            raise NotFoundError("no such user")
        conn = await uow.connection()
        now = clock.now()
        if await repo.building_copy_exists(conn, user_id):
            raise DataCopyInProgressError("a copy is being made; wait until it is ready")
        if await repo.copies_since(conn, user_id, now - timedelta(days=1)) >= (
            settings.data_copies_per_day
        ):
            raise RateLimitedError(
                "too many copies today; try again tomorrow", retry_after=24 * 3600
            )
        copy_id = new_id("dcp")
        expires_at = now + timedelta(days=settings.data_copy_ttl_days)
        await repo.insert_copy(
            conn, copy_id=copy_id, user_id=user_id, now=now, expires_at=expires_at
        )
        await enqueue(
            uow.session, topic=BUILD_TOPIC, payload={"data_copy_id": copy_id}, clock=clock
        )
        await audit_user(uow, clock, actor, "data_copy.requested", user_id, details={"id": copy_id})
        return DataCopyView(copy_id, DataCopyStatus.BUILDING, now, None, expires_at)

    return await run_unit(services.engine, work)


async def list_data_copies(services: Services, *, user_id: str) -> list[DataCopyView]:
    """``GET /v1/me/data-copies``: the newest first (expired ones too, marked by the time)."""

    async def work(uow: UnitOfWork) -> list[DataCopyView]:
        return await repo.list_copies(await uow.connection(), user_id)

    return await run_unit(services.engine, work, read_only=True)


async def download_data_copy(
    services: Services, *, user_id: str, copy_id: str, fmt: CopyFormat
) -> Download:
    """``GET /v1/me/data-copies/{id}/download?format=``. Refusals: ``not_found`` (no such
    copy of this user), ``data_copy_expired`` (410), ``data_copy_in_progress``."""
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> Any:
        return await repo.copy_of(await uow.connection(), copy_id=copy_id, user_id=user_id)

    row = await run_unit(services.engine, work, read_only=True)
    if row is None:
        raise NotFoundError("no such data copy")
    if row.expires_at <= now:
        raise DataCopyExpiredError("the copy expired; request a new one")
    if row.status != DataCopyStatus.READY:
        raise DataCopyInProgressError("the copy is not ready yet")
    stamp = row.requested_at.astimezone(CHINA_TIME).strftime("%Y%m%d")
    if fmt == "pdf":
        return Download(bytes(row.pdf_document), "application/pdf", f"ewallet-data-{stamp}.pdf")
    return Download(
        row.json_document.encode("utf-8"),
        "application/json",
        f"ewallet-data-{stamp}.json",
    )


async def _gather(services: Services, user_id: str) -> PersonalData:
    cipher = services.security.cipher

    async def work(uow: UnitOfWork) -> PersonalData:
        conn = await uow.connection()
        profile = await repo.profile(conn, user_id)
        encrypted = profile.pop("real_name_encrypted")
        profile["real_name"] = (
            None if encrypted is None else cipher.decrypt(encrypted, context=f"real_name:{user_id}")
        )
        settings = {
            "locale": profile.pop("locale"),
            "anti_phishing_code": profile.pop("anti_phishing_code"),
            "authenticator_enabled_at": profile.pop("totp_enabled_at"),
            "password_free_payments": await repo.password_free(conn, user_id),
        }
        balances = [
            {
                "currency": row["currency"],
                "total": money_text(row["posted"], row["currency"]),
                "held": money_text(row["pending_debits"], row["currency"]),
            }
            for row in await repo.balances(conn, user_id)
        ]
        transactions = [
            {
                "transaction_id": row["transaction_id"],
                "type": row["kind"],
                # A wallet is credit-normal: a credit (negative posting) is money in.
                "direction": "in" if row["amount"] < 0 else "out",
                "amount": money_text(abs(row["amount"]), row["currency"]),
                "currency": row["currency"],
                "balance_after": money_text(row["balance_after"], row["currency"]),
                "created_at": row["created_at"],
            }
            for row in await repo.transactions(conn, user_id)
        ]
        return PersonalData(
            generated_at=services.clock.now().isoformat(),
            sections={
                "profile": profile,
                "settings": settings,
                "balances": balances,
                "cards": await repo.user_cards(conn, user_id),
                "transactions": transactions,
                "devices": await repo.user_devices(conn, user_id),
                "sessions": await repo.user_sessions(conn, user_id),
                "notices": await repo.user_notices(conn, user_id),
                "security_events": await repo.security_events(conn, user_id),
                "tickets": await repo.user_tickets(conn, user_id),
            },
        )

    return await run_unit(services.engine, work, read_only=True)


async def build_data_copy(services: Services, *, copy_id: str) -> bool:
    """The worker's half: gather, render, store, notify. Idempotent: a copy that is not
    ``building`` any more (built by an earlier delivery) is left alone; returns whether
    this call built it."""
    clock = services.clock

    async def find(uow: UnitOfWork) -> Any:
        return await repo.copy_of(await uow.connection(), copy_id=copy_id, user_id=None)

    row = await run_unit(services.engine, find, read_only=True)
    if row is None or row.status != DataCopyStatus.BUILDING:
        return False
    data = await _gather(services, row.user_id)
    json_document, pdf_document = copy_json(data), copy_pdf(data)

    async def store(uow: UnitOfWork) -> bool:
        user = await locked_user(uow, row.user_id)
        conn = await uow.connection()
        now = clock.now()
        await repo.drop_expired_documents(conn, user_id=row.user_id, now=now)
        if not await repo.store_documents(
            conn, copy_id=copy_id, json_document=json_document, pdf_document=pdf_document, now=now
        ):
            return False
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="data_copy_ready",
            params={"requested": row.requested_at, "expires": row.expires_at},
            sms=False,
            security=False,
        )
        return True

    return await run_unit(services.engine, store)
