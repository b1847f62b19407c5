"""``seed_demo``: demo users, merchants and four weeks of history, through the real API.

Everything goes through the wallet's own HTTP API, served in-process (httpx's ASGI
transport) by an app whose clock walks from four weeks ago to now: registration, real-name
verification, the payment password, card binding against the sandbox bank, card and PSP
top-ups, merchant orders and payments, refunds, transfers and withdrawals. So the ledger,
the history, statements and audit log are exactly what real use would have left, dated in
the past, and ``ewallet ledger verify`` finds them clean.

Idempotent: merchants are found by name and users by phone. Anything that exists is left
alone (a merchant gets a fresh API key, because only the digest of the old one is stored
and the printed key must work); history is only made for users this run created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ewallet.app import create_app
from ewallet.config import Environment, Settings
from ewallet.demo.people import PEOPLE
from ewallet.demo.steps import (
    DAYS,
    SHANGHAI,
    DemoRefusedError,
    DemoSteps,
    SeedReport,
    _Session,
)
from ewallet.kit.clock import FrozenClock, SystemClock
from ewallet.ledger.verify import verify_ledger
from ewallet.sandbox.bank import sandbox_bank_of

__all__ = ["DAYS", "DemoRefusedError", "SeedReport", "Seeder", "demo_app", "seed_demo"]


def history_start(now: datetime) -> datetime:
    """Midnight in Shanghai ``DAYS`` days before today: the first day of the history."""
    today = now.astimezone(SHANGHAI).date()
    return datetime.combine(today - timedelta(days=DAYS), time(0), tzinfo=SHANGHAI)


@asynccontextmanager
async def demo_app(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The wallet served in-process on ``clock`` (a client and the app), its outbox left to
    the real server."""
    app = create_app(settings.model_copy(update={"embedded_worker": False}), clock=clock)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        if getattr(app.state, "sandbox_bank", None) is not None:
            await sandbox_bank_of(app.state.sandbox_bank).start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            yield client, app


class Seeder(DemoSteps):
    """One run: the steps of :class:`DemoSteps` scripted over four weeks."""

    # ------------------------------------------------------------------ the four weeks

    def _amount(self, low: int, high: int) -> Decimal:
        """A price between ``low`` and ``high`` yuan; whole or .50/.80 (never the sandbox's
        .51-.56, which drive the bank into failures)."""
        return Decimal(self.random.randint(low, high)) + self.random.choice(
            [Decimal("0"), Decimal("0.50"), Decimal("0.80")]
        )

    async def history(self, first_day: datetime) -> None:
        """Day by day, each day's events of every new user in time order."""
        for offset in range(DAYS):
            day = first_day + timedelta(days=offset)
            events: list[tuple[int, int, int, Callable[[], Awaitable[None]]]] = []
            for number, session in enumerate(self.sessions.values()):
                for hour, action in self._plan(session, offset):
                    minute = self.random.randint(0, 50)
                    events.append((hour, minute, number, action))
            for hour, minute, _number, action in sorted(events, key=lambda e: e[:3]):
                self._at(day, hour, minute)
                await action()

    def _plan(
        self, session: _Session, offset: int
    ) -> list[tuple[int, Callable[[], Awaitable[None]]]]:
        """One user's day: (hour, action) pairs drawn from the fixed-seed random script."""
        rng = self.random
        plan: list[tuple[int, Callable[[], Awaitable[None]]]] = []
        if offset == 0:
            first = Decimal(300) if session.seeded.person.tier == 1 else Decimal(2000)
            plan.append((9, lambda: self.top_up(session, first)))
        # Class I accounts have a small lifetime cap (DESIGN.md): a coffee now and then.
        if session.seeded.person.tier == 1:
            if rng.random() < 0.15:
                latte = self._amount(18, 36)
                plan.append((8, lambda: self._buy(session, "coffee", latte, "拿铁 Latte")))
            return plan
        if rng.random() < 0.6:
            latte = self._amount(18, 36)
            plan.append((8, lambda: self._buy(session, "coffee", latte, "拿铁 Latte")))
        if rng.random() < 0.3:
            groceries, refunded = self._amount(40, 260), rng.random() < 0.25
            refund = Decimal("9.90") if refunded else None
            plan.append(
                (12, lambda: self._buy(session, "supermarket", groceries, "日用品", refund))
            )
        if rng.random() < 0.1:
            books, returned = self._amount(30, 120), rng.random() < 0.3
            plan.append(
                (
                    15,
                    lambda: self._buy(
                        session, "bookstore", books, "图书", books if returned else None
                    ),
                )
            )
        if rng.random() < 0.15:
            others = [p for p in PEOPLE if p.phone != session.seeded.person.phone]
            to, amount = rng.choice(others), self._amount(20, 150)
            memo = rng.choice(["晚饭 AA", "电影票", "Taxi share", "生日快乐"])
            plan.append((19, lambda: self.transfer(session, to, amount, memo)))
        if offset % 10 == 9:
            cash = Decimal(rng.choice([200, 300, 500]))
            plan.append((21, lambda: self.withdraw(session, cash)))
        if self.bills and offset == 12:
            plan.append((20, lambda: self.pay_electricity(session)))
        if self.bills and offset == 20:
            plan.append((18, lambda: self.top_up_phone(session, Decimal(50))))
        return plan

    async def _buy(
        self,
        session: _Session,
        merchant: str,
        amount: Decimal,
        subject: str,
        refund: Decimal | None = None,
    ) -> None:
        """Pay an order; with ``refund``, the merchant refunds that much 40 minutes later."""
        order_id = await self.buy(session, merchant, amount, subject)
        if refund is not None:
            self.clock.advance(timedelta(minutes=40))
            await self.refund(merchant, order_id, refund)


async def seed_demo(settings: Settings, *, now: datetime | None = None) -> SeedReport:
    """Create (or find) the demo users and merchants; give new users four weeks of history."""
    if settings.env is Environment.PRODUCTION:
        raise DemoRefusedError("demo data is for development only: EWALLET_ENV=production")
    now = now or SystemClock().now()
    start = history_start(now)
    clock = FrozenClock(start.replace(hour=8))
    async with demo_app(settings, clock) as (client, app):
        seeder = Seeder(client, app, clock)
        await seeder.merchants()
        await seeder.users()
        if seeder.sessions:
            await seeder.history(start)
        report = seeder.report
        report.ledger_clean = (await verify_ledger(seeder.engine)).clean
    return report
