"""Money races over real HTTP against two API processes on one PostgreSQL database.

The shapes that deadlocked before the global lock order (docs/architecture.md, "Lock
order"): ten transfers A→B racing ten B→A, twenty withdrawals by one user, twenty
payments by one user, twenty card top-ups by one user, one merchant charge retried twenty
times (docs/http.md, "Claimed in the unit") -- each burst sent at once, spread
over both processes. Whatever the interleaving: no ``5xx``, every request gets its own
outcome (``201``, or ``402 insufficient_balance`` once the money is gone), p99 under a
second (on a machine too slow or too loaded for that, under the time the CPU work needed plus
a second: :func:`p99_limit`), every wallet holds exactly what the accepted requests
left in it, ``ledger verify`` is clean, and PostgreSQL's deadlock counter for the database
did not move.
"""

from __future__ import annotations

import math
import os
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx
import pytest
from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.bootstrap.root import running_services
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock, SystemClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.service import create_merchant
from ewallet.models.funding import Topup, Withdrawal
from ewallet.models.identity import User
from ewallet.models.payments import Order
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.security.context import SecurityContext
from tests.concurrency.api_processes import (
    Answer,
    ApiProcess,
    Request,
    api_processes,
    backend_cpu,
    backend_cpu_spent,
    burst,
    deadlocks,
    deadlocks_since,
    machine_busy_seconds,
    side_database,
)
from tests.fixtures.accounts import PIN, Harness, TestUser, fast
from tests.fixtures.cards import bind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

users = cast(Table, User.__table__)
withdrawals = cast(Table, Withdrawal.__table__)
topups = cast(Table, Topup.__table__)
orders = cast(Table, Order.__table__)

BURST = 20
BURST_HALF = BURST // 2
P99_LIMIT_SECONDS = 1.0
# On a machine too slow to do a burst's own work in a second, the bound is that work spread
# over the cores plus this: what a lock convoy or a deadlock's wait would add shows above it.
WAITING_SLACK_SECONDS = 1.0
ACCEPTED = (201, 202)  # 202: the bank's answer was unclear, the operation is pending


@dataclass
class World:
    """What the bursts run against: the processes, a harness for set-up, the ledger."""

    processes: list[ApiProcess]
    harness: Harness
    ledger: Ledger
    engine: AsyncEngine
    security: SecurityContext
    database_url: str
    databases: tuple[str, ...]  # the wallet's and the sandbox bank's
    burst_cpu_seconds: float = 0.0
    machine_busy_seconds: float = 0.0

    async def burst(self, requests: list[Request]) -> list[Answer]:
        """The requests at once over both processes; notes the CPU the burst's own work took:
        the API processes' and their PostgreSQL backends' (both databases)."""
        backends = await backend_cpu(self.database_url, self.databases)
        before = sum(p.cpu_seconds() for p in self.processes)
        busy = machine_busy_seconds()
        answers = await burst(self.processes, requests)
        self.machine_busy_seconds = machine_busy_seconds() - busy
        spent = sum(p.cpu_seconds() for p in self.processes) - before
        after = await backend_cpu(self.database_url, self.databases)
        self.burst_cpu_seconds = spent + backend_cpu_spent(backends, after)
        return answers

    def auth(self, user: TestUser, *, keyed: bool = True) -> dict[str, str]:
        extra = {"Idempotency-Key": uuid.uuid4().hex} if keyed else {}
        return self.harness.auth(user, **extra)

    async def customer(self, phone: str, *, funds: str | None = None) -> TestUser:
        """A class III user with the payment password and ``funds`` in the wallet."""
        user = await self.harness.user(phone=phone, pin=PIN)
        await self.class_three(user)
        if funds is not None:
            await self.fund(user, funds)
        return user

    async def fund(self, user: TestUser, amount: str) -> None:
        """Money straight into the wallet, as a settled top-up would put it."""
        bank = await chart.open_account(self.ledger, chart.bank_settlement("FUNDING"))
        wallet = await chart.open_account(self.ledger, chart.wallet(user.id))
        await self.ledger.transfer(
            key=f"fund-{user.id}",
            debit_account_id=bank.id,
            credit_account_id=wallet.id,
            amount=Money.parse(amount),
            kind=TransactionKind.TOPUP,
        )

    async def class_three(self, user: TestUser) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user.id).values(tier=3))

    async def wallet(self, user: TestUser) -> tuple[int, int]:
        """(posted, available) of the user's wallet, in fen."""
        account = await self.ledger.account_by_code(chart.wallet(user.id).code)
        return (0, 0) if account is None else (account.posted, account.available)


