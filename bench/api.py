"""End-to-end API benchmark: charges and transfers per second over HTTP. Prints JSON.

    make bench-api                                  # 15 s per measurement, 16 clients
    .venv/bin/python -m bench.api --seconds 5 --users 4000

The wallet runs as it is deployed: ``ewallet serve --workers 2`` (uvicorn, two processes)
on a fresh PostgreSQL database (``ewallet_bench_<pid>`` on the server of
``EWALLET_TEST_POSTGRES_URL``, dropped afterwards), with a population of funded class III
users and one merchant made straight in the database (bench/api_population.py). The load
generator (bench/load.py: raw asyncio HTTP/1.1 on uvloop, keep-alive) runs in this
process on the same machine. For each scenario:

1. **peak**: ``--clients`` connections back to back (closed loop) for ``--seconds`` after a
   2 s warm-up -- the same client count pgbench uses below;
2. **half peak**: requests scheduled at 50 % of that peak (open loop) for ``--seconds``;
   p50/p99 latency counted from each request's scheduled time.

Scenarios: ``healthz`` (``GET /healthz``: the framework's ceiling on this machine),
``charges`` (``POST /v1/merchant/charges``: a cashier charging ¥0.01 to a payment code,
below the no-PIN limit, with an ``Idempotency-Key``; the codes are made the way the
user's phone shows them, from the user's secret) when the app serves it, else
``payments`` (``POST /v1/payments`` on orders created beforehand, with the PIN), and
``transfers`` (``POST /v1/transfers`` of ¥0.01 to another user, with the PIN and an
``Idempotency-Key``). Every user's requests go through the whole stack: token and session
check, idempotency record, PIN (argon2id with the configured parameters), user row lock,
limits, ledger, history.

The daily no-PIN count and amount caps are raised for the run (a real user makes ten
password-free payments a day; here a few thousand users make tens of thousands): the
checks still run, they just do not refuse. Finally pgbench's TPC-B runs on its own
database of the same server with the same client count and duration; the ratios and
targets (charges >= 0.5 x pgbench tps, p99 <= 50 ms at half the peak) are printed.

Webhooks: every merchant's webhook URL points at a small HTTP receiver in this process
(:class:`WebhookReceiver`), so each charge (or payment) also queues and delivers its
``order.paid`` webhook, as a merchant with a webhook would see it (``--no-webhooks``: no
URL, no webhook). ``"webhooks"`` in the JSON: how many arrived and the latency from the
event's ``created_at`` -- stamped by the server inside the charge's transaction, just
before its commit, on the same machine's clock -- to the receiver reading the request:
commit to receiver plus the rest of the transaction (an upper bound). ``"rss"``: each API
worker's resident memory (``VmRSS``) after the last scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.api_population import PIN, Population, make_population
from bench.ledger import run_pgbench
from bench.load import Connection, Request, RequestFactory, closed_loop, open_loop
from ewallet.config import Settings
from ewallet.kit.db.engine import make_engine
from ewallet.models.migrate import upgrade
from ewallet.models.tables import merchants

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
WARMUP_SECONDS = 2.0
BIN = Path(sys.executable).parent
# Raised so thousands of charges per user and day are not refused (module docstring).
RAISED_LIMITS = {
    "EWALLET_LIMIT_DAILY_NO_PIN_COUNT": "100000000",
    "EWALLET_LIMIT_DAILY_NO_PIN_MINOR": "100000000000",
    "EWALLET_LIMIT_DAILY_PAYMENT_CODE_MINOR": "100000000000",
}


def pg_admin() -> str:
    return os.environ.get("EWALLET_TEST_POSTGRES_URL", DEFAULT_PG)


async def admin_execute(sql: str) -> Any:
    connection = await asyncpg.connect(pg_admin().replace("+asyncpg", ""))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    """``ewallet_bench_<pid>``, migrated; dropped afterwards."""
    name = f"ewallet_bench_{os.getpid()}"
    await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_execute(f'CREATE DATABASE "{name}"')
    url = (
        make_url(pg_admin())
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        engine = make_engine(url, pool_size=2)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """``ewallet serve --workers N`` in a child process, stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], *, workers: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [str(BIN / "ewallet"), "serve", "--workers", str(workers), "--port", str(self.port)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            start_new_session=True,
        )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                status, _ = await Connection(HOST, self.port).request("GET", "/readyz", {}, None)
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


async def fetch_all(port: int, requests: list[Request], *, clients: int) -> list[tuple[int, Any]]:
    """Send ``requests`` over ``clients`` connections; (status, parsed body) in order."""
    answers: list[tuple[int, Any]] = [(0, None)] * len(requests)
    queue = list(enumerate(requests))

    async def worker() -> None:
        connection = Connection(HOST, port)
        while queue:
            index, (method, path, headers, body) = queue.pop()
            status, data = await connection.request(method, path, headers, body)
            answers[index] = (status, json.loads(data) if data else None)
        connection.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return answers


