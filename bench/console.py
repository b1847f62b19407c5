"""Staff console render benchmark: the ticket queue and the customer view against
``GET /healthz``. JSON. Run by ``make bench-web`` after the wallet's pages (bench/web.py).

    .venv/bin/python -m bench.console --requests 300 --clients 8

The app runs as deployed (``ewallet serve``, one uvicorn worker by default) on a fresh
PostgreSQL database ``ewallet_bench_<pid>`` of the server named by
``EWALLET_TEST_POSTGRES_URL`` (dropped afterwards). One customer has 5,000 history entries
and opens 1,000 tickets through ``POST /v1/support/tickets`` (the per-customer ticket caps
raised for the run); a support agent, made as ``ewallet staff create`` makes one, signs in
through the console's sign-in form with the authenticator's code and replaces the one-time
password, like a person: the session cookie is what the measured requests carry.

For each of ``GET /healthz``, ``GET /console/tickets`` (the queue's first page of 1,000 open
tickets) and ``GET /console/customers/{id}`` (the customer view of the customer with 5,000
transactions; every view is audited, so each is a write), ``--requests`` requests are sent
over ``--clients`` keep-alive connections after a warm-up of 30; p50 and p99 (ms) are
reported, and each page's p99 as a ratio to the same run's healthz p50. Target (issue #13):
each page's p99 <= 25 x healthz p50.

With the clients queueing on one worker, the ratio is mostly the ratio of server CPU per
request, so each scenario also reports ``server_cpu_ms_per_request`` (the server
process's user + system CPU over the scenario, warm-up included, per request; Linux
``/proc``, as bench/web.py does): unlike the latencies it hardly moves when other work
shares the machine, whose load average is reported at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final, cast

import httpx
import pyotp
import uvloop
from pydantic import SecretStr

from bench.api import HOST, Server, admin_execute, bench_database
from bench.api_population import make_population
from bench.load import Connection
from bench.pages import Request, analyze, cpu_seconds, machine, timed
from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from ewallet.staff.service.accounts import create_staff

TARGET_RATIO: Final = 25.0
WARMUP: Final = 30
HISTORY_ENTRIES: Final = 5000
OPEN_TICKETS: Final = 1000
AGENT_PASSWORD: Final = "Bench-console-agent-2026"  # a throw-away bench account
CSRF: Final = re.compile(r'name="csrf" value="([^"]+)"')


async def _history(engine: Any, user_id: str) -> None:
    ledger = Ledger(engine, clock=SystemClock(), group_commit=True)
    await ledger.start()
    try:
        bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
        wallet = await chart.open_account(ledger, chart.wallet(user_id))

        async def credit(number: int) -> None:
            await ledger.transfer(
                key=f"bench-console-history-{number}",
                debit_account_id=bank.id,
                credit_account_id=wallet.id,
                amount=Money.parse("1.00"),
                kind=TransactionKind.TOPUP,
            )

        for start in range(0, HISTORY_ENTRIES, 50):
            await asyncio.gather(*(credit(n) for n in range(start, start + 50)))
    finally:
        await ledger.aclose()


async def _agent(engine: Any, settings: Settings) -> tuple[str, str, str]:
    """A support agent: (email, one-time password, TOTP secret)."""
    services = cast(
        Services,
        SimpleNamespace(
            engine=engine, security=SecurityContext.from_settings(settings), clock=SystemClock()
        ),
    )
    created = await create_staff(
        services, Actor.system(), email="bench.agent@bank.example", role="support_agent"
    )
    return created.staff.email, created.password, created.totp_secret


async def _open_tickets(port: int, token: str) -> None:
    requests: list[Request] = []
    for number in range(OPEN_TICKETS):
        body = json.dumps(
            {"subject": f"Question {number}", "body": "Where is my top-up? It has not arrived."}
        ).encode()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-ticket-{number}",
        }
        requests.append(("POST", "/v1/support/tickets", headers, body))
    connection = Connection(HOST, port)
    try:
        for request in requests:
            status, answer = await connection.request(*request)
            if status != 201:
                raise RuntimeError(f"opening a ticket answered {status}: {answer!r}"[:500])
    finally:
        connection.close()


def _console_sign_in(port: int, email: str, password: str, secret: str) -> str:
    """Sign in through the console's forms (and choose a password); the Cookie header."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", follow_redirects=False) as client:
        form = client.get("/console/signin")
        token = CSRF.search(form.text)
        assert token is not None, "no CSRF token on the console's sign-in page"
        signed = client.post(
            "/console/signin",
            data={
                "csrf": token.group(1),
                "email": email,
                "password": password,
                "totp_code": pyotp.TOTP(secret).now(),
            },
        )
        assert signed.status_code == 303, signed.text[:500]
        page = client.get("/console/password")
        csrf = CSRF.search(page.text)
        assert csrf is not None, "no CSRF token on the password page"
        chosen = client.post(
            "/console/password",
            data={
                "csrf": csrf.group(1),
                "current_password": password,
                "new_password": AGENT_PASSWORD,
                "confirm_password": AGENT_PASSWORD,
            },
        )
        assert chosen.status_code == 303, chosen.text[:500]
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="ewallet-bench-console-"))
    secret_key, pin_pepper = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    out: dict[str, Any] = {
        "machine": machine(),
        "requests": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "history_entries": HISTORY_ENTRIES,
        "open_tickets": OPEN_TICKETS,
    }
    try:
        async with bench_database() as url:
            out["postgres"] = await admin_execute("SHOW server_version")
            settings = Settings(
                database_url=url,
                var_dir=var_dir,
                secret_key=SecretStr(secret_key),
                pin_pepper=SecretStr(pin_pepper),
            )
            engine = make_engine(url, pool_size=8)
            try:
                (customer,) = (await make_population(engine, settings, 1)).users
                await _history(engine, customer.id)
                email, password, secret = await _agent(engine, settings)
            finally:
                await engine.dispose()
            env = {
                "EWALLET_DATABASE_URL": url,
                "EWALLET_SECRET_KEY": secret_key,
                "EWALLET_PIN_PEPPER": pin_pepper,
                "EWALLET_VAR_DIR": str(var_dir),
                "EWALLET_LOG_LEVEL": "WARNING",
                "EWALLET_SUPPORT_TICKET_OPEN_MAX": str(OPEN_TICKETS + 1),
                "EWALLET_SUPPORT_TICKETS_PER_DAY": str(OPEN_TICKETS + 1),
            }
            server = Server(env, workers=args.workers, log=var_dir / "server.log")
            try:
                await server.wait_ready()
                await _open_tickets(server.port, customer.token)
                await analyze(url)
                cookie = await asyncio.to_thread(
                    _console_sign_in, server.port, email, password, secret
                )
                page = {"Cookie": cookie}
                scenarios: dict[str, Request] = {
                    "healthz": ("GET", "/healthz", {}, None),
                    "ticket_queue": ("GET", "/console/tickets", page, None),
                    "customer_view": ("GET", f"/console/customers/{customer.id}", page, None),
                }
                for name, request in scenarios.items():
                    cpu_before = cpu_seconds(server.process.pid)
                    out[name] = await timed(
                        server.port,
                        [request],
                        total=args.requests,
                        clients=args.clients,
                        warmup=WARMUP,
                    )
                    cpu_after = cpu_seconds(server.process.pid)
                    if cpu_before is not None and cpu_after is not None:
                        per_request = (cpu_after - cpu_before) / (args.requests + WARMUP)
                        out[name]["server_cpu_ms_per_request"] = round(per_request * 1000, 2)
            finally:
                server.stop()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    base = out["healthz"]["p50_ms"]
    pages = ("ticket_queue", "customer_view")
    out["ratios_p99_to_healthz_p50"] = {
        name: round(out[name]["p99_ms"] / base, 1) for name in pages
    }
    out["target"] = f"each page's p99 <= {TARGET_RATIO:g} x healthz p50"
    out["target_met"] = all(r <= TARGET_RATIO for r in out["ratios_p99_to_healthz_p50"].values())
    out["all_answers_200"] = all(set(out[name]["statuses"]) == {"200"} for name in pages)
    return out


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvloop.install()
    print(json.dumps(asyncio.run(run(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    cli()
