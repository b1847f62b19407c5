"""Velocity is right across two API processes on PostgreSQL: a burst of transfers by one
user, spread over two ``ewallet serve`` processes, meets a "third transfer in an hour is
blocked" rule exactly: two go through, every other one is declined -- each decision read
the spends committed before it, under the spender's row lock."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.bootstrap.root import running_services
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock, SystemClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.models.tables import risk_decisions, users
from ewallet.security.context import SecurityContext
from tests.concurrency.api_processes import api_processes, burst, side_database
from tests.concurrency.test_money_http_races import server_env
from tests.fixtures.accounts import PIN, Harness, fast

from .helpers import install, rule

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

STAFF = Actor("staff", "stf_test")
BURST = 10


async def test_velocity_holds_across_two_api_processes(
    engine: AsyncEngine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    quick = fast(settings).model_copy(update={"var_dir": tmp_path / "var"})
    security = SecurityContext.from_settings(quick)
    async with side_database(database_url, "bank") as bank_url:
        env = server_env(quick, database_url=database_url, bank_url=bank_url, var=quick.var_dir)
        env["EWALLET_RISK_RULES_REFRESH_SECONDS"] = "0"  # read the set we install at once
        # Ten PIN checks at once queue for the attempt budget's slots; on a busy machine the
        # default wait can run out (server_busy), which is not what this test is about.
        env["EWALLET_PAYMENT_PASSWORD_SLOT_WAIT_SECONDS"] = "120"
        async with (
            running_services(quick, SystemClock(), pool_size=2) as services,
            api_processes(env, tmp_path / "logs") as processes,
            httpx.AsyncClient(base_url=processes[0].base_url, timeout=60) as client,
        ):
            harness = Harness(
                engine, quick, FrozenClock(datetime.now(UTC)), security, client, services
            )
            await install(harness, rule("third-in-an-hour", "user_channel_count_1h >= 2"))
            payer = await harness.user(phone="+8613800000001", pin=PIN)
            payee = await harness.user(phone="+8613800000002", pin=PIN)
            async with engine.begin() as conn:
                await conn.execute(update(users).where(users.c.id == payer.id).values(tier=3))
            ledger = Ledger(engine, clock=SystemClock())
            bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
            wallet = await chart.open_account(ledger, chart.wallet(payer.id))
            await ledger.transfer(
                key=f"fund-{payer.id}",
                debit_account_id=bank.id,
                credit_account_id=wallet.id,
                amount=Money.parse("100.00"),
                kind=TransactionKind.TOPUP,
            )
            body = {
                "to_phone": payee.phone,
                "amount": "1.00",
                "payment_password": PIN,
                "acknowledge_new_payee": True,
            }
            requests = [
                (
                    "POST",
                    "/v1/transfers",
                    harness.auth(payer, **{"Idempotency-Key": uuid.uuid4().hex}),
                    body,
                )
                for _ in range(BURST)
            ]
            answers = await burst(processes, requests)
    outcomes = Counter((a.status, a.body.get("code") if a.status != 201 else None) for a in answers)
    assert outcomes == {(201, None): 2, (403, "risk_declined"): BURST - 2}, outcomes
    assert {a.port for a in answers} == {p.port for p in processes}
    async with engine.connect() as conn:
        verdicts: dict[str, int] = dict(
            (
                await conn.execute(
                    select(risk_decisions.c.verdict, func.count())
                    .where(risk_decisions.c.user_id == payer.id)
                    .group_by(risk_decisions.c.verdict)
                )
            ).all()
        )
    assert verdicts == {"allow": 2, "block": BURST - 2}
