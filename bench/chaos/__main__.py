"""The chaos run: set up, load with faults, settle, check; one JSON document on stdout.

    make chaos                                            # 10,000 operations, faults on
    .venv/bin/python -m bench.chaos --operations 300 --no-faults     # the smoke mode

See docs/chaos.md. Exits 1 when a check found a violation, 2 when the run itself broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.chaos import checks
from bench.chaos.clients import MONEY_KINDS, Bounds, Caller, Operation, Person, Shop, World
from bench.chaos.cluster import (
    BIN,
    HOST,
    Child,
    FaultLog,
    Postgres,
    free_port,
    open_connections,
    run_cli,
    wait_http,
)

BEIJING_OFFSET = timedelta(hours=8)
# The settle job's cut-off for withdrawals stuck in ``processing``, plus a margin.
PROCESSING_STALE = timedelta(minutes=5, seconds=10)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--operations", type=int, default=10_000, help="money operations")
    parser.add_argument("--clients", type=int, default=24, help="concurrent clients (users)")
    parser.add_argument("--merchants", type=int, default=3)
    parser.add_argument("--no-faults", action="store_true", help="no kills, no restart")
    parser.add_argument(
        "--fault-share",
        type=float,
        default=0.3,
        help="share of top-ups/withdrawals whose amount triggers a bank fault",
    )
    parser.add_argument("--api-kills", type=int, default=3)
    parser.add_argument("--worker-kills", type=int, default=2)
    parser.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds after a fault window in which a 5xx is still excused",
    )
    parser.add_argument(
        "--bank-timeout", type=float, default=2.0, help="EWALLET_BANK_TIMEOUT_SECONDS for the run"
    )
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        help="write every operation and attempt here (JSON lines)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def environment(
    root: Path, pg: Postgres, *, bank_port: int, bank_key: str, bank_timeout: float
) -> dict[str, str]:
    big = str(10**12)
    limits = json.dumps({"1": 10**12, "2": 10**12, "3": 10**12})
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")},
        "EWALLET_ENV": "development",
        "EWALLET_DATABASE_URL": pg.url("ewallet"),
        "EWALLET_VAR_DIR": str(root / "var"),
        "EWALLET_BANK_URL": f"http://{HOST}:{bank_port}",
        "EWALLET_BANK_KEY": bank_key,
        "EWALLET_BANK_TIMEOUT_SECONDS": str(bank_timeout),
        # The separate worker delivers the outbox and settles; the API processes do not.
        "EWALLET_EMBEDDED_WORKER": "false",
        "EWALLET_SETTLE_INTERVAL_SECONDS": "5",
        "EWALLET_LOG_LEVEL": "WARNING",
        "EWALLET_DB_POOL_SIZE": "10",
        "EWALLET_ACCESS_TOKEN_MINUTES": "60",
        # Cheaper argon2: the PIN is still checked on every request, just faster.
        "EWALLET_ARGON2_TIME_COST": "1",
        "EWALLET_ARGON2_MEMORY_KIB": "8192",
        # Every user registers from 127.0.0.1 and spends far beyond a person's day.
        "EWALLET_SMS_PER_IP_HOUR": "1000000",
        "EWALLET_LIMIT_CLASS_ALLOWANCE_MINOR": limits,
        "EWALLET_LIMIT_DAILY_PIN_MINOR": limits,
        "EWALLET_LIMIT_DAILY_PIN_AND_SMS_MINOR": limits,
        "EWALLET_LIMIT_DAILY_NO_PIN_MINOR": big,
        "EWALLET_LIMIT_DAILY_NO_PIN_COUNT": big,
    }


class Run:
    """One chaos run: its directory, processes, world and fault log."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
        self.rng = random.Random(self.seed)
        self.root = Path(tempfile.mkdtemp(prefix="ewallet-chaos-"))
        self.pg = Postgres(self.root, free_port(args.pg_port))
        self.bank_port = free_port()
        self.api_port = free_port()
        self.bank_key = secrets.token_urlsafe(24)
        self.env = environment(
            self.root,
            self.pg,
            bank_port=self.bank_port,
            bank_key=self.bank_key,
            bank_timeout=args.bank_timeout,
        )
        self.faults = FaultLog(time.monotonic(), args.grace)
        ewallet = str(BIN / "ewallet")
        self.bank = Child(
            "bank",
            [ewallet, "sandbox", "bank", "--port", str(self.bank_port)],
            self.env,
            self.root / "bank.log",
        )
        self.api = Child(
            "api",
            [ewallet, "serve", "--workers", "2", "--port", str(self.api_port)],
            self.env,
            self.root / "api.log",
        )
        self.worker = Child("worker", [ewallet, "worker"], self.env, self.root / "worker.log")
        self.durations: dict[str, float] = {}
        self.cli: dict[str, Any] = {}
        self.respawned: list[bool] = []
        self.days: set[str] = set()
        self.problems: list[dict[str, Any]] = []

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def bank_url(self) -> str:
        return f"http://{HOST}:{self.bank_port}"

    def note_day(self) -> None:
        self.days.add((datetime.now(UTC) + BEIJING_OFFSET).date().isoformat())

    # ------------------------------------------------------------------ processes

    async def start(self) -> None:
        """PostgreSQL, then the API (``serve`` migrates first) and the bank, then the worker."""
        self.pg.create()
        self.pg.start()
        await self.pg.create_database("ewallet")
        (self.root / "var").mkdir(exist_ok=True)
        self.api.start()
        self.bank.start()
        await wait_http(f"{self.api_url}/readyz", child=self.api)
        await wait_http(f"{self.bank_url}/test-cards", child=self.bank)
        self.worker.start()

    def stop(self) -> None:
        for child in (self.api, self.worker, self.bank):
            try:
                child.stop()
            except (OSError, RuntimeError):
                continue
        self.pg.stop()
        if not self.args.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    async def ensure_up(self) -> None:
        """Every process running again, the API ready; a failure is noted, not raised."""
        try:
            if not self.worker.alive():
                self.worker.start()
            if not self.api.alive():
                self.api.start()
            await wait_http(f"{self.api_url}/readyz", child=self.api, seconds=180)
        except RuntimeError as error:
            self.problems.append({"check": "processes_back", "seen": str(error)})

    # ------------------------------------------------------------------ faults

    async def kill_api_worker(self) -> None:
        before = self.api.children()
        if not before:
            return
        # The worker holding the most client connections: uvicorn's workers share one
        # socket, and one of them often serves most keep-alive connections.
        held = {pid: open_connections(pid, self.api_port) for pid in before}
        most = max(held.values())
        victim = self.rng.choice([pid for pid, count in held.items() if count == most])
        window = self.faults.open("api_worker_killed", pid=victim, connections=held)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        respawned = False
        while time.monotonic() < deadline:
            now = self.api.children()
            if set(now) - set(before) and len(now) >= len(before):
                respawned = True
                break
            await asyncio.sleep(0.1)
        self.respawned.append(respawned)
        if not respawned:
            window.detail["whole_server_restarted"] = True
            self.api.stop()
            self.api.start()
        await wait_http(f"{self.api_url}/healthz", child=self.api)
        self.faults.close(window)

    async def kill_worker(self) -> None:
        window = self.faults.open("worker_killed", pid=self.worker.pid)
        self.worker.kill9()
        await asyncio.sleep(self.rng.uniform(1.0, 4.0))
        self.worker.start()
        self.faults.close(window)

    async def restart_postgres(self) -> None:
        window = self.faults.open("postgres_restarted", mode="immediate")
        await asyncio.to_thread(self.pg.restart, "immediate")
        await self.pg.wait_ready()
        self.faults.close(window)

    def plan(self) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
        if self.args.no_faults:
            return []
        plan: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        spans = self.args.api_kills
        for i in range(spans):
            plan.append(
                (self.rng.uniform((i + 0.2) / spans, (i + 0.8) / spans) * 0.9, self.kill_api_worker)
            )
        spans = self.args.worker_kills
        for i in range(spans):
            plan.append(
                (self.rng.uniform((i + 0.1) / spans, (i + 0.9) / spans) * 0.9, self.kill_worker)
            )
        plan.append((self.rng.uniform(0.35, 0.55), self.restart_postgres))
        return sorted(plan, key=lambda step: step[0])

    async def do_faults(self, world: World, done: asyncio.Event) -> None:
        total = self.args.operations
        for at, action in self.plan():
            while world.load_count() < at * total:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 0.1)
                if done.is_set():
                    return
            try:
                await action()
            except (RuntimeError, OSError) as error:
                # Left open: the rest of the run counts as a fault window; the run goes on.
                self.problems.append(
                    {"check": "fault_recovery", "seen": str(error), "action": action.__name__}
                )

    # ------------------------------------------------------------------ phases

    async def setup(self, world: World) -> None:
        """Merchants (``ewallet merchant create``) and users (the API), side by side."""

        async def merchant(index: int) -> Shop:
            code, out = await asyncio.to_thread(
                run_cli,
                self.env,
                "merchant",
                "create",
                "--name",
                f"Chaos Shop {index}",
                "--category",
                "retail",
                "--json",
            )
            if code != 0:
                raise RuntimeError(f"merchant create: {out}")
            made = json.loads(out.splitlines()[-1])
            return Shop(made["name"], made["id"], made["api_key"])

        shops = asyncio.gather(*(merchant(i) for i in range(self.args.merchants)))
        people = asyncio.gather(*(world.register(i) for i in range(self.args.clients)))
        world.shops, world.people = list(await shops), list(await people)
        for person in world.people:
            await world.bind_card(person)

    async def load(self, world: World) -> None:
        done = asyncio.Event()

        async def client(person: Person) -> None:
            while world.load_count() < self.args.operations:
                await world.one(person, self.args.fault_share)

        async def progress() -> None:
            """A line on stderr every 30 s (stdout is kept for the JSON document)."""
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 30)
                print(
                    f"chaos: {world.load_count()}/{self.args.operations} operations, "
                    f"{len(self.faults.windows)} faults, t={self.faults.now():.0f} s",
                    file=sys.stderr,
                )

        faults = asyncio.create_task(self.do_faults(world, done))
        reporter = asyncio.create_task(progress())
        try:
            await asyncio.gather(*(client(p) for p in world.people))
        finally:
            done.set()
            await faults
            await reporter

    async def settle(self) -> None:
        """Settle what is pending, then reconcile and verify (commands run side by side)."""

        async def command(name: str, *args: str) -> None:
            code, out = await asyncio.to_thread(run_cli, self.env, *args)
            self.cli[name] = {"exit": code, "output": _json_or_text(out)}

        await asyncio.gather(
            command("topups_settle", "topups", "settle", "--grace-minutes", "0"),
            command("withdrawals_settle", "withdrawals", "settle", "--grace-minutes", "0"),
        )
        # A withdrawal left ``processing`` by a killed process is only taken up by the
        # settle job once it is 5 minutes old (funding/withdrawals/jobs.py): wait for it.
        wait = await self.processing_wait()
        if wait is not None:
            self.cli["withdrawals_settle_waited_s"] = round(wait, 1)
            await asyncio.sleep(wait)
            await command(
                "withdrawals_settle_again", "withdrawals", "settle", "--grace-minutes", "0"
            )
        await asyncio.gather(
            *(
                command(f"reconcile_{day}", "reconcile", "--date", day, "--json")
                for day in sorted(self.days)
            ),
            command("ledger_verify", "ledger", "verify", "--json"),
            command("audit_verify", "audit", "verify", "--json"),
        )

    async def processing_wait(self) -> float | None:
        """Seconds until every ``processing`` withdrawal is past the stale cut-off, if any."""
        connection = await asyncpg.connect(self.pg.url("ewallet", "postgresql"))
        try:
            newest = await connection.fetchval(
                "SELECT max(updated_at) FROM withdrawals WHERE status = 'processing'"
            )
        finally:
            await connection.close()
        if newest is None:
            return None
        due: timedelta = newest + PROCESSING_STALE - datetime.now(UTC)
        return min(max(due.total_seconds(), 0.0), PROCESSING_STALE.total_seconds() + 10)

    def deadlocks_logged(self) -> int:
        try:
            return self.pg.log.read_text(errors="replace").count("deadlock detected")
        except OSError:
            return 0


