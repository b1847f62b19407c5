"""The risk decision's own time with the default rules: p50/p99 over N decisions. Prints JSON.

    .venv/bin/python bench/risk_decisions.py                 # both databases, 1,000 each
    .venv/bin/python bench/risk_decisions.py --backends sqlite --decisions 200

Each decision is :func:`ewallet.risk.decisions.decide` on a transfer, inside a unit that
holds the spender's row lock as the spend seam does, for one of 50 users with a month of
history (100 spends each, a top-up); an allowed decision commits with its stored record.
Only the ``decide`` call is timed. The PostgreSQL server is the one of
``EWALLET_TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/test); the run
uses a fresh database it drops after: the decision's cost alone, on an otherwise idle
process. ``make bench-risk`` (bench/risk.py) runs it too (:func:`decision_times`), beside
the charges per second with the rules on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.identity.guards import locked_user
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.models.migrate import upgrade
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.models.tables import spend_records, users
from ewallet.risk.decisions import RiskSettings, SpendFacts, decide

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
USERS = 50
HISTORY = 100


async def _populate(engine: AsyncEngine, now: datetime) -> list[str]:
    ids = [new_id("usr") for _ in range(USERS)]
    rng = random.Random(7)
    async with engine.begin() as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": user_id,
                    "phone": f"+86138{index:08d}",
                    "status": "active",
                    "tier": 3,
                    "locale": "zh-CN",
                    "login_password_hash": "x",
                    "login_password_changed_at": now - timedelta(days=400),
                    "login_failures": 0,
                    "payment_failures": 0,
                    "created_at": now - timedelta(days=400),
                    "updated_at": now,
                }
                for index, user_id in enumerate(ids)
            ],
        )
        await conn.execute(
            insert(spend_records),
            [
                {
                    "id": new_id("spd"),
                    "user_id": user_id,
                    "reference": f"seed:{new_id('r')}",
                    "channel": rng.choice(["transfer", "payment", "bill"]),
                    "auth": "pin",
                    "amount": rng.randint(100, 50_000),
                    "currency": "CNY",
                    "created_at": now - timedelta(minutes=rng.randint(1, 43_000)),
                    "counterparty": f"usr_{rng.randint(1, 30)}",
                }
                for user_id in ids
                for _ in range(HISTORY)
            ],
        )
    ledger = Ledger(engine, clock=SystemClock())
    bank = await chart.open_account(ledger, chart.bank_settlement("BENCH"))
    for user_id in ids:
        wallet = await chart.open_account(ledger, chart.wallet(user_id))
        await ledger.transfer(
            key=f"bench-topup-{user_id}",
            debit_account_id=bank.id,
            credit_account_id=wallet.id,
            amount=Money.parse("500.00"),
            kind=TransactionKind.TOPUP,
        )
    return ids


async def _measure(url: str, decisions: int) -> dict[str, Any]:
    engine = make_engine(url, pool_size=4)
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        ids = await _populate(engine, now)
        settings = RiskSettings()
        rng = random.Random(11)
        timings: list[float] = []
        verdicts: dict[str, int] = {}

        async def one(uow: UnitOfWork) -> None:
            user_id = rng.choice(ids)
            spender = await locked_user(uow, user_id)
            facts = SpendFacts(
                user_id=user_id,
                amount=Money(rng.randint(100, 300_000), "CNY"),
                channel=SpendChannel.TRANSFER,
                auth=AuthStrength.PIN,
                reference=f"bench:{new_id('r')}",
                counterparty=f"usr_{rng.randint(1, 60)}",
            )
            start = time.perf_counter()
            decision = await decide(
                uow, facts, now=datetime.now(UTC), settings=settings, spender=spender
            )
            timings.append((time.perf_counter() - start) * 1000)
            verdicts[decision.verdict.value] = verdicts.get(decision.verdict.value, 0) + 1

        await run_unit(engine, one)  # the first decision seeds the rules and warms the cache
        timings.clear()
        verdicts.clear()
        for _ in range(decisions):
            await run_unit(engine, one)
        ordered = sorted(timings)
        return {
            "decisions": len(ordered),
            "p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
            "max_ms": round(ordered[-1], 3),
            "verdicts": verdicts,
        }
    finally:
        await engine.dispose()


def _pg_admin() -> str:
    return os.environ.get("EWALLET_TEST_POSTGRES_URL", DEFAULT_PG)


async def _pg(statement: str) -> None:
    connection = await asyncpg.connect(_pg_admin())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def decision_times(backends: list[str], decisions: int) -> dict[str, Any]:
    """p50/p99 of ``decisions`` timed decisions on each of ``backends`` ("sqlite",
    "postgresql"), each on a fresh database. Runs its own event loops: call it outside one."""
    report: dict[str, Any] = {}
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
                report[backend] = asyncio.run(_measure(url, decisions))
        else:
            name = f"ewallet_bench_risk_{secrets.token_hex(4)}"
            asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
            try:
                pg_url = make_url(_pg_admin()).set(drivername="postgresql+asyncpg", database=name)
                report[backend] = asyncio.run(
                    _measure(pg_url.render_as_string(hide_password=False), decisions)
                )
            finally:
                asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--decisions", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(decision_times(args.backends.split(","), args.decisions), indent=2))


if __name__ == "__main__":
    main()
