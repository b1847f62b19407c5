"""Settlement tests: the full app with its in-process sandbox bank, SQLite and PostgreSQL.

Money reaches merchants straight through the ledger (:meth:`Settling.sale` books what a
payment books: the merchant's share and the fee), at chosen times of chosen business days,
so any day's arithmetic is quick to set up; statement tests make real orders, payments and
refunds through the API. The bank gives up after a short timeout, so the sandbox's
timing-out account and ``.51`` amounts leave payouts pending quickly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Leg, PostEntry, Side, chart
from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.service import create_merchant
from ewallet.merchants.views import NewMerchant
from ewallet.models.settlement import PartyKind
from ewallet.models.tables import settlements
from ewallet.risk.limits import CHINA_TIME
from ewallet.sandbox.bank.cards import TEST_CARDS, SandboxCard
from ewallet.security.context import SecurityContext
from ewallet.settlement.service import run_settlement, set_payout_account
from ewallet.settlement.views import RunReport
from tests.fixtures.accounts import START, make_app
from tests.fixtures.funding import warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, clock, shop_settings

__all__ = ["ICBC", "TIMEOUT_CARD", "Settling", "clock", "settling"]

ICBC: SandboxCard = TEST_CARDS[0]
CCB: SandboxCard = TEST_CARDS[1]
DECLINING: SandboxCard = TEST_CARDS[5]
TIMEOUT_CARD: SandboxCard = TEST_CARDS[7]
FIRST_DAY = START.astimezone(CHINA_TIME).date()  # 2026-03-02
BANK_TIMEOUT_SECONDS = 1.0
_keys = count()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a Beijing business day."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TIME)


@dataclass
class Settling(Shop):
    async def shop_with_account(
        self, name: str = "Corner Bakery", card: SandboxCard = ICBC, *, holder: str | None = None
    ) -> NewMerchant:
        merchant = await create_merchant(self.services, Actor.system(), name=name)
        await set_payout_account(
            self.services,
            Actor.system(),
            party_kind=PartyKind.MERCHANT,
            party_id=merchant.merchant.id,
            account_number=card.number,
            holder_name=holder or card.holder_name,
        )
        return merchant

    async def _post(self, kind: str, legs: list[tuple[str, Side, int]], when: datetime) -> None:
        self.clock.set(when)
        ledger = self.services.ledger
        built = []
        for code_spec, side, minor in legs:
            if minor == 0:
                continue
            account_id = await chart.account_id(ledger, _spec(code_spec))
            built.append(Leg(account_id, side, Money(minor)))
        await ledger.post_entry(PostEntry(key=f"test:{next(_keys)}", kind=kind, legs=tuple(built)))

    async def sale(self, merchant_id: str, amount: int, fee: int, when: datetime) -> None:
        """What a payment books: the customer's money to the merchant, less the fee."""
        await self._post(
            "payment",
            [
                ("funding", Side.DEBIT, amount),
                (f"merchant:{merchant_id}", Side.CREDIT, amount - fee),
                ("fee", Side.CREDIT, fee),
            ],
            when,
        )

    async def give_back(self, merchant_id: str, amount: int, fee: int, when: datetime) -> None:
        """What a refund books: the merchant's share and the fee returned to the customer."""
        await self._post(
            "refund",
            [
                (f"merchant:{merchant_id}", Side.DEBIT, amount - fee),
                ("fee", Side.DEBIT, fee),
                ("funding", Side.CREDIT, amount),
            ],
            when,
        )

    async def run(self, day: date, **kwargs: Any) -> RunReport:
        self.clock.set(at(day + timedelta(days=1), 2))
        report = await run_settlement(self.services, day=day, **kwargs)
        verified = await verify_ledger(self.engine)
        assert verified.clean, verified.violations
        return report

    async def rows(self, merchant_id: str) -> list[Any]:
        async with self.engine.connect() as conn:
            statement = (
                select(settlements)
                .where(settlements.c.party_id == merchant_id)
                .order_by(settlements.c.business_day)
            )
            return list(await conn.execute(statement))

    async def available(self, merchant_id: str) -> int:
        account = await self.ledger.account_by_code(f"merchant:{merchant_id}:CNY")
        assert account is not None
        await self.services.ledger.fold_balance_deltas()
        account = await self.ledger.account_by_code(f"merchant:{merchant_id}:CNY")
        assert account is not None
        return account.posted - account.pending_debits


def _spec(name: str) -> chart.AccountSpec:
    if name == "funding":
        return chart.bank_settlement("FUNDING")
    if name == "fee":
        return chart.fee_revenue()
    kind, _, party = name.partition(":")
    assert kind == "merchant"
    return chart.merchant(party)


@pytest.fixture
async def settling(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Settling]:
    quick = shop_settings(settings, bank_timeout_seconds=BANK_TIMEOUT_SECONDS)
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Settling(engine, quick, clock, security, client, app_services(app), app)