def _json_or_text(out: str) -> Any:
    """The command's JSON (its last line, after any log lines), else the output's tail."""
    lines = out.splitlines()
    for start in range(len(lines)):
        try:
            return json.loads("\n".join(lines[start:]))
        except ValueError:
            continue
    return out[-3000:]


def _tally(operations: list[Operation]) -> dict[str, Any]:
    by_kind: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"ok": Counter(), "refused": Counter(), "gave_up": 0, "keys": 0}
    )
    for op in operations:
        entry = by_kind[op.kind]
        entry["keys"] += 1
        if op.outcome == "ok":
            entry["ok"][f"{op.status} {op.resource_status or ''}".strip()] += 1
        elif op.outcome == "refused":
            entry["refused"][f"{op.status} {op.code}"] += 1
        else:
            entry["gave_up"] += 1
    return {
        kind: {k: dict(v) if isinstance(v, Counter) else v for k, v in entry.items()}
        for kind, entry in sorted(by_kind.items())
    }


def _attempts(operations: list[Operation]) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    latencies: dict[str, list[float]] = defaultdict(list)
    retried = probes = 0
    for op in operations:
        real = [a for a in op.attempts if not a.probe]
        retried += len(real) > 1
        probes += len(op.attempts) - len(real)
        for attempt in op.attempts:
            statuses[str(attempt.status) if attempt.status else f"no answer: {attempt.error}"] += 1
            if attempt.status is not None and attempt.status < 500 and not attempt.probe:
                latencies[op.kind].append((attempt.end - attempt.start) * 1000)
    latency = {
        kind: {
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(sorted(values)[int(len(values) * 0.99) - 1], 1)
            if len(values) >= 100
            else None,
            "max_ms": round(max(values), 1),
        }
        for kind, values in sorted(latencies.items())
    }
    return {
        "attempts": sum(statuses.values()),
        "keys_retried": retried,
        "probes": probes,
        "by_answer": dict(sorted(statuses.items())),
        "latency_definite": latency,
    }


