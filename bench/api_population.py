"""The people and the merchant bench/api.py drives: made straight in the database.

Users are inserted as the test harness makes them (a ``users`` row, a session, an access
token signed the way sign-in signs it), all class III, with a payment password hashed
with the server's real argon2 parameters -- one hash shared by every user, since hashing
thousands of PINs would take minutes and verifying is what the benchmark is about. Each
wallet is funded with one ledger transfer from the bank settlement account, as a top-up
would; the merchant is made by the merchant service (its ledger account included).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.bootstrap.root import running_services
from ewallet.config import Settings
from ewallet.kit.clock import SystemClock
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.merchants.service import create_merchant
from ewallet.models.identity import AuthSession, User
from ewallet.security.context import SecurityContext

users = cast(Table, User.__table__)
sessions = cast(Table, AuthSession.__table__)
PIN = "385916"
LOGIN_PASSWORD = "bench horse battery"
TOKEN_TTL = timedelta(hours=3)
FUNDS = Money.parse("10000.00")


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: str
    phone: str
    token: str


@dataclass(frozen=True, slots=True)
class Population:
    users: list[BenchUser]
    api_keys: list[str]  # one per merchant; the first is "the" merchant

    @property
    def api_key(self) -> str:
        return self.api_keys[0]


def phone_of(number: int) -> str:
    return f"+86137{number:08d}"


async def make_population(
    engine: AsyncEngine, settings: Settings, count: int, *, merchants: int = 1
) -> Population:
    clock = SystemClock()
    security = SecurityContext.from_settings(settings)
    ledger = Ledger(engine, clock=clock, group_commit=True)
    await ledger.start()
    try:
        pin_hash = await security.pins.hash(PIN)
        login_hash = await security.passwords.hash(LOGIN_PASSWORD)
        now = clock.now()
        made: list[BenchUser] = []
        user_rows: list[dict[str, Any]] = []
        session_rows: list[dict[str, Any]] = []
        for number in range(count):
            user_id, session_id = new_id("usr"), new_id("ses")
            user_rows.append(
                {
                    "id": user_id,
                    "phone": phone_of(number),
                    "status": "active",
                    "tier": 3,
                    "locale": "zh-CN",
                    "login_password_hash": login_hash,
                    "login_password_changed_at": now,
                    "login_failures": 0,
                    "payment_password_hash": pin_hash,
                    "payment_failures": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            session_rows.append(
                {
                    "id": session_id,
                    "user_id": user_id,
                    "device_id": None,
                    "created_at": now,
                    "last_seen_at": now,
                    "expires_at": now + timedelta(days=1),
                }
            )
            token = security.tokens.issue(
                kind="user", subject=user_id, session_id=session_id, now=now, ttl=TOKEN_TTL
            )
            made.append(BenchUser(user_id, phone_of(number), token))
        async with engine.begin() as conn:
            for start in range(0, count, 1000):
                await conn.execute(insert(users), user_rows[start : start + 1000])
                await conn.execute(insert(sessions), session_rows[start : start + 1000])
        await _fund(ledger, [user.id for user in made])
        keys = []
        async with running_services(settings, clock, pool_size=2) as services:
            for number in range(merchants):
                created = await create_merchant(
                    services,
                    Actor.system(),
                    name=f"Bench Mart {number + 1}",
                    category="retail",
                )
                keys.append(created.api_key)
    finally:
        await ledger.aclose()
    return Population(made, keys)


async def _fund(ledger: Ledger, user_ids: list[str]) -> None:
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    gate = asyncio.Semaphore(16)

    async def fund(user_id: str) -> None:
        async with gate:
            wallet = await chart.open_account(ledger, chart.wallet(user_id))
            await ledger.transfer(
                key=f"bench-fund-{user_id}",
                debit_account_id=bank.id,
                credit_account_id=wallet.id,
                amount=FUNDS,
                kind=TransactionKind.TOPUP,
            )

    await asyncio.gather(*(fund(user_id) for user_id in user_ids))
