"""What the risk rules cost: charges per second with the default rules on and off, and the
decision's own time. Prints one JSON document (issue #15, "Benchmark and evaluation").

    make bench-risk                                  # 15 s per round, 16 clients
    .venv/bin/python -m bench.risk --seconds 5 --scenarios charges

**Throughput, rules on vs off.** One server build on one database, as bench/api.py runs it
(its ``Server``, population and payment codes; ``ewallet serve --workers 2`` on a fresh
PostgreSQL database of the server of ``EWALLET_TEST_POSTGRES_URL``, dropped afterwards).
The rules are switched the way an operator switches them, through the rule service
(:mod:`ewallet.risk.rules.service`): "off" activates a rule set with no rules (a draft of
the defaults with every rule deleted), "on" activates a copy of the default set. Every
spend still passes the decision point and stores its decision either way; "off" is an
empty rule book. After each activation the benchmark waits out the workers' refresh
(``EWALLET_RISK_RULES_REFRESH_SECONDS``) and reads back which rule-set versions the round's
stored decisions name, so a round measured under the wrong set would show. Rounds
alternate off, on, off, on (``--pairs``), each ``--seconds`` after bench/api.py's warm-up
(and the first after a 5 s priming run, not counted), closed loop
with ``--clients`` connections; the ratio is the on rounds' completed charges over the off
rounds'. Target: >= 0.9. ``transfers`` (``POST /v1/transfers`` with the PIN) run the same
way for reference: five default rules apply to a transfer and some read the database
(``features_read_by_the_latest`` in each round says which features were computed), where
the ¥0.01 charge meets one rule, decided on its amount alone.

**The decision's own time.** bench/risk_decisions.py's method: ``--decisions`` timed
``decide`` calls with the default rules, each inside a unit holding the spender's row lock,
on a fresh database per backend (PostgreSQL, and SQLite for reference), in this process
before the server starts. Target: p99 <= 5 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import uvloop
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.api import (
    HOST,
    RAISED_LIMITS,
    WARMUP_SECONDS,
    Server,
    admin_execute,
    bench_database,
    server_serves,
    transfers,
)
from bench.api_codes import CodeMaker
from bench.api_population import make_population
from bench.load import RequestFactory, closed_loop
from bench.pages import machine
from bench.risk_decisions import decision_times
from ewallet.audit.service import Actor
from ewallet.bootstrap.root import running_services
from ewallet.config import Settings
from ewallet.kit.db.engine import make_engine
from ewallet.models.risk import RuleSetState
from ewallet.models.tables import risk_decisions
from ewallet.risk.rules import service as rules
from ewallet.services import Services

RATIO_TARGET: Final = 0.9
DECISION_P99_TARGET_MS: Final = 5.0
PRIMING_SECONDS: Final = 5.0
OPERATOR: Final = Actor.system()


@dataclass
class RuleSwitch:
    """Turns the rules on and off as an operator would: a new draft, activated."""

    services: Services
    default_version: int
    empty_version: int | None = None
    activated: list[int] = field(default_factory=list)

    @classmethod
    async def start(cls, services: Services) -> RuleSwitch:
        """On a fresh database: the default set (version 1, written on first read)."""
        sets = await rules.list_rule_sets(services)
        active = [each.version for each in sets if each.state is RuleSetState.ACTIVE]
        if len(active) != 1:
            raise RuntimeError(f"expected one active rule set, found {active}")
        return cls(services, active[0])

    async def turn(self, on: bool) -> int:
        """Activate the defaults (``on``) or the empty set; the version now active."""
        source = self.default_version if on or self.empty_version is None else self.empty_version
        note = "bench-risk: the default rules" if on else "bench-risk: no rules"
        draft = await rules.create_draft(self.services, OPERATOR, from_version=source, note=note)
        if not on and self.empty_version is None:
            for rule in draft.rules:
                await rules.delete_rule(
                    self.services, OPERATOR, version=draft.version, name=rule.name
                )
        active = await rules.activate_rule_set(self.services, OPERATOR, version=draft.version)
        if on and len(active.rules) == 0:
            raise RuntimeError("the default rule set came out empty")
        if not on:
            if active.rules:
                raise RuntimeError("the empty rule set has rules")
            self.empty_version = active.version
        self.activated.append(active.version)
        return active.version


async def stored_decisions(services: Services, since: datetime) -> dict[str, Any]:
    """The decisions stored since ``since``: how many per rule-set version and verdict, and
    the features the latest of them read (none under the empty set)."""
    query = (
        select(risk_decisions.c.rule_set_version, risk_decisions.c.verdict, func.count())
        .where(risk_decisions.c.created_at >= since)
        .group_by(risk_decisions.c.rule_set_version, risk_decisions.c.verdict)
    )
    by_version: dict[str, int] = {}
    by_verdict: dict[str, int] = {}
    async with services.engine.connect() as conn:
        for version, verdict, count in (await conn.execute(query)).all():
            by_version[str(version)] = by_version.get(str(version), 0) + int(count)
            by_verdict[str(verdict)] = by_verdict.get(str(verdict), 0) + int(count)
        latest = (
            await conn.execute(
                select(risk_decisions.c.features)
                .where(risk_decisions.c.created_at >= since)
                .order_by(risk_decisions.c.created_at.desc())
                .limit(1)
            )
        ).scalar()
    return {
        "by_rule_set_version": by_version,
        "by_verdict": by_verdict,
        "features_read_by_the_latest": sorted(latest or {}),
    }


async def alternate(
    port: int,
    make: RequestFactory,
    switch: RuleSwitch,
    *,
    clients: int,
    seconds: float,
    refresh: float,
    pairs: int,
) -> dict[str, Any]:
    """Off, on, off, on (``pairs`` of each): each round's rate, latency, load and the
    decisions it stored. An unmeasured priming run first, so the first round does not pay
    for the workers' cold start."""
    await closed_loop(HOST, port, make, clients=clients, seconds=0.0, warmup=PRIMING_SECONDS)
    rounds: list[dict[str, Any]] = []
    for state in ("off", "on") * pairs:
        version = await switch.turn(state == "on")
        await asyncio.sleep(refresh + 0.5)  # every worker has re-read the active version
        since = datetime.now(UTC)
        load = round(os.getloadavg()[0], 2)
        result = await closed_loop(
            HOST, port, make, clients=clients, seconds=seconds, warmup=WARMUP_SECONDS
        )
        rounds.append(
            {
                "rules": state,
                "rule_set_version": version,
                "load_average_1m_at_start": load,
                **result.summary(),
                "decisions_stored": await stored_decisions(switch.services, since),
            }
        )
    ok = {state: sum(r["ok"] for r in rounds if r["rules"] == state) for state in ("off", "on")}
    ratio = round(ok["on"] / ok["off"], 3) if ok["off"] else None
    return {
        "rounds": rounds,
        "off_ok_per_second": round(ok["off"] / (seconds * pairs), 1),
        "on_ok_per_second": round(ok["on"] / (seconds * pairs), 1),
        "ratio_on_off": ratio,
        "pair_ratios": [
            round(on["ok"] / off["ok"], 3) if off["ok"] else None
            for off, on in zip(rounds[0::2], rounds[1::2], strict=True)
        ],
    }


