"""A merchant's stores: create, list, read (``/v1/merchant/stores``, merchant API key).

A store belongs to one merchant; another merchant's store id is ``not_found``, never its
data. Stores are never deleted (orders paid at them name them). Each active store gets a
static QR code of its own the first time the merchant lists its codes
(:mod:`ewallet.payments.static_qr.service`), which reads stores through this module.
"""

from __future__ import annotations

from ewallet.audit.service import Actor, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.merchants.stores import repository
from ewallet.merchants.stores.errors import StoreNotFoundError
from ewallet.merchants.stores.views import StoreView
from ewallet.services import Services

NAME_MAX = 100
ADDRESS_MAX = 200


def _clean(text: str | None, *, field: str, limit: int, required: bool) -> str | None:
    value = None if text is None else " ".join(text.split())
    if not value:
        if required:
            raise ValidationFailedError(f"{field} must not be blank", field=field)
        return None
    if len(value) > limit:
        raise ValidationFailedError(f"{field} is longer than {limit} characters", field=field)
    return value


async def create_store(
    services: Services, actor: Actor, *, merchant_id: str, name: str, address: str | None
) -> StoreView:
    """A new active store of ``merchant_id``; audited as ``merchant.store_created``."""
    clean_name = _clean(name, field="name", limit=NAME_MAX, required=True)
    assert clean_name is not None
    clean_address = _clean(address, field="address", limit=ADDRESS_MAX, required=False)
    clock = services.clock

    async def work(uow: UnitOfWork) -> StoreView:
        now = clock.now()
        store = await repository.insert_store(
            await uow.connection(),
            store_id=new_id("sto"),
            merchant_id=merchant_id,
            name=clean_name,
            address=clean_address,
            now=now,
        )
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="merchant.store_created",
            subject_type="merchant",
            subject_id=merchant_id,
            details={"store_id": store.id, "name": store.name},
        )
        return store

    return await run_unit(services.engine, work)


async def list_stores(services: Services, *, merchant_id: str) -> list[StoreView]:
    async def work(uow: UnitOfWork) -> list[StoreView]:
        return await repository.stores_of(await uow.connection(), merchant_id)

    return await run_unit(services.engine, work, read_only=True)


async def get_store(services: Services, *, merchant_id: str, store_id: str) -> StoreView:
    """One of the merchant's stores; anyone else's is ``not_found``."""

    async def work(uow: UnitOfWork) -> StoreView | None:
        conn = await uow.connection()
        return await repository.store_of(conn, merchant_id=merchant_id, store_id=store_id)

    store = await run_unit(services.engine, work, read_only=True)
    if store is None:
        raise StoreNotFoundError("no such store")
    return store


async def stores_in_unit(uow: UnitOfWork, *, merchant_id: str) -> list[StoreView]:
    """The merchant's stores, read in the caller's unit (static QR codes are made per store)."""
    return await repository.stores_of(await uow.connection(), merchant_id)


async def store_in_unit(uow: UnitOfWork, *, merchant_id: str, store_id: str) -> StoreView | None:
    """One store of the merchant, read in the caller's unit; None if not theirs."""
    conn = await uow.connection()
    return await repository.store_of(conn, merchant_id=merchant_id, store_id=store_id)