# ------------------------------------------------------------------------------ scenarios


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def idempotency() -> str:
    return uuid.uuid4().hex


def healthz() -> Request:
    return ("GET", "/healthz", {}, None)


def transfers(population: Population) -> RequestFactory:
    rng = random.Random(7)
    people = population.users

    def make() -> Request:
        payer, payee = rng.sample(people, 2)
        headers = bearer(payer.token, **{"Idempotency-Key": idempotency()})
        body = {
            "to_phone": payee.phone,
            "amount": "0.01",
            "payment_password": PIN,
            "acknowledge_new_payee": True,
        }
        return ("POST", "/v1/transfers", headers, body)

    return make


class Orders:
    """Orders made through the merchant API ahead of each run, paid by ``POST /v1/payments``."""

    def __init__(self, port: int, population: Population, clients: int) -> None:
        self.port, self.population, self.clients = port, population, clients
        self.ready: list[str] = []
        self.made = 0
        self.rng = random.Random(11)

    async def stock(self, count: int) -> None:
        headers = bearer(self.population.api_key)
        requests: list[Request] = []
        for _ in range(count):
            self.made += 1
            body = {"out_trade_no": f"B-{self.made}", "amount": "0.01", "subject": "bench"}
            requests.append(("POST", "/v1/merchant/orders", headers, body))
        for status, body in await fetch_all(self.port, requests, clients=self.clients):
            if status != 201:
                raise RuntimeError(f"order not created: {status} {body}")
            self.ready.append(body["order"]["id"])

    def factory(self) -> RequestFactory:
        def make() -> Request:
            payer = self.rng.choice(self.population.users)
            headers = bearer(payer.token, **{"Idempotency-Key": idempotency()})
            body = {"order_id": self.ready.pop(), "payment_password": PIN}
            return ("POST", "/v1/payments", headers, body)

        return make


async def measure(
    port: int,
    make: RequestFactory,
    *,
    clients: int,
    seconds: float,
    before_half: Callable[[float], Any] | None = None,
) -> dict[str, Any]:
    peak = await closed_loop(
        HOST, port, make, clients=clients, seconds=seconds, warmup=WARMUP_SECONDS
    )
    peak_rate = peak.ok / seconds
    out: dict[str, Any] = {"peak": peak.summary()}
    if peak_rate <= 0:
        return out
    rate = peak_rate / 2
    if before_half is not None:
        await before_half(rate)
    half = await open_loop(HOST, port, make, rate=rate, seconds=seconds, clients=clients)
    out["half_peak"] = {"rate": round(rate, 1), **half.summary()}
    return out


async def server_serves(port: int, method: str, path: str) -> bool:
    """Whether the app routes ``path`` (an unauthenticated call answers 401/422, not 404)."""
    status, _ = await Connection(HOST, port).request(method, path, {}, {})
    return status not in (404, 405)


# ------------------------------------------------------------------ webhooks and memory


