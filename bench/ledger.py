"""Ledger benchmark: committed transfers per second and history latency. Prints JSON.

    make bench-ledger                       # both databases, 8 s per scenario
    .venv/bin/python bench/ledger.py --seconds 3 --backends sqlite

Scenarios, each at concurrency 1 and 16, through the ledger's Python API (``Ledger``):
uniform random transfers among 10,000 wallets, and a hot account where every transfer
credits one merchant. Concurrency 16 runs with group commit (and, for comparison, without).
When ``pgbench`` is on the PATH, PostgreSQL's TPC-B script runs against the same server
with the same client count and duration, and the ratios are printed. Finally the latency
of the latest-20 history query on a ledger of 1,000,000 postings.

The PostgreSQL server is the one of ``EWALLET_TEST_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/test); each run uses fresh databases it drops after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, Side, TransactionKind, transfer
from ewallet.ledger.errors import InsufficientBalanceError
from ewallet.models.migrate import upgrade
from ewallet.models.tables import ledger_accounts as accounts_table

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
WALLETS = 10_000
CLIENTS = 16
HISTORY_POSTINGS = 1_000_000
HISTORY_SAMPLES = 2_000


# ------------------------------------------------------------------------------ databases


def _pg_admin() -> str:
    return os.environ.get("EWALLET_TEST_POSTGRES_URL", DEFAULT_PG)


async def _pg_admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(_pg_admin().replace("+asyncpg", ""))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[str]:
    """A new, migrated database; removed afterwards."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="ewallet-bench-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        try:
            await _migrate(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"ewallet_bench_{secrets.token_hex(4)}"
    await _pg_admin_execute(f'CREATE DATABASE "{name}"')
    rendered = (
        make_url(_pg_admin())
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        await _migrate(rendered)
        yield rendered
    finally:
        await _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------- fixtures


async def open_accounts(engine: AsyncEngine, ledger: Ledger) -> tuple[int, int, list[int]]:
    """A bank account, one hot merchant and 10,000 funded wallets."""
    now = SystemClock().now()
    rows = [
        {
            "code": f"wallet:{n}:CNY",
            "kind": "wallet",
            "currency": "CNY",
            "normal_side": "credit",
            "may_go_negative": False,
            "posted": 0,
            "pending_debits": 0,
            "pending_credits": 0,
            "created_at": now,
        }
        for n in range(WALLETS)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(accounts_table), rows)
    # Hot, as the wallet's chart of accounts opens merchants and bank settlement accounts:
    # credited through balance deltas, without the row lock (docs/ledger.md).
    bank = await ledger.open_account(
        code="bank:BENCH:CNY",
        kind="bank_settlement",
        normal_side=Side.DEBIT,
        may_go_negative=True,
        hot=True,
    )
    merchant = await ledger.open_account(
        code="merchant:hot:CNY", kind="merchant", normal_side=Side.CREDIT, hot=True
    )
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT id FROM ledger_accounts WHERE kind = 'wallet'"))
        wallet_ids = [row[0] for row in result.all()]
    for start in range(0, len(wallet_ids), 500):
        chunk = wallet_ids[start : start + 500]
        await ledger.execute_many(
            [
                transfer(
                    key=f"fund-{wallet_id}",
                    debit_account_id=bank.id,
                    credit_account_id=wallet_id,
                    amount=Money(1_000_000_00),
                    kind=TransactionKind.TOPUP,
                )
                for wallet_id in chunk
            ]
        )
    if engine.dialect.name == "postgresql":
        # Fresh tables have no statistics yet; pgbench -i analyzes its tables too.
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE"))
    return bank.id, merchant.id, wallet_ids


# ----------------------------------------------------------------------------- throughput


async def measure_transfers(
    engine: AsyncEngine,
    *,
    wallets: list[int],
    merchant: int,
    hot: bool,
    clients: int,
    seconds: float,
    group_commit: bool,
) -> dict[str, Any]:
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit, flushers=2)
    await ledger.start()
    committed = refused = 0
    latencies: list[float] = []
    run_id = secrets.token_hex(3)
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        nonlocal committed, refused
        rng = random.Random(number)
        sequence = 0
        while time.perf_counter() < deadline:
            source = rng.choice(wallets)
            target = merchant if hot else rng.choice(wallets)
            if target == source:
                continue
            sequence += 1
            started = time.perf_counter()
            try:
                await ledger.transfer(
                    key=f"{run_id}-{number}-{sequence}",
                    debit_account_id=source,
                    credit_account_id=target,
                    amount=Money(rng.randint(1, 500)),
                )
                committed += 1
            except InsufficientBalanceError:
                refused += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    await ledger.aclose()
    latencies.sort()
    return {
        "clients": clients,
        "group_commit": group_commit,
        "seconds": round(elapsed, 2),
        "committed": committed,
        "refused": refused,
        "tps": round(committed / elapsed, 1),
        "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 2),
        "latency_ms_p99": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
    }


def run_pgbench(clients: int, seconds: float) -> dict[str, Any] | None:
    """TPC-B (pgbench's default script) on the same server, scale = clients."""
    if shutil.which("pgbench") is None:
        return None
    name = f"ewallet_pgbench_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin_execute(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg_admin())
    base = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", str(clients), *base, name],
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            ["pgbench", "-c", str(clients), "-j", "2", "-T", str(int(seconds)), "-n", *base, name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        asyncio.run(_pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if match is None:
        return {"error": "could not read pgbench output", "output": out[-500:]}
    return {
        "clients": clients,
        "scale": clients,
        "seconds": int(seconds),
        "tps": float(match.group(1)),
    }


# -------------------------------------------------------------------------------- history


async def load_history(engine: AsyncEngine, backend: str) -> int:
    """Write 1,000,000 postings (500,000 two-leg transfers) set-wise; return the hot account."""
    pairs = HISTORY_POSTINGS // 2
    series = (
        f"generate_series(1, {pairs}) AS g(n)"
        if backend == "postgresql"
        else f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {pairs}) "
        "SELECT n FROM s) AS g"
    )
    now = "CURRENT_TIMESTAMP"
    async with engine.begin() as conn:
        min_id = (await conn.execute(text("SELECT MIN(id) FROM ledger_accounts"))).scalar_one()
        count = (await conn.execute(text("SELECT COUNT(*) FROM ledger_accounts"))).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO ledger_transactions (id, kind, idempotency_key, request_hash, "
                "metadata, created_at) "
                f"SELECT 'txn_h' || n, 'transfer', 'hist-' || n, '', '{{}}', {now} FROM {series}"
            )
        )
        # Postings: debit a wallet, credit another; every 10th credit goes to one hot account.
        for _leg, sign, target in (
            (0, 1, f"{min_id} + (CAST(n AS BIGINT) * 7919) % {count}"),
            (
                1,
                -1,
                f"CASE WHEN n % 10 = 0 THEN {min_id} "
                f"ELSE {min_id} + (CAST(n AS BIGINT) * 104729) % {count} END",
            ),
        ):
            await conn.execute(
                text(
                    "INSERT INTO ledger_postings (transaction_id, account_id, amount, currency, "
                    "balance_after, created_at) "
                    f"SELECT 'txn_h' || n, {target}, {sign} * (1 + n % 500), 'CNY', 0, {now} "
                    f"FROM {series} ORDER BY n"
                )
            )
        if backend == "postgresql":
            await conn.execute(text("ANALYZE"))
    return int(min_id)


async def measure_history(engine: AsyncEngine, backend: str) -> dict[str, Any]:
    hot = await load_history(engine, backend)
    async with engine.connect() as conn:
        total = (await conn.execute(text("SELECT COUNT(*) FROM ledger_postings"))).scalar_one()
        ids = [row[0] for row in (await conn.execute(text("SELECT id FROM ledger_accounts"))).all()]
        hot_count = (
            await conn.execute(
                text("SELECT COUNT(*) FROM ledger_postings WHERE account_id = :a"), {"a": hot}
            )
        ).scalar_one()
    ledger = Ledger(engine, clock=SystemClock())
    rng = random.Random(7)
    samples: dict[str, list[float]] = {"random_account": [], "hot_account": []}
    for _ in range(50):  # warm the pool and caches
        await ledger.history(rng.choice(ids), limit=20)
    for n in range(HISTORY_SAMPLES):
        which = "hot_account" if n % 2 else "random_account"
        account = hot if which == "hot_account" else rng.choice(ids)
        started = time.perf_counter()
        page = await ledger.history(account, limit=20)
        samples[which].append(time.perf_counter() - started)
        assert len(page.items) <= 20
    out: dict[str, Any] = {"postings": total, "hot_account_postings": hot_count}
    for which, values in samples.items():
        values.sort()
        out[which] = {
            "p50_ms": round(1000 * statistics.median(values), 3),
            "p99_ms": round(1000 * values[int(len(values) * 0.99)], 3),
        }
    return out


# ---------------------------------------------------------------------------------- main


async def bench_backend(backend: str, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {}
    async with fresh_database(backend) as url:
        engine = make_engine(url, pool_size=CLIENTS + 4)
        try:
            ledger = Ledger(engine, clock=SystemClock())
            _, merchant, wallets = await open_accounts(engine, ledger)
            for scenario, hot in (("uniform", False), ("hot_account", True)):
                runs = [
                    await measure_transfers(
                        engine,
                        wallets=wallets,
                        merchant=merchant,
                        hot=hot,
                        clients=1,
                        seconds=seconds,
                        group_commit=False,
                    ),
                    await measure_transfers(
                        engine,
                        wallets=wallets,
                        merchant=merchant,
                        hot=hot,
                        clients=CLIENTS,
                        seconds=seconds,
                        group_commit=True,
                    ),
                    await measure_transfers(
                        engine,
                        wallets=wallets,
                        merchant=merchant,
                        hot=hot,
                        clients=CLIENTS,
                        seconds=seconds,
                        group_commit=False,
                    ),
                ]
                result[scenario] = runs
        finally:
            await engine.dispose()
    async with fresh_database(backend) as url:
        engine = make_engine(url, pool_size=4)
        try:
            ledger = Ledger(engine, clock=SystemClock())
            await open_accounts(engine, ledger)
            result["history_latest_20"] = await measure_history(engine, backend)
        finally:
            await engine.dispose()
    return result


def _tps(runs: list[dict[str, Any]], clients: int, group_commit: bool) -> float:
    matching = [r for r in runs if r["clients"] == clients and r["group_commit"] == group_commit]
    return float(matching[0]["tps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    import uvloop  # noqa: PLC0415 -- installed with uvicorn[standard], as in production

    report: dict[str, Any] = {
        "benchmark": "ledger",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "seconds_per_run": args.seconds,
        "wallets": WALLETS,
    }
    for backend in args.backends.split(","):
        report[backend] = uvloop.run(bench_backend(backend, args.seconds))
        print(f"{backend} done", file=sys.stderr)
    if "postgresql" in report:
        pgbench = run_pgbench(CLIENTS, args.seconds)
        report["pgbench_tpcb"] = pgbench
        pg = report["postgresql"]
        uniform16 = _tps(pg["uniform"], CLIENTS, True)
        hot16 = _tps(pg["hot_account"], CLIENTS, True)
        report["ratios"] = {
            "pg_uniform16_over_pgbench": round(uniform16 / pgbench["tps"], 3)
            if pgbench and "tps" in pgbench
            else None,
            "pg_hot16_over_uniform16": round(hot16 / uniform16, 3),
        }
    if "sqlite" in report:
        sqlite = report["sqlite"]
        report.setdefault("ratios", {})["sqlite_hot16_over_uniform16"] = round(
            _tps(sqlite["hot_account"], CLIENTS, True) / _tps(sqlite["uniform"], CLIENTS, True), 3
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
