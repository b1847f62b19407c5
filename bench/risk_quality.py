"""The risk rules' quality: a synthetic month with labelled fraud, replayed through the real
decision code. Prints one JSON document (issue #15, "Benchmark and evaluation", quality).

    make bench-risk-quality                                   # default and first-draft rules
    .venv/bin/python -m bench.risk_quality --users 500 --movements 12000 --rules first
    .venv/bin/python -m bench.risk_quality --postgres         # EWALLET_TEST_POSTGRES_URL's

The month (:mod:`bench.risk_traffic`, seeded) is replayed in time order on a freshly
migrated database (SQLite in a temporary directory; ``--postgres``: a new database on that
server, dropped after), each event at its own moment: spends through
:func:`ewallet.risk.decisions.decide`; card and PSP top-ups and counter deposits through the
rule engine as ``decide`` calls it (:func:`decide_inflow`). After an allowed decision the
replay writes what the use case writes and a later feature reads: the spend record, the
ledger entry of a transfer or an inflow, the declined top-up, the counter deposit; a refused
one stores its decision only. Security events write the device, the bound card, the password
reset's audit event. docs/performance.md ("Quality") defines the figures and gives a run's.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.risk_decisions import _pg, _pg_admin
from bench.risk_traffic import PATTERNS, SECURITY, SPENDS, Event, Past, Person, Traffic, generate
from ewallet.audit.service import Actor, audit_user
from ewallet.cards.binding import repository as cards_repository
from ewallet.config import Settings
from ewallet.counter import repository as counter_repository
from ewallet.funding.topups import repository as topups_repository
from ewallet.identity.devices.repository import add_device
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.logging import configure_logging
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, apply_commands, chart, transfer
from ewallet.ledger.errors import LedgerError
from ewallet.models.counter import DepositStatus
from ewallet.models.funding import Card, CardStatus, TopupMethod, TopupStatus
from ewallet.models.identity import User
from ewallet.models.migrate import upgrade
from ewallet.models.risk import Verdict
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.models.tables import cards, devices, spend_records, users
from ewallet.risk.decisions import SpendFacts, decide
from ewallet.risk.repository import insert_spend_record
from ewallet.risk.rules import engine as risk_engine
from ewallet.risk.rules import repository as rules_repository
from ewallet.risk.rules.defaults import DEFAULT_RULES
from ewallet.risk.rules.engine import Outcome, RiskSettings
from ewallet.risk.rules.features import Movement
from ewallet.risk.rules.views import RuleView
from ewallet.staff.repository import insert_staff

# Variant ``first``: the first draft's conditions of the five rules tuned on this bench, to
# compare with what ships (docs/performance.md, "Quality", says why each changed).
FIRST_DRAFT: Final = {
    "password-reset-new-payee": "amount >= 1000 and is_new_payee and "
    "hours_since_password_reset < 24",
    "transfer-velocity": "user_channel_count_1h >= 5",
    "rapid-in-out": "inflow_sum_30m >= 1000 and user_out_sum_30m + amount >= 0.8 * inflow_sum_30m",
    "card-testing": "failed_card_topups_1h >= 5 and amount < 100",
    "dormant-large-outflow": "amount >= 5000 and (days_since_last_spend >= 180 or "
    "(days_since_last_spend is null and account_age_days >= 180))",
}
VARIANTS: Final = ("default", "first")
BANK: Final = "BENCH"
# Events replayed per transaction, one after the other: a statement through aiosqlite costs
# ~0.5 ms of CPU here, so a transaction per movement (two more) made a month too slow.
BATCH: Final = 200
BRANCH: Final = "BQ001"
FLAGS: Final = frozenset({Verdict.CHALLENGE, Verdict.REVIEW, Verdict.BLOCK})
REFUSED: Final = frozenset({Verdict.REVIEW, Verdict.BLOCK})
# The rule set's refresh: simulated time jumps, so the cached set is kept (it never changes).
SETTINGS: Final = RiskSettings(refresh_seconds=10.0**9)


def rules_for(variant: str) -> tuple[RuleView, ...]:
    """The rule set a variant replays: ``default``, the rules as shipped; ``first``, the same
    with the first draft's conditions of the five tuned rules."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown rule variant {variant!r}: one of {', '.join(VARIANTS)}")
    drafted: dict[str, str] = FIRST_DRAFT if variant == "first" else {}
    return tuple(
        dataclasses.replace(rule, condition=drafted.get(rule.name, rule.condition))
        for rule in DEFAULT_RULES
    )


