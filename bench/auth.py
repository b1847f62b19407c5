"""Authentication cost: sign-ins and payment-password checks per second. Prints JSON.

    make bench-auth                       # 3 s per measurement
    .venv/bin/python bench/auth.py --quick

What is measured, each at concurrency 1 and 2 (asyncio tasks; the hashing runs in worker
threads through ``asyncio.to_thread``, exactly as the services call it):

1. ``hashing``: the real hashing code -- ``SecurityContext.passwords.verify`` (a login or
   staff password) and ``SecurityContext.pins.verify`` (a payment password: HMAC pepper,
   then argon2id) -- with the configured argon2 parameters and with alternatives, to show
   the cost curve: OWASP's m=19 MiB/t=2 (the default), m=46 MiB/t=1, m=12 MiB/t=3, and
   m=64 MiB/t=3.
2. ``http``: whole sign-ins through the ASGI app on a fresh SQLite file (httpx ASGI
   transport, no network): ``POST /v1/staff/sessions`` (password, TOTP, session row,
   audit event) and, when the app serves it, ``POST /v1/sessions`` (a customer on a
   trusted device). Each sign-in uses a different account, as a crowd would.

The machine's CPU count is in the output: argon2 is CPU-bound, so on 2 cores the rate at
concurrency 2 is the ceiling of one process, whatever the number of requests waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import secrets
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pyotp
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import app_engine
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.ids import new_id
from ewallet.kit.logging import configure_logging
from ewallet.models.identity import Device, User
from ewallet.models.migrate import upgrade
from ewallet.models.operations import Staff
from ewallet.security.context import SecurityContext
from ewallet.staff.service.sessions import totp_context

MIB = 1024
ALTERNATIVES = [
    {"name": "owasp m=19MiB t=2 p=1", "time_cost": 2, "memory_kib": 19 * MIB, "parallelism": 1},
    {"name": "owasp m=46MiB t=1 p=1", "time_cost": 1, "memory_kib": 46 * MIB, "parallelism": 1},
    {"name": "owasp m=12MiB t=3 p=1", "time_cost": 3, "memory_kib": 12 * MIB, "parallelism": 1},
    {"name": "m=64MiB t=3 p=1", "time_cost": 3, "memory_kib": 64 * MIB, "parallelism": 1},
]
CONCURRENCY = (1, 2)
PASSWORD = "correct horse battery staple"
PIN = "802417"

Operation = Callable[[], Awaitable[Any]]


async def measure(
    make_operation: Callable[[], Operation], *, workers: int, seconds: float
) -> dict[str, Any]:
    """Run ``workers`` loops of the operation for ``seconds``; rate and latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            operation = make_operation()
            began = time.perf_counter()
            await operation()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(workers)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "concurrency": workers,
        "operations": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
    }


def settings_for(base: Settings, params: dict[str, Any]) -> Settings:
    return base.model_copy(
        update={
            "argon2_time_cost": params["time_cost"],
            "argon2_memory_kib": params["memory_kib"],
            "argon2_parallelism": params["parallelism"],
        }
    )


async def bench_hashing(settings: Settings, name: str, seconds: float) -> dict[str, Any]:
    security = SecurityContext.from_settings(settings)
    password_hash = await security.passwords.hash(PASSWORD)
    pin_hash = await security.pins.hash(PIN)
    result: dict[str, Any] = {
        "name": name,
        "time_cost": settings.argon2_time_cost,
        "memory_mib": round(settings.argon2_memory_kib / MIB, 1),
        "parallelism": settings.argon2_parallelism,
    }

    def password_check() -> Operation:
        return lambda: security.passwords.verify(password_hash, PASSWORD)

    def pin_check() -> Operation:
        return lambda: security.pins.verify(pin_hash, PIN)

    for label, make_check in (
        ("password_verify", password_check),
        ("payment_password_verify", pin_check),
    ):
        result[label] = [await measure(make_check, workers=n, seconds=seconds) for n in CONCURRENCY]
    return result


async def _staff_pool(
    engine: AsyncEngine, security: SecurityContext, count: int
) -> list[dict[str, str]]:
    """Staff members sharing one password hash (hashing each would dominate set-up)."""
    password_hash = await security.passwords.hash(PASSWORD)
    now = SystemClock().now()
    pool, rows = [], []
    for n in range(count):
        staff_id, secret = new_id("stf"), pyotp.random_base32()
        email = f"bench{n}@bank.example"
        rows.append(
            {
                "id": staff_id,
                "email": email,
                "role": "support_agent",
                "password_hash": password_hash,
                "must_change_password": False,
                "totp_secret_encrypted": security.cipher.encrypt(
                    secret, context=totp_context(staff_id)
                ),
                "status": "active",
                "failures": 0,
                "created_at": now,
            }
        )
        pool.append({"email": email, "secret": secret})
    async with engine.begin() as conn:
        await conn.execute(insert(Staff), rows)
    return pool


