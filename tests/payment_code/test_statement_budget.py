"""How many SQL statements and transactions one merchant charge costs.

The charge path is CPU-bound (each statement costs a SQLAlchemy compile and a driver round
trip), so a regression that re-reads a row or adds a lookup shows up here before it shows
up in the benchmark. The bounds are today's counts (PostgreSQL: 29 statements before the
charge path was first trimmed, SQLite 40); lower them when the path gets cheaper. The tally is
tests/fixtures/statement_tally.py; the other money endpoints' budgets are in
tests/statement_budgets/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import make_app
from tests.fixtures.payment_codes import Shop, charge, show_code
from tests.fixtures.serving import serving
from tests.fixtures.shop import shop_settings
from tests.fixtures.statement_tally import Budget, Cost, check, tallied

# One transaction (payments/payment_codes/service/charges.py, _charge_at_once): the
# merchant with its key's standing and the out_trade_no, the guessing budgets (read), the
# code's secret, the payer (locked), the code's use, the order (inserted paid), the
# day's spending, the spend and risk records, the payer's notice, the payment, the charge,
# and the Idempotency-Key record with the answer. SQLite also counts its BEGIN IMMEDIATE
# and the ledger's statements; on PostgreSQL the ledger's lock, key read and write go
# straight to the driver. (Before #17: 17 + 3 statements in 5 transactions; SQLite 29.)
CHARGE = Budget(
    postgresql=Cost(statements=13, transactions=1, driver=3),
    sqlite=Cost(statements=21, transactions=1),
)


@pytest.fixture
async def quiet_shop(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    """The shop without the ledger's upkeep loop, whose statements would be counted too."""
    quick = shop_settings(settings, ledger_upkeep_interval_seconds=0)
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


async def test_a_charge_below_the_no_pin_limit_stays_within_its_statement_budget(
    quiet_shop: Shop,
) -> None:
    shop = quiet_shop
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000591", "100.00")
    warm = await show_code(shop, user)  # the first charge also opens the ledger accounts
    assert (await charge(shop, merchant, warm, "1.00")).status_code == 201
    code = await show_code(shop, user)
    with tallied(shop.services.engine) as tally:
        response = await charge(shop, merchant, code, "12.00")
    assert response.status_code == 201, response.text
    check(tally, CHARGE, shop.engine.dialect.name)