@dataclass(frozen=True, slots=True)
class Result:
    """What happened to one decided event."""

    event: Event
    verdict: Verdict
    reported: bool  # a live report rule fired (an AML report candidate)
    fired: tuple[tuple[str, str], ...]  # (rule, mode) of every rule that fired
    moved: bool  # the money moved (allowed, and the ledger accepted it)
    refused: bool  # the decision stopped it (a spend's review or block, an inflow's block)
    ms: float  # the decision's own time


async def decide_inflow(
    uow: UnitOfWork, *, event: str, user: User, reference: str, amount: Money, now: datetime
) -> Outcome:
    """Money coming in decided as :func:`ewallet.risk.decisions.decide_inflow` decides it
    (the same movement; only a block refuses), but a block is not rolled back here: the
    caller stores it in the replay's transaction, as for a spend."""
    movement = Movement(
        user_id=user.id,
        event=event,
        reference=reference,
        amount=amount,
        auth="pin" if event == "card_topup" else None,
        account_tier=user.tier,
        account_created_at=user.created_at,
        pin_failures=user.payment_failures,
        login_failures=user.login_failures,
    )
    conn = await uow.connection()
    outcome = await risk_engine.evaluate(conn, movement, now=now, settings=SETTINGS)
    if outcome.verdict is not Verdict.BLOCK:
        await risk_engine.record(uow, movement, outcome, now=now)
    return outcome