class WebhookReceiver:
    """The merchants' webhook endpoint: a bare HTTP/1.1 server on 127.0.0.1 that answers
    200 at once and notes, per event, the seconds from its ``created_at`` to its arrival."""

    def __init__(self) -> None:
        self.latencies: list[tuple[float, float]] = []  # (created, seconds to arrive)
        self.events: set[str] = set()
        self.last_arrival = 0.0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._half_peak_from: float | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{HOST}:{port}/webhooks"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:  # the server's keep-alive connections
                writer.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        self.latencies.clear()
        self.events.clear()
        self._half_peak_from = None

    async def half_peak(self, rate: float) -> None:
        """Mark the start of the half-peak run: events created from now on count there."""
        del rate
        self._half_peak_from = time.time()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self._note(body, arrived=time.time())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _note(self, body: bytes, *, arrived: float) -> None:
        event = json.loads(body)
        self.last_arrival = time.monotonic()
        if event["id"] in self.events:  # a retry: its first arrival is the latency
            return
        self.events.add(event["id"])
        created = datetime.fromisoformat(event["created_at"]).timestamp()
        self.latencies.append((created, arrived - created))

    async def summary(self, *, quiet_seconds: float = 1.0, limit: float = 30.0) -> dict[str, Any]:
        """Wait until nothing arrived for ``quiet_seconds`` (the relay caught up), then the
        count and latency percentiles (ms)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_arrival >= quiet_seconds:
                break
            await asyncio.sleep(0.1)
        split = self._half_peak_from
        everything = [seconds for _, seconds in self.latencies]
        half = [seconds for created, seconds in self.latencies if split and created >= split]
        return {
            **_percentiles(everything),
            "half_peak": _percentiles(half),
            "measured_from": "the event's created_at (in the charge's transaction)",
        }


def _percentiles(seconds: list[float]) -> dict[str, Any]:
    ordered = sorted(seconds)

    def at(share: float) -> float | None:
        if not ordered:
            return None
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"received": len(ordered), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": at(1.0)}


async def point_webhooks_at(url: str, receiver: str) -> None:
    """Every merchant of the bench database sends its webhooks to ``receiver``."""
    engine: AsyncEngine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(merchants).values(webhook_url=receiver))
    finally:
        await engine.dispose()


def worker_rss(server_pid: int) -> dict[str, Any]:
    """``VmRSS`` (MB) of the server's uvicorn workers: its children started by
    multiprocessing's ``spawn_main`` (not its resource tracker), read from /proc."""
    workers: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent != server_pid:
                continue
            if b"spawn_main" not in (entry / "cmdline").read_bytes():
                continue
            status = (entry / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                workers[entry.name] = round(int(line.split()[1]) / 1024, 1)
    return {"workers_mb": workers, "max_mb": max(workers.values(), default=None)}


def _webhooks_phase(args: argparse.Namespace) -> Callable[[float], Any] | None:
    """What ``measure`` calls between the peak and the half peak: the receiver's mark."""
    return None if args.webhooks is None else args.webhooks.half_peak


def _memory_and_webhook_targets(out: dict[str, Any]) -> dict[str, bool]:
    targets: dict[str, bool] = {}
    # At half the peak, like the latency target: at the peak every task waits for the CPU.
    p50 = (out.get("webhooks") or {}).get("half_peak", {}).get("p50_ms")
    if p50 is not None:
        targets["webhook_p50_at_half_peak_le_50ms"] = p50 <= 50
    largest = (out.get("rss") or {}).get("max_mb")
    if largest is not None:
        targets["rss_per_worker_le_200mb"] = largest <= 200
    return targets


# ------------------------------------------------------------------------------ the run


async def run(args: argparse.Namespace) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="ewallet-bench-api-"))
    secret_key, pin_pepper = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    out: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "clients": args.clients,
        "seconds": args.seconds,
        "users": args.users,
        "merchants": args.merchants,
        "server": {"workers": args.workers, "log_level": args.log_level},
    }
    try:
        async with AsyncExitStack() as stack, bench_database() as url:
            args.webhooks = None if args.no_webhooks else WebhookReceiver()
            if args.webhooks is not None:
                await args.webhooks.start()
                stack.push_async_callback(args.webhooks.stop)
            out["postgres"] = await admin_execute("SHOW server_version")
            env = {
                "EWALLET_DATABASE_URL": url,
                "EWALLET_SECRET_KEY": secret_key,
                "EWALLET_PIN_PEPPER": pin_pepper,
                "EWALLET_VAR_DIR": str(var_dir),
                "EWALLET_LOG_LEVEL": args.log_level,
                **RAISED_LIMITS,
                **dict(item.split("=", 1) for item in args.env),
            }
            settings = Settings(
                database_url=url,
                var_dir=var_dir,
                secret_key=SecretStr(secret_key),
                pin_pepper=SecretStr(pin_pepper),
            ).model_copy(update=_argon2_settings(args))
            out["server"]["argon2"] = {
                "time_cost": settings.argon2_time_cost,
                "memory_kib": settings.argon2_memory_kib,
            }
            started = time.perf_counter()
            engine = make_engine(url, pool_size=20)
            try:
                population = await make_population(
                    engine, settings, args.users, merchants=args.merchants
                )
                charges = await _charge_codes(engine, settings, population)
            finally:
                await engine.dispose()
            if args.webhooks is not None:
                await point_webhooks_at(url, args.webhooks.url)
            out["setup_seconds"] = round(time.perf_counter() - started, 1)
            server = Server(env, workers=args.workers, log=var_dir / "server.log")
            try:
                await server.wait_ready()
                args.server_pid = server.process.pid
                out.update(await _scenarios(server.port, population, charges, args))
                out["rss"] = worker_rss(server.process.pid)
            finally:
                server.stop()
        if not args.no_pgbench:
            out["pgbench"] = await asyncio.to_thread(run_pgbench, args.clients, args.seconds)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    out.update(_verdict(out))
    out["targets"].update(_memory_and_webhook_targets(out))
    return out


def _argon2_settings(args: argparse.Namespace) -> dict[str, int]:
    """``--env EWALLET_ARGON2_*`` items, for hashing the population's PIN the same way."""
    pairs = [item.split("=", 1) for item in args.env]
    return {
        name.removeprefix("EWALLET_").lower(): int(value)
        for name, value in pairs
        if name.startswith("EWALLET_ARGON2_")
    }


