"""One served app per module and database, for counting what each money request costs.

Every test of a module measures one endpoint on the same app (set up once per database:
the lifespan, the sandbox bank's tables and the first compile of every statement are paid
once), with its own people and merchants, so the tests do not depend on each other's
order. The database is the suite's (a copy of the migrated SQLite template, or the run's
PostgreSQL database emptied first), the clock frozen, argon2 cheap, and nothing runs in
the background that a tally would count: no outbox relay, no ledger upkeep, no settling
of unknown bank outcomes (``test_idle.py`` checks that).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import update

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.models.tables import users
from ewallet.sandbox.bank.cards import SandboxCard
from ewallet.security.context import SecurityContext
from tests.conftest import BACKENDS, _truncate_all, run_in_thread
from tests.fixtures.accounts import PIN, START, TestUser, fast, make_app
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop
from tests.fixtures.statement_tally import Budget, Tally, check, tallied

__all__ = ["PIN", "Counting", "counting"]


@dataclass
class Counting(Shop):
    """The shop harness (merchants, orders, funded customers) plus cards and a tally."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def card_customer(
        self, phone: str, card: SandboxCard, funds: str = "0.00"
    ) -> tuple[TestUser, str]:
        """A tier-III customer with a payment password and ``card`` bound (through the
        API, the bank's SMS code included); returns the user and the card's id."""
        user = await self.user(phone=phone, pin=PIN)
        async with self.engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user.id).values(tier=3))
        bound = await bind(self, user, card)
        if Decimal(funds) > 0:
            await self.fund(user, funds)
        return user, str(bound["id"])

    async def measure(
        self, request: Awaitable[httpx.Response], budget: Budget, *, status: int = 201
    ) -> httpx.Response:
        """Run ``request`` under a tally and hold it to ``budget`` (every statement listed
        when it is over)."""
        tally: Tally
        with tallied(self.services.engine) as tally:
            response = await request
        assert response.status_code == status, response.text
        check(tally, budget, self.dialect)
        return response


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The module's database: as the suite's ``database_url``, once per module."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("budgets") / "ewallet.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    run_in_thread(_truncate_all(url))
    return url


def module_settings(database_url: str, folder: Path, **changes: Any) -> Settings:
    """The suite's test settings (tests/conftest.py), quiet and quick."""
    settings = Settings(
        database_url=database_url,
        var_dir=folder / "var",
        secret_key=SecretStr("test-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("test-pin-pepper-" + "y" * 32),
        log_json=True,
        settle_interval_seconds=0,  # no settling of unknown bank outcomes
        ledger_upkeep_interval_seconds=0,  # no folding of hot accounts' deltas
    )
    return fast(settings).model_copy(
        update={
            "embedded_worker": False,  # no outbox relay
            "bank_timeout_seconds": BANK_GIVE_UP_SECONDS,
            **changes,
        }
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def counting(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Counting]:
    settings = module_settings(module_database, tmp_path_factory.mktemp("budgets-app"))
    clock = FrozenClock(START)
    app = make_app(settings, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        services = app_services(app)
        security = SecurityContext.from_settings(settings)
        yield Counting(services.engine, settings, clock, security, client, services, app)