@dataclass(slots=True)
class Replay:
    """One replay of a month on one database."""

    engine: AsyncEngine
    traffic: Traffic
    ledger: Ledger = field(init=False)
    accounts: dict[str, int] = field(default_factory=dict)
    devices: dict[tuple[int, str], str] = field(default_factory=dict)
    cards: dict[tuple[int, str], str] = field(default_factory=dict)
    current: dict[int, str] = field(default_factory=dict)  # the phone a person uses now
    users: dict[int, User] = field(default_factory=dict)
    teller: str = field(default_factory=lambda: new_id("stf"))

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.engine, clock=FrozenClock(self.traffic.start))

    # ------------------------------------------------------------------------------ seed
    async def seed(self, rules: tuple[RuleView, ...]) -> None:
        """The population, its devices and cards, the history before the month, the opening
        balances and the rule set (bulk: the state the month starts from, not replayed)."""
        start, people = self.traffic.start, self.traffic.people
        for index, person in enumerate(people):
            self.devices[(index, person.device)] = new_id("dev")
            self.cards[(index, person.card)] = new_id("crd")
        async with self.engine.begin() as conn:
            staff = (self.teller, f"{self.teller}@bench.example", "teller", "x", "x", start)
            await insert_staff(conn, **_row(STAFF, staff), must_change_password=False, failures=0)
            await conn.execute(insert(users), [_user_row(p, start) for p in people])
            device_rows = [
                _row(DEVICE, (self.devices[(i, p.device)], p.id, p.device, *[p.created_at] * 3))
                for i, p in enumerate(people)
            ]
            await conn.execute(insert(devices), device_rows)
            card_rows = [
                _card_row(self.cards[(i, p.card)], p, p.created_at) for i, p in enumerate(people)
            ]
            await conn.execute(insert(cards), card_rows)
            for offset in range(0, len(self.traffic.history), 2000):
                chunk = self.traffic.history[offset : offset + 2000]
                rows = [_row(SPEND, _history(h, people), auth="pin", currency="CNY") for h in chunk]
                await conn.execute(insert(spend_records), rows)
            await rules_repository.seed_rule_set(conn, rules=rules, note="bench", now=start)
        # Every account an entry of the month touches, opened now: a replay transaction holds
        # SQLite's write lock, and the ledger opens an account in a unit of its own.
        bank = chart.bank_settlement(BANK)
        others = (chart.psp_clearing("alipay"), chart.cash_vault(BRANCH))
        for spec in (bank, *others, *(chart.wallet(p.id) for p in people)):
            self.accounts[spec.code] = await chart.account_id(self.ledger, spec)
        debit = self.accounts[bank.code]
        opening = [
            transfer(
                key=f"opening:{p.id}",
                debit_account_id=debit,
                credit_account_id=self.accounts[chart.wallet(p.id).code],
                amount=Money(p.opening, "CNY"),
                kind=TransactionKind.TOPUP,
            )
            for p in people
            if p.opening > 0
        ]
        clock = FrozenClock(start - timedelta(days=40))
        booked = await run_unit(self.engine, lambda uow: apply_commands(uow, opening, clock=clock))
        assert not any(isinstance(result, LedgerError) for result in booked)

    def spender(self, index: int) -> User:
        """The spender's row as the seam hands it to ``decide``, built once: one process, one
        movement at a time, so the seam's row lock would change nothing but the time."""
        if index not in self.users:
            person = self.traffic.people[index]
            created, tier = person.created_at, person.tier
            self.users[index] = User(
                id=person.id, tier=tier, created_at=created, payment_failures=0, login_failures=0
            )
        return self.users[index]

    # ---------------------------------------------------------------------------- replay
    async def run(self) -> list[Result]:
        """Every event in order, :data:`BATCH` to a transaction (module doc)."""
        results: list[Result] = []
        events = self.traffic.events
        for first in range(0, len(events), BATCH):

            async def work(uow: UnitOfWork, first: int = first) -> list[Result]:
                done: list[Result] = []
                for number in range(first, min(first + BATCH, len(events))):
                    event = events[number]
                    if event.kind in SECURITY:
                        await self.security(uow, event)
                    else:
                        done.append(await self.movement(uow, number, event))
                return done

            results.extend(await run_unit(self.engine, work))
            # The ledger's upkeep job folds the hot accounts' deltas as it would every few
            # seconds (a top-up reads its settlement account's unfolded deltas).
            await self.ledger.fold_balance_deltas()
        return results

    async def movement(self, uow: UnitOfWork, number: int, event: Event) -> Result:
        """Decide one movement; write what it writes if it goes ahead, else its decision only."""
        person, at, user = self.traffic.people[event.user], event.at, self.spender(event.user)
        amount, reference = Money(event.amount, "CNY"), f"{event.kind}:q{number}"
        began = time.perf_counter()
        if event.kind in SPENDS:
            device = event.device or self.current.get(event.user, person.device)
            channel, device_id = SpendChannel(event.kind), self.devices[(event.user, device)]
            facts = SpendFacts(
                person.id, amount, channel, AuthStrength.PIN, reference, event.payee, device_id
            )
            decision = await decide(uow, facts, now=at, settings=SETTINGS, spender=user)
            assert decision.outcome is not None
            outcome = decision.outcome
        else:
            outcome = await decide_inflow(
                uow, event=event.kind, user=user, reference=reference, amount=amount, now=at
            )
        ms = (time.perf_counter() - began) * 1000
        # A spend under review waits (nothing moves yet); money coming in stops only on a block;
        # a challenged spend moves once the step-up is passed (stored by the seam, not decide).
        stored = Movement(person.id, event.kind, reference, amount)
        if outcome.verdict in (REFUSED if event.kind in SPENDS else {Verdict.BLOCK}):
            await risk_engine.record(uow, stored, outcome, now=at)
            return _result(event, outcome, ms, moved=False, refused=True)
        if event.kind in SPENDS and outcome.verdict is Verdict.CHALLENGE:
            await risk_engine.record(uow, stored, outcome, now=at)
        conn = await uow.connection()
        if event.kind in SPENDS:
            await insert_spend_record(
                conn,
                user_id=person.id,
                reference=reference,
                channel=SpendChannel(event.kind),
                auth=AuthStrength.PIN,
                amount=amount,
                now=at,
                counterparty=event.payee,
            )
            if event.kind != "transfer":  # a debit no feature reads: not written
                return _result(event, outcome, ms, moved=True)
        elif event.declined:
            await self.declined_topup(conn, event, person, amount, at)
            return _result(event, outcome, ms, moved=False)
        elif event.kind == "counter_deposit":
            await counter_repository.insert_deposit(
                conn,
                deposit_id=new_id("cdp"),
                branch=BRANCH,
                receipt_no=f"q{number}",
                user_id=person.id,
                phone=person.phone,
                amount=amount,
                status=DepositStatus.COMPLETED,
                teller_id=self.teller,
                now=at,
            )
        wallet = self.accounts[chart.wallet(person.id).code]
        other = self.accounts[_counter_account(event, self.traffic.people).code]
        debit, credit = (wallet, other) if event.kind == "transfer" else (other, wallet)
        kind = TransactionKind.TRANSFER if event.kind == "transfer" else TransactionKind.TOPUP
        entry = transfer(
            key=reference,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            kind=kind,
        )
        (booked,) = await apply_commands(uow, [entry], clock=FrozenClock(at))
        return _result(event, outcome, ms, moved=not isinstance(booked, LedgerError))

    async def declined_topup(
        self, conn: Any, event: Event, person: Person, amount: Money, at: datetime
    ) -> None:
        """The failed top-up row a card the bank declines leaves (what card testing counts)."""
        await topups_repository.insert_topup(
            conn,
            topup_id=new_id("top"),
            user_id=person.id,
            method=TopupMethod.CARD,
            card_id=self.cards[(event.user, event.card or person.card)],
            amount=amount,
            status=TopupStatus.FAILED,  # what card testing counts (the reason is not read)
            request_key=None,
            now=at,
        )

    async def security(self, uow: UnitOfWork, event: Event) -> None:
        """A password reset (its audit event, as the reset writes it), a new device, a card."""
        person = self.traffic.people[event.user]
        clock = FrozenClock(event.at)
        if event.kind == "password_reset":
            details = {"sessions_revoked": 0, "kept_current": False}
            actor = Actor("user", person.id, "198.51.100.7")
            await audit_user(uow, clock, actor, "login_password.reset", person.id, details=details)
        elif event.kind == "new_device":
            assert event.device is not None
            self.devices[(event.user, event.device)] = await add_device(
                await uow.connection(),
                user_id=person.id,
                device_key=event.device,
                label="bench",
                now=event.at,
                ip=None,
                trusted=False,
            )
            if event.label is None:  # the owner's new phone (a thief's is not theirs to use)
                self.current[event.user] = event.device
        elif event.kind == "card_bound":
            assert event.card is not None
            card_id = new_id("crd")
            cards_repository.add(uow, Card(**_card_row(card_id, person, event.at)))
            self.cards[(event.user, event.card)] = card_id