async def _charge_codes(engine: Any, settings: Settings, population: Population) -> Any:
    """The phone-side code maker when payment codes exist in this build, else None."""
    try:
        from bench.api_codes import CodeMaker  # noqa: PLC0415 -- optional feature
    except ImportError:
        return None
    return await CodeMaker.create(engine, settings, population)


async def _scenarios(
    port: int, population: Population, codes: Any, args: argparse.Namespace
) -> dict[str, Any]:
    clients, seconds = args.clients, args.seconds
    results: dict[str, Any] = {}
    wanted = set(args.only.split(",")) if args.only else {"healthz", "charges", "transfers"}
    if "healthz" in wanted:
        results["healthz"] = await measure(port, healthz, clients=clients, seconds=seconds)
    if "charges" in wanted or "payments" in wanted:
        if args.webhooks is not None:
            args.webhooks.reset()
        results.update(await _spending(port, population, codes, args))
        if args.webhooks is not None:
            results["webhooks"] = await args.webhooks.summary()
    if "transfers" in wanted:
        with profiling(args, "transfers"):
            results["transfers"] = await measure(
                port, transfers(population), clients=clients, seconds=seconds
            )
    return results


async def _spending(
    port: int, population: Population, codes: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """Charges when this build serves them, else order payments (the brief's fallback)."""
    clients, seconds = args.clients, args.seconds
    if codes is not None and await server_serves(port, "POST", "/v1/merchant/charges"):
        with profiling(args, "charges"):
            charges = await measure(
                port,
                codes.factory(),
                clients=clients,
                seconds=seconds,
                before_half=_webhooks_phase(args),
            )
        return {"charges": charges}
    orders = Orders(port, population, clients)
    await orders.stock(args.orders)

    async def restock(rate: float) -> None:
        await orders.stock(max(0, int(rate * seconds * 1.2) - len(orders.ready)))

    async def restock_and_mark(rate: float) -> None:
        await restock(rate)
        if args.webhooks is not None:
            await args.webhooks.half_peak(rate)

    payments = await measure(
        port, orders.factory(), clients=clients, seconds=seconds, before_half=restock_and_mark
    )
    return {"payments": payments}


@contextmanager
def profiling(args: argparse.Namespace, scenario: str) -> Iterator[None]:
    """With ``--profile DIR``: py-spy samples the server's workers during ``scenario``'s
    peak run, writing collapsed stacks to DIR/<scenario>.txt (bench/profile_top.py reads
    them)."""
    if args.profile is None or shutil.which("py-spy", path=str(BIN)) is None:
        yield
        return
    target = Path(args.profile) / f"{scenario}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(args.server_pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(int(WARMUP_SECONDS + args.seconds)),
            "--output",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=60)


def _verdict(out: dict[str, Any]) -> dict[str, Any]:
    def peak(name: str) -> float | None:
        scenario = out.get(name)
        return None if scenario is None else float(scenario["peak"]["ok_per_second"])

    pgbench = out.get("pgbench") or {}
    tps = pgbench.get("tps")
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    spend = "charges" if "charges" in out else "payments"
    for name in (spend, "transfers"):
        rate = peak(name)
        if rate is None:
            continue
        if tps:
            ratios[f"{name}_per_pgbench"] = round(rate / tps, 3)
        if peak("healthz"):
            ratios[f"{name}_per_healthz"] = round(rate / (peak("healthz") or 1), 3)
        p99 = out[name].get("half_peak", {}).get("p99_ms")
        targets[f"{name}_p99_at_half_peak_le_50ms"] = p99 is not None and p99 <= 50
    if tps and peak(spend) is not None:
        targets[f"{spend}_ge_half_pgbench"] = (peak(spend) or 0) >= 0.5 * tps
    return {"ratios": ratios, "targets": targets}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=8000)
    parser.add_argument(
        "--merchants", type=int, default=1, help="charges spread over this many merchants"
    )
    parser.add_argument("--orders", type=int, default=3000, help="orders stocked (payments)")
    parser.add_argument("--log-level", default="INFO", help="the server's EWALLET_LOG_LEVEL")
    parser.add_argument("--no-pgbench", action="store_true")
    parser.add_argument(
        "--only", help="comma-separated scenarios to run: healthz, charges (or payments), transfers"
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy the workers (collapsed stacks)")
    parser.add_argument(
        "--no-webhooks", action="store_true", help="merchants without a webhook URL"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for the server, e.g. EWALLET_ARGON2_TIME_COST=1",
    )
    args = parser.parse_args()
    uvloop.install()
    print(json.dumps(asyncio.run(run(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    cli()