def p99_limit(burst_cpu_seconds: float, machine_busy_seconds: float) -> float:
    """Under a second, or -- where the CPU work had to share a slow or loaded machine -- the
    time that work needed plus the waiting slack. The work's time is the larger of two:

    - the burst's own CPU (the API processes' and their database backends') spread over its
      share of the cores (under ``make test`` the other pytest workers take theirs);
    - the CPU this whole machine spent busy meanwhile, spread over all its cores: where other
      work (another worker's browser) took more than its share, the burst waited on the CPU.

    A burst answered as fast as the machine let it passes; one that waited on locks left
    the cores idle meanwhile and does not (PostgreSQL's deadlock counter is checked apart,
    exactly)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    machine_cores = float(os.cpu_count() or 1)
    share = max(1.0, machine_cores / max(workers, 1))
    work = max(burst_cpu_seconds / share, machine_busy_seconds / machine_cores)
    return max(P99_LIMIT_SECONDS, work + WAITING_SLACK_SECONDS)


def p99(answers: list[Answer]) -> float:
    ordered = sorted(a.seconds for a in answers)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def codes(answers: list[Answer]) -> Counter[tuple[int, str | None]]:
    return Counter(
        (a.status, a.body.get("code") if isinstance(a.body, dict) else None) for a in answers
    )


def server_env(
    settings: Settings, *, database_url: str, bank_url: str, var: Path
) -> dict[str, str]:
    assert settings.secret_key is not None
    assert settings.pin_pepper is not None
    return {
        "EWALLET_DATABASE_URL": database_url,
        "EWALLET_SANDBOX_BANK_DB_URL": bank_url,
        "EWALLET_VAR_DIR": str(var),
        "EWALLET_SECRET_KEY": settings.secret_key.get_secret_value(),
        "EWALLET_PIN_PEPPER": settings.pin_pepper.get_secret_value(),
        "EWALLET_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "EWALLET_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
        "EWALLET_LOG_LEVEL": "info",
    }


async def test_money_races_over_two_api_processes(
    engine: AsyncEngine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    quick = fast(settings).model_copy(update={"var_dir": tmp_path / "var"})
    security = SecurityContext.from_settings(quick)
    before = await deadlocks(database_url)
    async with side_database(database_url, "bank") as bank_url:
        env = server_env(quick, database_url=database_url, bank_url=bank_url, var=quick.var_dir)
        async with (
            api_processes(env, tmp_path / "logs") as processes,
            httpx.AsyncClient(base_url=processes[0].base_url, timeout=60) as client,
            running_services(quick, SystemClock(), pool_size=2) as services,
        ):
            clock = FrozenClock(datetime.now(UTC))
            harness = Harness(engine, quick, clock, security, client, services)
            ledger = Ledger(engine, clock=SystemClock())
            databases = tuple(make_url(url).database or "" for url in (database_url, bank_url))
            world = World(processes, harness, ledger, engine, security, database_url, databases)
            failures = await _run_bursts(world)
    # The processes have stopped: their logs are complete, their backends gone.
    loud = [line for p in processes for line in p.log_lines_with('"db.deadlock"')]
    retries = [line for p in processes for line in p.log_lines_with('"db.retry"')]
    after = await deadlocks_since(database_url, before)
    report = await verify_ledger(engine)
    if not report.clean:
        failures.append(f"ledger verify: {report.violations}")
    if after != before or loud:
        failures.append(f"PostgreSQL detected {after - before} deadlock(s): {loud[:3]}")
    assert not failures, "\n".join([*failures, f"other retries: {len(retries)}", *retries[:3]])


async def _run_bursts(world: World) -> list[str]:
    failures: list[str] = []
    everything: list[Answer] = []
    widest = P99_LIMIT_SECONDS
    for name, scenario in (
        ("transfers", _crossing_transfers),
        ("withdrawals", _parallel_withdrawals),
        ("payments", _parallel_payments),
        ("card top-ups", _parallel_card_topups),
        ("retried charges", _retried_charges),
    ):
        answers, problems = await scenario(world)
        everything += answers
        server_errors = [a for a in answers if a.status >= 500]
        if server_errors:
            problems.append(f"{len(server_errors)} answers 5xx: {codes(server_errors)}")
        if {a.port for a in answers} != {p.port for p in world.processes}:
            problems.append("the burst did not reach both processes")
        failures += [f"{name}: {problem}" for problem in problems]
        limit = p99_limit(world.burst_cpu_seconds, world.machine_busy_seconds)
        widest = max(widest, limit)
        if p99(answers) >= limit:
            times = " ".join(f"{a.seconds:.2f}" for a in sorted(answers, key=lambda a: a.seconds))
            failures.append(
                f"{name}: p99 {p99(answers):.2f} s over a limit of {limit:.2f} s (the API "
                f"processes and their database backends used {world.burst_cpu_seconds:.2f} s "
                f"of CPU on it, the machine {world.machine_busy_seconds:.2f} s); the answers "
                f"took (s): {times}"
            )
    if p99(everything) >= widest:
        failures.append(f"p99 over every burst: {p99(everything):.2f} s (limit {widest:.2f} s)")
    return failures


async def _crossing_transfers(world: World) -> tuple[list[Answer], list[str]]:
    """Ten ¥1.00 A→B racing ten ¥2.00 B→A: all go through; A ends ¥10 up, B ¥10 down."""
    a = await world.customer("+8613800000001", funds="100.00")
    b = await world.customer("+8613800000002", funds="100.00")
    requests: list[Request] = []
    for n in range(BURST):
        payer, payee, amount = (a, b, "1.00") if n % 2 == 0 else (b, a, "2.00")
        body = {
            "to_phone": payee.phone,
            "amount": amount,
            "payment_password": PIN,
            "acknowledge_new_payee": True,
        }
        requests.append(("POST", "/v1/transfers", world.auth(payer), body))
    answers = await world.burst(requests)
    problems = []
    if any(x.status != 201 for x in answers):
        problems.append(f"not every transfer went through: {codes(answers)}")
    sent = Counter(requests[n][3]["amount"] for n, x in enumerate(answers) if x.status == 201)
    a_expected = 100_00 - sent["1.00"] * 100 + sent["2.00"] * 200
    b_expected = 100_00 + sent["1.00"] * 100 - sent["2.00"] * 200
    got = ((await world.wallet(a))[0], (await world.wallet(b))[0])
    if got != (a_expected, b_expected):
        problems.append(f"balances {got}, expected {(a_expected, b_expected)}")
    return answers, problems


async def _parallel_withdrawals(world: World) -> tuple[list[Answer], list[str]]:
    """Twenty ¥10 withdrawals from ¥100: ten accepted, ten ``insufficient_balance``."""
    user = await world.customer("+8613800000003")
    card = await bind(world.harness, user, TEST_CARDS[0])
    await world.class_three(user)  # binding recomputes the class
    await world.fund(user, "100.00")
    body = {"card_id": card["id"], "amount": "10.00", "payment_password": PIN}
    requests = [("POST", "/v1/withdrawals", world.auth(user), body) for _ in range(BURST)]
    answers = await world.burst(requests)
    problems = _ten_and_ten(answers)
    async with world.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(withdrawals.c.status, func.count())
                .where(withdrawals.c.user_id == user.id)
                .group_by(withdrawals.c.status)
            )
        ).all()
    made = {row[0]: int(row[1]) for row in rows}
    kept = sum(n for status, n in made.items() if status != "failed")
    accepted = sum(1 for a in answers if a.status in ACCEPTED)
    if kept != accepted:
        problems.append(f"{accepted} accepted, but withdrawals recorded: {made}")
    available = (await world.wallet(user))[1]
    if available != 100_00 - 10_00 * accepted:
        problems.append(f"wallet available {available} after {accepted} withdrawals of ¥10")
    return answers, problems


async def _parallel_payments(world: World) -> tuple[list[Answer], list[str]]:
    """Twenty ¥10 orders paid from ¥100 by one user: ten paid, ten ``insufficient_balance``."""
    user = await world.customer("+8613800000004", funds="100.00")
    created = await create_merchant(world.harness.services, Actor.system(), name="Race Mart")
    merchant_auth = {"Authorization": f"Bearer {created.api_key}"}
    order_ids = []
    for n in range(BURST):
        made = await world.harness.client.post(
            "/v1/merchant/orders",
            json={"out_trade_no": f"RACE-{n}", "amount": "10.00", "subject": "race"},
            headers=merchant_auth,
        )
        assert made.status_code == 201, made.text
        order_ids.append(made.json()["order"]["id"])
    requests = [
        ("POST", "/v1/payments", world.auth(user), {"order_id": oid, "payment_password": PIN})
        for oid in order_ids
    ]
    answers = await world.burst(requests)
    problems = _ten_and_ten(answers)
    async with world.engine.connect() as conn:
        paid = await conn.scalar(
            select(func.count()).where(orders.c.id.in_(order_ids), orders.c.status == "paid")
        )
    accepted = sum(1 for a in answers if a.status == 201)
    if paid != accepted:
        problems.append(f"{accepted} payments answered 201, {paid} orders paid")
    merchant = await world.ledger.account_by_code(chart.merchant(created.merchant.id).code)
    received = 0 if merchant is None else merchant.posted
    # The merchant is credited each 10.00 less its 0.38 % fee (4 fen).
    net = 10_00 - 4
    if (await world.wallet(user))[0] != 100_00 - 10_00 * accepted or received != net * accepted:
        problems.append(f"wallet {await world.wallet(user)}, merchant {received}")
    return answers, problems


async def _parallel_card_topups(world: World) -> tuple[list[Answer], list[str]]:
    """Twenty ¥5 top-ups from one card at once: every one debited once and credited once."""
    user = await world.customer("+8613800000005")
    card = await bind(world.harness, user, TEST_CARDS[1])
    await world.class_three(user)
    body = {"method": "card", "card_id": card["id"], "amount": "5.00", "payment_password": PIN}
    requests = [("POST", "/v1/topups", world.auth(user), body) for _ in range(BURST)]
    answers = await world.burst(requests)
    problems = []
    if any(a.status != 201 for a in answers):
        problems.append(f"not every top-up succeeded: {codes(answers)}")
    async with world.engine.connect() as conn:
        succeeded = await conn.scalar(
            select(func.count()).where(topups.c.user_id == user.id, topups.c.status == "succeeded")
        )
    posted = (await world.wallet(user))[0]
    if succeeded != sum(1 for a in answers if a.status == 201) or posted != 5_00 * succeeded:
        problems.append(f"{succeeded} top-ups succeeded, wallet {posted}")
    return answers, problems


async def _retried_charges(world: World) -> tuple[list[Answer], list[str]]:
    """One cashier's charge sent ten times with one Idempotency-Key (a till retrying), and
    ten times more under keys of their own (another till with the same out_trade_no), all
    at once: the code is charged once, by whichever request wins; every request under the
    first key gets one and the same answer (that charge, or the refusal its first finished
    run stored); the others answer that charge (201 for the winner, 200 for a repeat) or
    ``payment_code_invalid`` (the code was used meanwhile).

    Whichever request wins, its key's record commits in the charge's own unit, so a rerun
    racing it is replayed -- never a second charge, never a ``5xx``."""
    user = await world.customer("+8613800000006", funds="100.00")
    created = await create_merchant(world.harness.services, Actor.system(), name="Till Mart")
    shown = await world.harness.client.get("/v1/me/payment-code", headers=world.auth(user))
    assert shown.status_code == 200, shown.text
    body = {"payment_code": shown.json()["code"], "amount": "9.00", "out_trade_no": "TILL-1"}
    merchant = f"Bearer {created.api_key}"
    retried = {"Authorization": merchant, "Idempotency-Key": uuid.uuid4().hex}
    requests: list[Request] = [("POST", "/v1/merchant/charges", retried, body)] * BURST_HALF
    requests += [
        ("POST", "/v1/merchant/charges", {"Authorization": merchant, "Idempotency-Key": k}, body)
        for k in (uuid.uuid4().hex for _ in range(BURST_HALF))
    ]
    answers = await world.burst(requests)
    problems = []
    same_key = answers[:BURST_HALF]
    charge_ids = {a.body["charge"]["id"] for a in answers if a.status in (200, 201)}
    if len({(a.status, repr(a.body)) for a in same_key}) != 1 or len(charge_ids) != 1:
        problems.append(f"retries under one key: {codes(same_key)}; charges {charge_ids}")
    allowed = {(200, None), (201, None), (422, "payment_code_invalid")}
    if not set(codes(answers)) <= allowed:
        problems.append(f"answers: {codes(answers)}")
    async with world.engine.connect() as conn:
        made = await conn.scalar(
            select(func.count()).where(
                orders.c.merchant_id == created.merchant.id, orders.c.status == "paid"
            )
        )
    if made != 1 or (await world.wallet(user))[0] != 100_00 - 9_00:
        problems.append(f"{made} orders paid, wallet {await world.wallet(user)}")
    return answers, problems


def _ten_and_ten(answers: list[Answer]) -> list[str]:
    """Half accepted, half refused for the balance, nothing else."""
    seen = codes(answers)
    accepted = sum(n for (status, _), n in seen.items() if status in ACCEPTED)
    refused = seen[(402, "insufficient_balance")]
    if accepted != BURST // 2 or refused != BURST // 2:
        return [f"expected ten accepted and ten insufficient_balance: {dict(seen)}"]
    return []