def _counter_account(event: Event, people: list[Person]) -> chart.AccountSpec:
    """The account on the other side of the wallet's entry (transfers and inflows)."""
    if event.kind == "transfer":
        assert event.payee_user is not None
        return chart.wallet(people[event.payee_user].id)
    named = {"psp_topup": chart.psp_clearing("alipay"), "counter_deposit": chart.cash_vault(BRANCH)}
    return named.get(event.kind, chart.bank_settlement(BANK))


def _result(
    event: Event, outcome: Outcome, ms: float, *, moved: bool, refused: bool = False
) -> Result:
    fired = tuple((rule.name, rule.mode.value) for rule in outcome.fired)
    return Result(event, outcome.verdict, bool(outcome.reports), fired, moved, refused, ms)


STAFF: Final = ("id", "email", "role", "password_hash", "totp_secret_encrypted", "created_at")
DEVICE: Final = ("id", "user_id", "device_key", "trusted_at", "first_seen_at", "last_seen_at")
SPEND: Final = ("id", "user_id", "reference", "channel", "amount", "created_at", "counterparty")


def _row(columns: tuple[str, ...], values: tuple[Any, ...], **more: Any) -> dict[str, Any]:
    return {**dict(zip(columns, values, strict=True)), **more}


def _history(past: Past, people: list[Person]) -> tuple[Any, ...]:
    user, reference = people[past.user].id, f"history:{new_id('h')}"
    return (new_id("spd"), user, reference, past.channel, past.amount, past.at, past.payee)


