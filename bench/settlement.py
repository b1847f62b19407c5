"""Settlement benchmark: a business day of 1,000 merchants settled and paid. Prints JSON.

    make bench-settlement                          # both databases
    .venv/bin/python -m bench.settlement --backends sqlite --merchants 100 --payments 10000

For each database: a fresh migrated database with bench/ledger.py's 10,000 funded wallets
and its uniform@16 ledger transfer rate (group commit) as the yardstick; then a day of
``--payments`` payments and ``--refunds`` refunds across ``--merchants`` merchants, seeded
in bulk (merchants, orders, payments and refunds by Core inserts; their ledger entries
through the ledger's batch API, 500 per transaction, with fees booked as payments book
them); then ``ewallet settlement run``'s use case for that day against the in-process
sandbox bank (one payout per merchant over HTTP), timed; then the same day again (the
rerun: nothing paid twice), timed; then ``ledger verify``. Targets (issue #14): the day
settles in 2 minutes or less, a rerun in 10 s or less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import insert, select

from bench.ledger import fresh_database, measure_transfers, open_accounts
from ewallet.bootstrap import running_services
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.ids import new_id
from ewallet.kit.logging import configure_logging
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, Leg, PostEntry, Side, chart
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import (
    ledger_accounts,
    merchants,
    orders,
    payments,
    payout_accounts,
    refunds,
    settlements,
    users,
)
from ewallet.risk.limits import CHINA_TIME
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.security.context import SecurityContext
from ewallet.settlement.service import run_settlement

DAY = date(2026, 11, 2)
BATCH = 500
FEE_BP = 38
PAYOUT_CARD = TEST_CARDS[0]  # approves; the sandbox's behaviour cents (.51-.56) are avoided
BEHAVIOUR_CENTS = range(51, 57)


def _settings(url: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        var_dir=var_dir,
        secret_key=SecretStr("bench-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("bench-pin-pepper-" + "y" * 32),
        settle_interval_seconds=0,
        ledger_upkeep_interval_seconds=0,
        settlement_interval_seconds=0,
        bank_timeout_seconds=10.0,
        log_json=True,
        log_level="WARNING",
    )


def _moment(rng: random.Random) -> datetime:
    start = datetime.combine(DAY, clock_time(0), tzinfo=CHINA_TIME)
    return (start + timedelta(seconds=rng.randrange(24 * 3600))).astimezone(UTC)


async def seed_day(
    settings: Settings, wallets: list[int], *, merchants_n: int, payments_n: int, refunds_n: int
) -> dict[str, Any]:
    """The day's merchants, payout accounts, orders, payments, refunds and ledger entries."""
    rng = random.Random(14)
    engine = make_engine(settings.database_url, pool_size=4)
    clock = FrozenClock(datetime.combine(DAY, clock_time(12), tzinfo=CHINA_TIME))
    ledger = Ledger(engine, clock=clock)
    cipher = SecurityContext.from_settings(settings).cipher
    now = SystemClock().now()
    started = time.perf_counter()
    ids = [new_id("mch") for _ in range(merchants_n)]
    user_id = new_id("usr")
    async with engine.begin() as conn:
        await conn.execute(
            insert(users).values(
                id=user_id,
                phone="+8613800000000",
                login_password_hash="x",
                login_password_changed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            insert(merchants),
            [
                {
                    "id": merchant_id,
                    "name": f"Bench shop {n}",
                    "category": "retail",
                    "status": "active",
                    "accepts_wallet": True,
                    "webhook_secret_encrypted": "x",
                    "created_at": now,
                    "updated_at": now,
                }
                for n, merchant_id in enumerate(ids)
            ],
        )
        await conn.execute(
            insert(ledger_accounts),
            [
                {
                    "code": chart.merchant(merchant_id).code,
                    "kind": "merchant",
                    "currency": "CNY",
                    "normal_side": "credit",
                    "may_go_negative": False,
                    "hot": True,
                    "posted": 0,
                    "pending_debits": 0,
                    "pending_credits": 0,
                    "created_at": now,
                }
                for merchant_id in ids
            ],
        )
        await conn.execute(
            insert(payout_accounts),
            [
                {
                    "party_kind": "merchant",
                    "party_id": merchant_id,
                    "account_number_encrypted": cipher.encrypt(
                        PAYOUT_CARD.number, context=f"payout_account:merchant:{merchant_id}"
                    ),
                    "last4": PAYOUT_CARD.number[-4:],
                    "holder_name": PAYOUT_CARD.holder_name,
                    "bank_code": PAYOUT_CARD.bank_code,
                    "bank_name": PAYOUT_CARD.bank_name,
                    "updated_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
                for merchant_id in ids
            ],
        )
        rows = await conn.execute(
            select(ledger_accounts.c.code, ledger_accounts.c.id).where(
                ledger_accounts.c.kind == "merchant"
            )
        )
        account_of = {row.code: int(row.id) for row in rows}
    fee_account = await chart.account_id(ledger, chart.fee_revenue())

    # Payments: amount, fee, merchant, wallet, moment. Each merchant's net is then kept
    # off the sandbox's behaviour cents with one small last payment where needed.
    sales: list[tuple[int, int, str, int, datetime]] = []
    for _ in range(payments_n):
        amount = rng.randint(100, 50_000)
        sales.append(
            (amount, amount * FEE_BP // 10_000, rng.choice(ids), rng.choice(wallets), _moment(rng))
        )
    refunds_of: list[tuple[int, int, int]] = []  # (sale index, amount, fee returned)
    for index in rng.sample(range(len(sales)), refunds_n):
        amount, fee = sales[index][0], sales[index][1]
        part = rng.randint(1, amount)
        refunds_of.append((index, part, fee * part // amount))
    net: dict[str, int] = dict.fromkeys(ids, 0)
    for amount, fee, merchant_id, _, _ in sales:
        net[merchant_id] += amount - fee
    for index, part, fee_back in refunds_of:
        net[sales[index][2]] -= part - fee_back
    for merchant_id, value in net.items():
        if value % 100 in BEHAVIOUR_CENTS:
            sales.append((10, 0, merchant_id, rng.choice(wallets), _moment(rng)))

    order_rows, payment_rows, commands = [], [], []
    payment_ids = []
    for n, (amount, fee, merchant_id, wallet, moment) in enumerate(sales):
        order_id, payment_id = new_id("ord"), new_id("pay")
        payment_ids.append((payment_id, order_id))
        order_rows.append(
            {
                "id": order_id,
                "merchant_id": merchant_id,
                "out_trade_no": f"B{n}",
                "amount": amount,
                "currency": "CNY",
                "subject": "bench",
                "status": "paid",
                "request_hash": "x",
                "payment_id": payment_id,
                "expires_at": moment,
                "paid_at": moment,
                "created_at": moment,
                "updated_at": moment,
            }
        )
        payment_rows.append(
            {
                "id": payment_id,
                "order_id": order_id,
                "merchant_id": merchant_id,
                "user_id": user_id,
                "amount": amount,
                "refunded_amount": 0,
                "currency": "CNY",
                "ledger_transaction_id": f"t{n}",
                "created_at": moment,
                "updated_at": moment,
                "fee": fee,
            }
        )
        legs = [
            Leg(wallet, Side.DEBIT, Money(amount)),
            Leg(account_of[chart.merchant(merchant_id).code], Side.CREDIT, Money(amount - fee)),
        ]
        if fee:
            legs.append(Leg(fee_account, Side.CREDIT, Money(fee)))
        commands.append((moment, PostEntry(key=f"pay:{n}", kind="payment", legs=tuple(legs))))
    refund_rows = []
    for n, (index, part, fee_back) in enumerate(refunds_of):
        amount, _, merchant_id, wallet, moment = sales[index]
        later = min(moment + timedelta(minutes=30), _day_end() - timedelta(seconds=1))
        refund_rows.append(
            {
                "id": new_id("rfd"),
                "payment_id": payment_ids[index][0],
                "order_id": payment_ids[index][1],
                "merchant_id": merchant_id,
                "out_refund_no": f"R{n}",
                "amount": part,
                "currency": "CNY",
                "ledger_transaction_id": f"r{n}",
                "created_at": later,
                "fee_returned": fee_back,
            }
        )
        legs = [
            Leg(account_of[chart.merchant(merchant_id).code], Side.DEBIT, Money(part - fee_back)),
            Leg(wallet, Side.CREDIT, Money(part)),
        ]
        if fee_back:
            legs.append(Leg(fee_account, Side.DEBIT, Money(fee_back)))
        commands.append((later, PostEntry(key=f"refund:{n}", kind="refund", legs=tuple(legs))))
    async with engine.begin() as conn:
        for start in range(0, len(order_rows), 5_000):
            await conn.execute(insert(orders), order_rows[start : start + 5_000])
            await conn.execute(insert(payments), payment_rows[start : start + 5_000])
        for start in range(0, len(refund_rows), 5_000):
            await conn.execute(insert(refunds), refund_rows[start : start + 5_000])
    # Ledger entries in time order (refunds after their payment), 500 per transaction.
    commands.sort(key=lambda item: item[0])
    for start in range(0, len(commands), BATCH):
        chunk = commands[start : start + BATCH]
        clock.set(chunk[-1][0])
        results = await ledger.execute_many([command for _, command in chunk])
        refused = [r for r in results if isinstance(r, Exception)]
        if refused:
            raise RuntimeError(f"seeding refused: {refused[0]!r}")
    await ledger.fold_balance_deltas(accounts=merchants_n + 10)
    await engine.dispose()
    return {
        "merchants": merchants_n,
        "payments": len(sales),
        "refunds": len(refund_rows),
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def _day_end() -> datetime:
    return datetime.combine(DAY + timedelta(days=1), clock_time(0), tzinfo=CHINA_TIME)


async def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    async with fresh_database(backend) as url:
        engine = make_engine(url, pool_size=20)
        ledger = Ledger(engine, clock=SystemClock())
        _, merchant, wallets = await open_accounts(engine, ledger)
        yardstick = await measure_transfers(
            engine,
            wallets=wallets,
            merchant=merchant,
            hot=False,
            clients=16,
            seconds=args.seconds,
            group_commit=True,
        )
        await engine.dispose()
        result["ledger_uniform16_tps"] = yardstick["tps"]
        with tempfile.TemporaryDirectory(prefix="ewallet-bench-settle-") as folder:
            settings = _settings(url, Path(folder))
            result["seed"] = await seed_day(
                settings,
                wallets,
                merchants_n=args.merchants,
                payments_n=args.payments,
                refunds_n=args.refunds,
            )
            clock = FrozenClock(_day_end() + timedelta(hours=2))
            async with running_services(settings, clock, pool_size=8) as services:
                started = time.perf_counter()
                first = await run_settlement(services, day=DAY)
                wall = time.perf_counter() - started
                started = time.perf_counter()
                again = await run_settlement(services, day=DAY)
                rerun = time.perf_counter() - started
                async with services.engine.connect() as conn:
                    rows = (await conn.execute(select(settlements.c.status))).all()
                verified = await verify_ledger(services.engine)
        payments_n = result["seed"]["payments"]
        result.update(
            {
                "settle_seconds": round(wall, 2),
                "settled_payments_per_second": round(payments_n / wall, 1),
                "payouts": len(first.paid),
                "paid_total_fen": first.paid_total,
                "pending": len(first.pending),
                "errors": len(first.errors),
                "rerun_seconds": round(rerun, 2),
                "rerun_paid": len(again.paid),
                "rerun_already_done": len(again.already_done),
                "settlement_rows": len(rows),
                "settled_payments_per_second_over_ledger_tps": round(
                    payments_n / wall / yardstick["tps"], 2
                ),
                "ledger_verified": verified.clean,
                "targets_met": wall <= 120 and rerun <= 10 and not again.paid,
            }
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--merchants", type=int, default=1_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--refunds", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="ledger yardstick duration")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "settlement",
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "day": DAY.isoformat(),
    }
    # Warnings and errors only, on stderr: stdout is the JSON document.
    configure_logging(
        _settings("sqlite+aiosqlite://", Path(tempfile.gettempdir())), stream=sys.stderr
    )
    for backend in args.backends.split(","):
        report[backend] = asyncio.run(bench_backend(backend, args))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
