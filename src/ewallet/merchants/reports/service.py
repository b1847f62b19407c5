"""A merchant's day in figures: sales, refunds and net for an Asia/Shanghai day.

Read by the merchant portal's home page for the signed-in person's own merchant (the
merchant comes from their session, never from the request).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.people.errors import TeamRuleError
from ewallet.merchants.people.permissions import SALES_READING
from ewallet.merchants.people.views import PortalUser
from ewallet.merchants.reports import repository as repo
from ewallet.merchants.reports.views import CurrencyFigures, DayFigures
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services

DEFAULT_CURRENCY = "CNY"


def china_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=CHINA_TIME)
    return start, start + timedelta(days=1)


async def day_figures(services: Services, *, merchant_id: str, day: date) -> DayFigures:
    """``merchant_id``'s payments and refunds made on ``day`` (Asia/Shanghai)."""
    start, end = china_day_bounds(day)

    async def read(uow: UnitOfWork) -> DayFigures:
        paid, refunded = await repo.sums(await uow.connection(), merchant_id, start, end)
        currencies = sorted({DEFAULT_CURRENCY, *paid, *refunded})
        return DayFigures(
            day,
            tuple(
                CurrencyFigures(
                    currency,
                    *paid.get(currency, (0, 0)),
                    *refunded.get(currency, (0, 0)),
                )
                for currency in currencies
            ),
        )

    return await run_unit(services.engine, read, read_only=True)


async def today(services: Services, user: PortalUser) -> DayFigures:
    """Today's figures (Asia/Shanghai) of the signed-in person's own merchant."""
    if not SALES_READING.allows(user.role):
        raise TeamRuleError("your role does not show the sales")
    day = services.clock.now().astimezone(CHINA_TIME).date()
    return await day_figures(services, merchant_id=user.merchant_id, day=day)