def _user_row(person: Person, start: datetime) -> dict[str, Any]:
    at = person.created_at
    return _row(
        ("id", "phone", "tier", "login_password_changed_at", "created_at", "updated_at"),
        (person.id, person.phone, person.tier, at, at, start),
        status="active",
        locale="zh-CN",
        login_password_hash="x",
        login_failures=0,
        payment_failures=0,
    )


def _card_row(card_id: str, person: Person, at: datetime) -> dict[str, Any]:
    return _row(
        ("id", "user_id", "last_four", "fingerprint", "binding_request_id", "created_at"),
        (card_id, person.id, card_id[-4:], card_id, f"bind:{card_id}", at),
        verified_at=at,
        status=CardStatus.ACTIVE,
        bank_code=BANK,
        bank_name="Bench Bank",
        card_type="debit",
        bin="621700",
        holder_name_masked="*三",
        bank_phone_masked="139****0000",
    )


# ------------------------------------------------------------------------------- figures
def evaluate(traffic: Traffic, results: list[Result]) -> dict[str, Any]:
    """Recall per pattern, the legitimate movements' verdicts, hits per rule (module doc of
    docs/performance.md's "Quality" defines each)."""
    by_instance: dict[tuple[str, int], list[Result]] = {}
    legit: Counter[str] = Counter()
    rule_hits: dict[str, Counter[str]] = {}
    unfunded: Counter[str] = Counter()
    for result in results:
        label = result.event.label
        side = "legit" if label is None else "fraud"
        for name, mode in result.fired:
            rule_hits.setdefault(name, Counter())[f"{side}_{mode}"] += 1
        if label is None:
            legit[result.verdict.value] += 1
            legit["reported"] += result.reported
        else:
            by_instance.setdefault((label.pattern, label.instance), []).append(result)
        if not (result.refused or result.moved or result.event.declined):
            unfunded[side] += 1
    patterns: dict[str, Any] = {}
    for pattern in PATTERNS:
        instances = {key: value for key, value in by_instance.items() if key[0] == pattern}
        detected = stopped = 0
        caught_by: Counter[str] = Counter()
        for members in instances.values():
            flag = _first_flag(pattern, members)
            if flag is not None:
                detected += 1
                caught_by.update(name for name, mode in flag.fired if mode == "live")
            harm = next((m for m in members if m.event.label and m.event.label.harm), None)
            stopped += harm is not None and harm.refused
        count = len(instances)
        patterns[pattern] = {
            "instances": count,
            "movements": sum(len(members) for members in instances.values()),
            "detected": detected,
            "recall": round(detected / count, 4) if count else None,
            "harm_refused": stopped,
            "caught_by": dict(caught_by.most_common()),
        }
    decided = sum(legit[v.value] for v in Verdict)
    inconvenienced = sum(legit[v.value] for v in FLAGS)
    times = sorted(result.ms for result in results)
    return {
        "patterns": patterns,
        "legitimate": {
            "movements": decided,
            **{v.value: legit[v.value] for v in Verdict},
            "reported": legit["reported"],
            "inconvenienced": inconvenienced,
            "inconvenienced_share": round(inconvenienced / decided, 5) if decided else None,
        },
        "rules": {name: dict(sorted(hits.items())) for name, hits in sorted(rule_hits.items())},
        "not_funded": dict(unfunded),
        "decision_ms": {"decisions": len(times), **_percentiles(times)},
    }


def _percentiles(ordered: list[float]) -> dict[str, float | None]:
    if not ordered:
        return {"p50": None, "p99": None, "max": None}
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(p99, 3),
        "max": round(ordered[-1], 3),
    }


def _first_flag(pattern: str, members: list[Result]) -> Result | None:
    """The instance's first movement, up to and including its harm, that risk flagged: a
    challenge, review or block (for structuring also a report); None if there is none."""
    for member in members:
        if member.verdict in FLAGS or (pattern == "structuring" and member.reported):
            return member
        if member.event.label is not None and member.event.label.harm:
            return None
    return None