async def _user_pool(
    engine: AsyncEngine, security: SecurityContext, count: int
) -> list[dict[str, str]]:
    """Customers with a trusted device each, so a right password earns tokens directly."""
    password_hash = await security.passwords.hash(PASSWORD)
    now = SystemClock().now()
    pool, users, devices = [], [], []
    for n in range(count):
        user_id, phone, key = new_id("usr"), f"+8613{n:09d}", f"bench-device-{n}"
        users.append(
            {
                "id": user_id,
                "phone": phone,
                "status": "active",
                "login_password_hash": password_hash,
                "login_password_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        devices.append(
            {
                "id": new_id("dev"),
                "user_id": user_id,
                "device_key": key,
                "trusted_at": now,
                "first_seen_at": now,
                "last_seen_at": now,
            }
        )
        pool.append({"phone": phone, "device_id": key})
    async with engine.begin() as conn:
        await conn.execute(insert(User), users)
        await conn.execute(insert(Device), devices)
    return pool


async def bench_http(settings: Settings, seconds: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="ewallet-bench-auth-"))
    url = f"sqlite+aiosqlite:///{folder / 'auth.db'}"
    try:
        engine = make_engine(url, pool_size=1)
        await upgrade(engine)
        await engine.dispose()
        # No per-address sign-in limit: every request here comes from one address.
        app = create_app(
            settings.model_copy(
                update={"database_url": url, "var_dir": folder, "login_per_ip_minute": 10**9}
            )
        )
        security: SecurityContext = app.state.security
        pool_size = int(seconds * 400) + 100
        results: dict[str, Any] = {"database": "sqlite"}
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                staff = await _staff_pool(app_engine(app), security, pool_size)

                def staff_body() -> dict[str, str]:
                    member = staff.pop()
                    code = pyotp.TOTP(member["secret"]).now()
                    return {"email": member["email"], "password": PASSWORD, "totp_code": code}

                results["staff_sign_in"] = await _sign_ins(
                    client, "/v1/staff/sessions", staff_body, seconds
                )
                if "post" not in app.openapi()["paths"].get("/v1/sessions", {}):
                    results["user_sign_in"] = "skipped: the app does not serve POST /v1/sessions"
                    return results
                users = await _user_pool(app_engine(app), security, pool_size)

                def user_body() -> dict[str, str]:
                    user = users.pop()
                    return {
                        "phone": user["phone"],
                        "login_password": PASSWORD,
                        "device_id": user["device_id"],
                    }

                results["user_sign_in"] = await _sign_ins(
                    client, "/v1/sessions", user_body, seconds
                )
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _sign_ins(
    client: httpx.AsyncClient,
    path: str,
    next_body: Callable[[], dict[str, str]],
    seconds: float,
) -> list[dict[str, Any]]:
    """Sign-ins at each concurrency, with the answers' status codes (all should be 201)."""
    runs = []
    for workers in CONCURRENCY:
        statuses: Counter[int] = Counter()
        run = await measure(
            _poster(client, path, next_body, statuses), workers=workers, seconds=seconds
        )
        run["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
        runs.append(run)
    return runs


def _poster(
    client: httpx.AsyncClient,
    path: str,
    next_body: Callable[[], dict[str, str]],
    statuses: Counter[int],
) -> Callable[[], Operation]:
    def make_operation() -> Operation:
        body = next_body()

        async def sign_in() -> None:
            statuses[(await client.post(path, json=body)).status_code] += 1

        return sign_in

    return make_operation


async def main(seconds: float, *, http: bool) -> dict[str, Any]:
    base = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        pin_pepper=SecretStr(secrets.token_urlsafe(48)),
        log_level="WARNING",
    )
    configured = {
        "name": "configured",
        "time_cost": base.argon2_time_cost,
        "memory_kib": base.argon2_memory_kib,
        "parallelism": base.argon2_parallelism,
    }
    sets = [configured] + [
        alt
        for alt in ALTERNATIVES
        if (alt["time_cost"], alt["memory_kib"], alt["parallelism"])
        != (configured["time_cost"], configured["memory_kib"], configured["parallelism"])
    ]
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "argon2_cffi": version("argon2-cffi"),
        },
        "seconds_per_measurement": seconds,
        "hashing": [
            await bench_hashing(settings_for(base, params), str(params["name"]), seconds)
            for params in sets
        ],
    }
    if http:
        report["http"] = await bench_http(base, seconds)
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--quick", action="store_true", help="0.5 s per measurement")
    parser.add_argument("--no-http", action="store_true", help="hashing only")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    # The app logs every request; keep stdout for the JSON report.
    configure_logging(Settings(log_level="WARNING"), stream=io.StringIO())
    report = asyncio.run(main(seconds, http=not args.no_http))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    cli()