async def throughput(args: argparse.Namespace) -> dict[str, Any]:
    """The server, its population and the alternated rounds of each scenario."""
    var_dir = Path(tempfile.mkdtemp(prefix="ewallet-bench-risk-"))
    secret_key, pin_pepper = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    out: dict[str, Any] = {
        "clients": args.clients,
        "seconds_per_round": args.seconds,
        "rounds": ["off", "on"] * args.pairs,
        "users": args.users,
        "server": {"workers": args.workers},
    }
    try:
        async with bench_database() as url:
            out["postgres"] = await admin_execute("SHOW server_version")
            env = {
                "EWALLET_DATABASE_URL": url,
                "EWALLET_SECRET_KEY": secret_key,
                "EWALLET_PIN_PEPPER": pin_pepper,
                "EWALLET_VAR_DIR": str(var_dir),
                "EWALLET_LOG_LEVEL": "INFO",
                **RAISED_LIMITS,
            }
            settings = Settings(
                database_url=url,
                var_dir=var_dir,
                secret_key=SecretStr(secret_key),
                pin_pepper=SecretStr(pin_pepper),
            )
            out["server"]["rules_refresh_seconds"] = settings.risk_rules_refresh_seconds
            started = time.perf_counter()
            engine = make_engine(url, pool_size=20)
            try:
                population = await make_population(engine, settings, args.users)
                codes = await CodeMaker.create(engine, settings, population)
            finally:
                await engine.dispose()
            out["setup_seconds"] = round(time.perf_counter() - started, 1)
            async with running_services(settings, pool_size=2) as services:
                switch = await RuleSwitch.start(services)
                out["default_rule_set_version"] = switch.default_version
                server = Server(env, workers=args.workers, log=var_dir / "server.log")
                try:
                    await server.wait_ready()
                    if not await server_serves(server.port, "POST", "/v1/merchant/charges"):
                        raise RuntimeError("this build does not serve POST /v1/merchant/charges")
                    factories = {"charges": codes.factory(), "transfers": transfers(population)}
                    for scenario in args.scenarios.split(","):
                        out[scenario] = await alternate(
                            server.port,
                            factories[scenario],
                            switch,
                            clients=args.clients,
                            seconds=args.seconds,
                            refresh=settings.risk_rules_refresh_seconds,
                            pairs=args.pairs,
                        )
                finally:
                    server.stop()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    return out


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per round")
    parser.add_argument("--pairs", type=int, default=2, help="rounds off and on, alternated")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=8000)
    parser.add_argument(
        "--scenarios",
        default="charges,transfers",
        help="comma-separated: charges (the target), transfers (for reference)",
    )
    parser.add_argument("--decisions", type=int, default=1000, help="timed decisions per backend")
    args = parser.parse_args()
    unknown = set(args.scenarios.split(",")) - {"charges", "transfers"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    uvloop.install()
    out: dict[str, Any] = {"machine": machine()}
    out["decision_ms"] = decision_times(["postgresql", "sqlite"], args.decisions)
    out.update(asyncio.run(throughput(args)))
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    charges = out.get("charges", {})
    ratio = charges.get("ratio_on_off")
    p99 = out["decision_ms"]["postgresql"]["p99_ms"]
    out["targets"] = {
        "charges_on_off_ratio": ratio,
        "charges_on_off_ratio_ge_0_9": ratio is not None and ratio >= RATIO_TARGET,
        "decision_p99_ms_postgresql": p99,
        "decision_p99_le_5ms_postgresql": p99 <= DECISION_P99_TARGET_MS,
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    cli()