def targets(figures: dict[str, Any]) -> dict[str, bool]:
    met = {f"recall_{p}_ge_0.9": (figures["patterns"][p]["recall"] or 0) >= 0.9 for p in PATTERNS}
    share = figures["legitimate"]["inconvenienced_share"]
    return {**met, "legitimate_inconvenienced_le_0.01": share is not None and share <= 0.01}


# ---------------------------------------------------------------------------------- runs
async def replay_on(url: str, traffic: Traffic, variant: str) -> dict[str, Any]:
    """Migrate ``url``, seed the month's start, replay it under ``variant``: the figures."""
    engine = make_engine(url, pool_size=4)
    try:
        await upgrade(engine)
        replay = Replay(engine, traffic)
        began = time.perf_counter()
        await replay.seed(rules_for(variant))
        seeded = time.perf_counter()
        results = await replay.run()
        done = time.perf_counter()
        figures = evaluate(traffic, results)
        figures["seconds"] = {"seed": round(seeded - began, 1), "replay": round(done - seeded, 1)}
        figures["targets"] = targets(figures)
        return figures
    finally:
        risk_engine.forget(engine)
        await engine.dispose()


def run(variant: str, traffic: Traffic, *, postgres: bool) -> dict[str, Any]:
    """One variant on a fresh database (own event loop: call it outside one)."""
    if not postgres:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'quality.db'}"
            return asyncio.run(replay_on(url, traffic, variant))
    name = f"ewallet_bench_quality_{secrets.token_hex(4)}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        pg_url = make_url(_pg_admin()).set(drivername="postgresql+asyncpg", database=name)
        pg = pg_url.render_as_string(hide_password=False)
        return asyncio.run(replay_on(pg, traffic, variant))
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sizes(traffic: Traffic) -> dict[str, Any]:
    moving = [event for event in traffic.events if event.kind not in SECURITY]
    return {
        "users": len(traffic.people),
        "movements": len(moving),
        "legitimate_movements": sum(1 for event in moving if event.label is None),
        "by_kind": dict(sorted(Counter(event.kind for event in traffic.events).items())),
        "history_spends": len(traffic.history),
        "instances": dict(traffic.instances),
        "month": [traffic.start.isoformat(), traffic.end.isoformat()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--movements", type=int, default=50_000)
    parser.add_argument("--rules", choices=(*VARIANTS, "both"), default="both")
    parser.add_argument(
        "--postgres", action="store_true", help="EWALLET_TEST_POSTGRES_URL's server"
    )
    args = parser.parse_args()
    # A throw-away database: no fsync per commit (durability is not what is measured).
    os.environ.setdefault("EWALLET_SQLITE_SYNCHRONOUS", "OFF")
    # Warnings and errors only, on stderr: stdout is the JSON document.
    secret, pepper = (
        SecretStr("bench-secret-key-" + "x" * 32),
        SecretStr("bench-pepper-" + "y" * 32),
    )
    quiet = Settings(var_dir=Path(tempfile.gettempdir()), secret_key=secret, pin_pepper=pepper)
    quiet = quiet.model_copy(update={"log_json": True, "log_level": "WARNING"})
    configure_logging(quiet, stream=sys.stderr)
    began = time.perf_counter()
    load = os.getloadavg()
    traffic = generate(seed=args.seed, users=args.users, movements=args.movements)
    generated = time.perf_counter() - began
    variants = VARIANTS if args.rules == "both" else (args.rules,)
    report: dict[str, Any] = {
        "seed": args.seed,
        "backend": "postgresql" if args.postgres else "sqlite",
        "sizes": sizes(traffic),
        "first_draft_conditions": FIRST_DRAFT,
    }
    # Each variant on its own database in its own process: both at once on two cores.
    with ProcessPoolExecutor(max_workers=len(variants)) as pool:
        runs = {v: pool.submit(run, v, traffic, postgres=args.postgres) for v in variants}
        report.update({variant: future.result() for variant, future in runs.items()})
    wall, load_end = round(time.perf_counter() - began, 1), os.getloadavg()[0]
    report["seconds"] = {"generate": round(generated, 1), "wall": wall}
    report["machine"] = {"cpus": os.cpu_count(), "load_1m_start": load[0], "load_1m_end": load_end}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