async def execute(args: argparse.Namespace) -> dict[str, Any]:
    run = Run(args)
    began = time.monotonic()
    world: World | None = None
    try:
        run.note_day()
        await run.start()
        run.durations["start_s"] = time.monotonic() - began
        caller = Caller(run.api_url, run.faults.now, Bounds())
        world = World(
            caller,
            bank_url=run.bank_url,
            db_dsn=run.pg.url("ewallet", "postgresql"),
            seed=run.seed,
            phone_prefix=f"139{run.rng.randint(0, 9999):04d}",
        )
        mark = time.monotonic()
        await run.setup(world)
        async with httpx.AsyncClient(base_url=run.bank_url, timeout=30) as bank:
            cards_before = await checks.card_balances(bank)
        for person in world.people:  # opening balances, with no bank fault
            await world.topup(person, 1500_00, "setup")
        run.durations["setup_s"] = time.monotonic() - mark
        mark = time.monotonic()
        load_started = run.faults.now()
        await run.load(world)
        run.durations["load_s"] = time.monotonic() - mark
        load_ended = run.faults.now()
        run.note_day()
        mark = time.monotonic()
        await run.ensure_up()
        await asyncio.sleep(2.0)  # answers in flight land
        await run.settle()
        run.durations["settle_s"] = time.monotonic() - mark
        mark = time.monotonic()
        facts = await checks.read_facts(
            run.pg.url("ewallet", "postgresql"),
            bank_url=run.bank_url,
            bank_key=run.bank_key,
            days=sorted(run.days),
            merchant_ids={s.name: s.merchant_id for s in world.shops},
            cards_before=cards_before,
        )
        operations = world.operations
        violations = (
            checks.same_answer(operations + world.orders)
            + checks.acknowledged_exists(operations, facts)
            + checks.no_extra_operation(operations, facts)
            + checks.refusal_left_nothing(operations, facts)
            + checks.no_negative_balance(facts)
        )
        bank_found, bank_figures = checks.bank_matches_wallet(facts)
        money_found, money = checks.money_conserved(facts, bank_figures)
        fivexx_found, fivexx = checks.fivexx_outside_faults(operations + world.orders, run.faults)
        violations += bank_found + money_found + fivexx_found + run.problems
        for name in ("ledger_verify", "audit_verify"):
            if run.cli[name]["exit"] != 0:
                violations.append({"check": name, "output": run.cli[name]["output"]})
        await caller.close()
        run.durations["checks_s"] = time.monotonic() - mark
        run.durations["total_s"] = time.monotonic() - began
        load_ops = [op for op in operations if op.phase == "load"]
        return {
            "run": {
                "seed": run.seed,
                "clients": args.clients,
                "merchants": args.merchants,
                "faults": not args.no_faults,
                "fault_share": args.fault_share,
                "bank_timeout_s": args.bank_timeout,
                "grace_s": args.grace,
                "api": "ewallet serve --workers 2",
                "database": "PostgreSQL (own cluster)",
                "load_window_s": [round(load_started, 3), round(load_ended, 3)],
                "uvicorn_respawned_killed_worker": run.respawned,
                "process_starts": {c.name: c.starts for c in (run.api, run.worker, run.bank)},
            },
            "operations": {
                "load": len(load_ops),
                "setup": len(operations) - len(load_ops),
                "orders_created": len(world.orders),
                "money_kinds": list(MONEY_KINDS),
                "outcomes_by_kind": _tally(load_ops),
                "orders": _tally(world.orders),
                **_attempts(operations + world.orders),
            },
            "5xx": fivexx,
            "postgres_deadlocks_logged": run.deadlocks_logged(),
            "fault_windows": [w.as_dict() for w in run.faults.windows],
            "money": {
                **money,
                "bank": {
                    k: dict(v) if isinstance(v, Counter) else v for k, v in bank_figures.items()
                },
            },
            "commands": run.cli,
            "violations": violations,
            "violation_count": len(violations),
            "durations_s": {k: round(v, 1) for k, v in run.durations.items()},
        }
    finally:
        if world is not None and args.record is not None:
            with args.record.open("w") as sink:
                for op in world.orders + world.operations:
                    sink.write(json.dumps(op.summary(), ensure_ascii=False) + "\n")
        run.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = asyncio.run(execute(args))
    except (RuntimeError, OSError) as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 1 if report["violation_count"] else 0


if __name__ == "__main__":
    sys.exit(main())
