"""How many SQL statements and transactions one merchant charge costs.

The charge path is CPU-bound (each statement costs a SQLAlchemy compile and a driver round
trip), so a regression that re-reads a row or adds a lookup shows up here before it shows
up in the benchmark. The bounds are today's counts (PostgreSQL: 29 statements before the
charge path was trimmed, SQLite 40); lower them when the path gets cheaper.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import make_app
from tests.fixtures.payment_codes import Shop, charge, show_code
from tests.fixtures.serving import serving
from tests.fixtures.shop import shop_settings

# By dialect: SQLite also counts its BEGIN (IMMEDIATE) statements. One of them is the risk
# decision's record (a small charge is decided on its amount alone: no feature read).
STATEMENTS_PER_CHARGE = {"postgresql": 17, "sqlite": 29}
TRANSACTIONS_PER_CHARGE = 5  # idempotency claim, key check, look-up, money unit, response


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


@dataclass
class Tally:
    statements: list[str]
    commits: int = 0


@contextmanager
def tallied() -> Iterator[Tally]:
    """Count every statement and commit on any engine (the app has its own) meanwhile."""
    tally = Tally([])

    def on_statement(*args: Any) -> None:
        tally.statements.append(str(args[2]).split("\n", 1)[0][:120])

    def on_commit(*_: Any) -> None:
        tally.commits += 1

    event.listen(Engine, "before_cursor_execute", on_statement)
    event.listen(Engine, "commit", on_commit)
    try:
        yield tally
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)
        event.remove(Engine, "commit", on_commit)


async def test_a_charge_below_the_no_pin_limit_stays_within_its_statement_budget(
    quiet_shop: Shop,
) -> None:
    shop = quiet_shop
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000591", "100.00")
    warm = await show_code(shop, user)  # the first charge also opens the ledger accounts
    assert (await charge(shop, merchant, warm, "1.00")).status_code == 201
    code = await show_code(shop, user)
    with tallied() as tally:
        response = await charge(shop, merchant, code, "12.00")
    assert response.status_code == 201, response.text
    budget = STATEMENTS_PER_CHARGE[shop.engine.dialect.name]
    assert len(tally.statements) <= budget, tally.statements
    assert tally.commits <= TRANSACTIONS_PER_CHARGE
