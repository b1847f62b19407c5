"""Reading settlements: a party's list and one settlement, any settlement by id (staff
tools, reconciliation), the payouts paid in a window, and a settlement's statement.
"""

from __future__ import annotations

from datetime import datetime

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.settlement import PartyKind
from ewallet.services import Services
from ewallet.settlement import repository
from ewallet.settlement.errors import SettlementNotFoundError
from ewallet.settlement.views import SettlementView, Statement


async def list_settlements(
    services: Services,
    *,
    party_kind: PartyKind,
    party_id: str,
    limit: int,
    cursor: str | None = None,
) -> Page[SettlementView]:
    """The party's settlements, newest business day first (``?limit=&cursor=``)."""
    check_limit(limit)
    before = None
    if cursor is not None:
        position = decode_cursor(cursor)
        day, last_id = position.get("d"), position.get("i")
        if not isinstance(day, str) or not isinstance(last_id, str):
            raise ValidationFailedError("malformed cursor")
        before = (day, last_id)

    async def work(uow: UnitOfWork) -> list[SettlementView]:
        conn = await uow.connection()
        return await repository.page_for_party(
            conn, party_kind, party_id, limit=limit + 1, before=before
        )

    rows = await run_unit(services.engine, work, read_only=True)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"d": last.business_day.isoformat(), "i": last.id})
    return Page(items=items, next_cursor=next_cursor)


async def get_settlement(
    services: Services, *, party_kind: PartyKind, party_id: str, settlement_id: str
) -> SettlementView:
    """The party's settlement ``settlement_id``; ``not_found`` for anyone else's."""

    async def work(uow: UnitOfWork) -> SettlementView | None:
        return await repository.load(
            await uow.connection(), settlement_id, party=(party_kind, party_id)
        )

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise SettlementNotFoundError("no such settlement")
    return found


async def settlement_by_id(services: Services, settlement_id: str) -> SettlementView | None:
    """Any settlement by id (staff tools, reconciliation)."""

    async def work(uow: UnitOfWork) -> SettlementView | None:
        return await repository.load(await uow.connection(), settlement_id)

    return await run_unit(services.engine, work, read_only=True)


async def paid_between(services: Services, start: datetime, end: datetime) -> list[SettlementView]:
    """Payouts finished as paid in ``[start, end)``: reconciliation checks them with the bank."""

    async def work(uow: UnitOfWork) -> list[SettlementView]:
        return await repository.paid_on(await uow.connection(), start, end)

    return await run_unit(services.engine, work, read_only=True)


async def get_statement(
    services: Services, *, party_kind: PartyKind, party_id: str, settlement_id: str
) -> Statement:
    """The settlement with its payments and refunds, for the CSV and PDF statements."""

    async def work(uow: UnitOfWork) -> Statement:
        conn = await uow.connection()
        row = await repository.load(conn, settlement_id, party=(party_kind, party_id))
        if row is None:
            raise SettlementNotFoundError("no such settlement")
        name = await repository.party_name(conn, party_kind, party_id) or party_id
        lines = []
        if party_kind == PartyKind.MERCHANT:
            lines = await repository.statement_lines(
                conn, party_id, row.period_start, row.period_end
            )
        return Statement(settlement=row, party_name=name, lines=lines)

    return await run_unit(services.engine, work, read_only=True)
