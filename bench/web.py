"""Web wallet render benchmark: server time of three pages against ``GET /healthz``. JSON.

    make bench-web
    .venv/bin/python -m bench.web --requests 500 --clients 8

The wallet runs as deployed (``ewallet serve``, one uvicorn worker by default, on a fresh
PostgreSQL database ``ewallet_bench_<pid>`` of the server named by
``EWALLET_TEST_POSTGRES_URL``, dropped afterwards). One class III user with 200 history
entries (a funding top-up and 200 more credits) signs in through the sign-in form, like a
browser: the session cookie and the forms' CSRF token are what the measured requests carry.
The transfer-confirm page looks the payee up, which is capped at 30 per sender and hour, so
it is posted by enough signed-in senders in turn that no answer is the "too many" page.

For each of ``GET /healthz``, ``GET /`` (home: balance, recent activity, notifications),
``GET /history`` (the first page of 200 entries) and ``POST /transfer/confirm`` (the page
that shows the payee's masked name before the PIN), ``--requests`` requests are sent over
``--clients`` keep-alive connections (bench/load.py's raw HTTP/1.1 client), after a warm-up
of 50; p50 and p99 latency (ms) are reported, and each page's p99 as a ratio to the same
run's healthz p50. Target (issue #12): every page's p99 <= 25 x healthz p50.

With the clients queueing on one worker, the ratio is mostly the ratio of server CPU per
request, so each scenario also reports ``server_cpu_ms_per_request``: the server process's
CPU time (user + system, its worker processes included; Linux ``/proc``) over the
scenario, warm-up included, per request. Unlike the latencies it hardly moves when other
work shares the machine.
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
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import uvloop
from pydantic import SecretStr

from bench.api import HOST, Server, admin_execute, bench_database
from bench.api_population import LOGIN_PASSWORD, make_population
from bench.pages import Request, analyze, cpu_seconds, machine, timed
from ewallet.config import Settings
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart

TARGET_RATIO: Final = 25.0
WARMUP: Final = 50
HISTORY_ENTRIES: Final = 200
PAGES: Final = ("home", "history", "transfer_confirm")
PREVIEWS_PER_HOUR: Final = 30  # transfers.service.PREVIEWS_PER_HOUR


async def _history(url: str, user_id: str) -> None:
    """200 credits to the user's wallet (each one history entry)."""
    engine = make_engine(url, pool_size=4)
    ledger = Ledger(engine, clock=SystemClock())
    try:
        bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
        wallet = await chart.open_account(ledger, chart.wallet(user_id))
        for number in range(HISTORY_ENTRIES):
            await ledger.transfer(
                key=f"bench-web-history-{number}",
                debit_account_id=bank.id,
                credit_account_id=wallet.id,
                amount=Money.parse("1.00"),
                kind=TransactionKind.TOPUP,
            )
    finally:
        await engine.dispose()


def _sign_in(port: int, phone: str) -> tuple[str, str]:
    """Sign in through the form; the Cookie header and the session's CSRF token."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", follow_redirects=False) as client:
        form = client.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None, "no CSRF token on the sign-in page"
        answer = client.post(
            "/signin", data={"csrf": token.group(1), "phone": phone, "password": LOGIN_PASSWORD}
        )
        refused = re.findall(r'role="alert"[^>]*>([^<]*)', answer.text)
        assert answer.status_code == 303, (answer.status_code, refused)
        home = client.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
        assert csrf is not None, "no CSRF token on the home page"
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        return cookie, csrf.group(1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="ewallet-bench-web-"))
    secret_key, pin_pepper = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    out: dict[str, Any] = {
        "machine": machine(),
        "requests": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "history_entries": HISTORY_ENTRIES,
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
            engine = make_engine(url, pool_size=4)
            try:
                senders = (args.requests + WARMUP) // PREVIEWS_PER_HOUR + 2
                population = await make_population(engine, settings, 2 + senders)
            finally:
                await engine.dispose()
            reader, payee, *senders = population.users
            await _history(url, reader.id)
            await analyze(url)
            env = {
                "EWALLET_DATABASE_URL": url,
                "EWALLET_SECRET_KEY": secret_key,
                "EWALLET_PIN_PEPPER": pin_pepper,
                "EWALLET_VAR_DIR": str(var_dir),
                "EWALLET_LOG_LEVEL": "WARNING",
                # Every sender signs in from this one address within a minute.
                "EWALLET_LOGIN_PER_IP_MINUTE": "10000",
            }
            server = Server(env, workers=args.workers, log=var_dir / "server.log")
            try:
                await server.wait_ready()
                cookie, _ = await asyncio.to_thread(_sign_in, server.port, reader.phone)
                page = {"Cookie": cookie}
                # A payee preview is capped per sender and hour (30): the confirm page is
                # posted by many senders in turn, so every answer is the real page.
                confirms: list[Request] = []
                for sender in senders:
                    sender_cookie, csrf = await asyncio.to_thread(
                        _sign_in, server.port, sender.phone
                    )
                    body = urlencode(
                        {"csrf": csrf, "to_phone": payee.phone, "amount": "0.01", "memo": ""}
                    ).encode()
                    headers = {
                        "Cookie": sender_cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    }
                    confirms.append(("POST", "/transfer/confirm", headers, body))
                scenarios: dict[str, list[Request]] = {
                    "healthz": [("GET", "/healthz", {}, None)],
                    "home": [("GET", "/", page, None)],
                    "history": [("GET", "/history", page, None)],
                    "transfer_confirm": confirms,
                }
                for name, requests in scenarios.items():
                    cpu_before = cpu_seconds(server.process.pid)
                    out[name] = await timed(
                        server.port, requests, total=args.requests, clients=args.clients
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
    out["ratios_p99_to_healthz_p50"] = {
        name: round(out[name]["p99_ms"] / base, 1)
        for name in ("home", "history", "transfer_confirm")
    }
    out["target"] = f"each page's p99 <= {TARGET_RATIO:g} x healthz p50"
    out["target_met"] = all(r <= TARGET_RATIO for r in out["ratios_p99_to_healthz_p50"].values())
    return out


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvloop.install()
    print(json.dumps(asyncio.run(run(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    cli()
