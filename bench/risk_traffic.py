"""A seeded synthetic month of wallet traffic with labelled fraud, for bench/risk_quality.py.

:func:`generate` returns a :class:`Traffic`: the population (account ages spread over years,
tiers, a device and a bound card each), the spends of the 90 days before the month (the
history the features look back on: usual payees, the last spend), and the month's events in
time order -- spends (payments, payment codes, static QR, transfers, bills, withdrawals),
inflows (card top-ups, some declined by the bank; PSP top-ups; counter deposits) and security
events (a login-password reset, a new device, a newly bound card). Nothing here touches a
database: the replay writes each event as the real use case would.

Legitimate traffic is meant to be honest, not easy: daily and hourly rhythms, amounts
log-normal around each person's own scale, people who top up and pay at once (a wallet
holds little), salaries followed by the rent or a transfer home within minutes, Spring
Festival red-envelope bursts of transfers, forgotten passwords reset before paying someone
new, new phones followed by a large transfer, shops depositing cash near the large-cash
threshold, declined card top-ups retried, dormant accounts coming back.

Fraud instances (:class:`Label`), each marked at the movement that does its harm:

- ``account_takeover``: a login-password reset, a new device, then transfers to payees
  never paid before (most >= 1,000 yuan, some kept under it); harm: the first transfer.
- ``mule``: money arrives (transfers from scam victims, or top-ups) and >= 80 % leaves to
  others within 30 minutes; harm: the outflow that takes the total out past 80 %.
- ``structuring``: 3-5 counter deposits of 45,000-49,999 yuan within six days; harm: the
  last one.
- ``card_testing``: a new card, 6-20 small card top-ups within an hour, most declined, then
  a larger top-up once a card works; harm: that top-up.
- ``dormant``: an account silent for over 180 days suddenly sends 2,000-40,000 yuan away;
  harm: the first outflow.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

CHINA: Final = ZoneInfo("Asia/Shanghai")
# The month replayed: February 2026 Beijing time, with the Spring Festival (the 17th) in it.
MONTH_START: Final = datetime(2026, 2, 1, tzinfo=CHINA).astimezone(UTC)
DAYS: Final = 30
FESTIVAL: Final = datetime(2026, 2, 17, tzinfo=CHINA).astimezone(UTC)
HISTORY_DAYS: Final = 90

SPENDS: Final = ("payment", "payment_code", "static_qr", "transfer", "bill", "withdrawal")
INFLOWS: Final = ("card_topup", "psp_topup", "counter_deposit")
SECURITY: Final = ("password_reset", "new_device", "card_bound")
PATTERNS: Final = ("account_takeover", "mule", "structuring", "card_testing", "dormant")
# Instances per user of the population (at least 2 each).
PATTERN_RATES: Final = {
    "account_takeover": 0.02,
    "mule": 0.02,
    "structuring": 0.015,
    "card_testing": 0.02,
    "dormant": 0.01,
}
# Beijing hour-of-day weights of everyday spending (quiet nights, meals and evenings busy).
HOURS: Final = (
    1,
    0.6,
    0.3,
    0.2,
    0.2,
    0.4,
    1.2,
    3,
    4.5,
    4,
    4,
    5,
    7,
    5,
    4,
    4,
    4,
    5,
    7,
    8,
    8,
    7,
    5,
    2.5,
)
CHANNELS: Final = (
    ("payment_code", 0.33, 1.0),
    ("payment", 0.20, 1.8),
    ("static_qr", 0.17, 0.7),
    ("transfer", 0.17, 4.0),
    ("bill", 0.06, 3.0),
    ("withdrawal", 0.07, 10.0),
)
OFFICE: Final = (0,) * 9 + (1,) * 8 + (0,) * 7  # counters open 9:00-17:00
MORNING: Final = (0,) * 9 + (1, 1) + (0,) * 13  # salaries arrive 9:00-11:00
DAY_WEIGHTS: Final = tuple(
    1.25 if (MONTH_START + timedelta(days=day)).weekday() >= 5 else 1.0 for day in range(DAYS)
)
FACTORS: Final = {channel: factor for channel, _, factor in CHANNELS}
LUCKY: Final = (6.66, 8.88, 66, 88, 88, 188, 200, 200, 520, 666, 888)
MERCHANTS: Final = 500
BILLERS: Final = 15


@dataclass(frozen=True, slots=True)
class Label:
    """The fraud instance a movement belongs to; ``harm``: the movement that does the harm."""

    pattern: str
    instance: int
    harm: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happens in the month, in the order of ``at``."""

    at: datetime
    kind: str  # a SpendChannel value, an INFLOWS or a SECURITY kind
    user: int  # index into Traffic.people
    amount: int = 0  # fen
    payee: str | None = None  # the counterparty's id (a user id, "mch_...", "bil_...")
    payee_user: int | None = None  # a transfer's recipient (credited in the ledger)
    device: str | None = None  # the device key it comes from (a new one for new_device)
    card: str | None = None  # the card key a top-up debits (a new one for card_bound)
    declined: bool = False  # a card top-up the bank declines
    label: Label | None = None


@dataclass(slots=True)
class Person:
    id: str
    phone: str
    tier: int
    created_at: datetime
    device: str  # the device key they use before the month
    card: str  # the card key bound before the month
    opening: int  # fen in the wallet when the month starts
    role: str = "legit"  # or the pattern whose dedicated account this is
    # Set while generating.
    scale: float = 50.0  # yuan: the person's everyday amount
    activity: float = 0.0  # spends in the month, expected
    friends: list[int] = field(default_factory=list)
    merchants: list[str] = field(default_factory=list)
    billers: list[str] = field(default_factory=list)
    dormant: bool = False


@dataclass(frozen=True, slots=True)
class Past:
    """A spend of the 90 days before the month (history only, never replayed)."""

    user: int
    at: datetime
    channel: str
    amount: int
    payee: str | None


@dataclass(slots=True)
class Traffic:
    seed: int
    start: datetime
    end: datetime
    people: list[Person]
    history: list[Past]
    events: list[Event]
    instances: dict[str, int]


def _fen(yuan: float) -> int:
    return max(100, round(yuan * 100))


def _minutes(rng: random.Random) -> Callable[[float, float], timedelta]:
    return lambda low, high: timedelta(minutes=rng.uniform(low, high))


def _hours(rng: random.Random) -> Callable[[float, float], timedelta]:
    return lambda low, high: timedelta(hours=rng.uniform(low, high))


class _Generator:
    def __init__(self, seed: int, users: int, movements: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.users = users
        self.movements = movements
        self.people: list[Person] = []
        self.history: list[Past] = []
        self.events: list[Event] = []
        self.instances: dict[str, int] = {}
        self.merchants = [f"mch_bench{index:04d}" for index in range(MERCHANTS)]
        self.billers = [f"bil_bench{index:02d}" for index in range(BILLERS)]
        self.sinks: list[int] = []

    # ------------------------------------------------------------------ time and amounts
    def moment(self, *, day: int | None = None, hours: tuple[float, ...] = HOURS) -> datetime:
        """A Beijing-time moment in the month: weekends a little busier, nights quiet."""
        rng = self.rng
        if day is None:
            day = rng.choices(range(DAYS), DAY_WEIGHTS)[0]
        hour = rng.choices(range(24), hours)[0]
        local = (MONTH_START + timedelta(days=day)).astimezone(CHINA)
        return (local + timedelta(hours=hour, seconds=rng.randrange(3600))).astimezone(UTC)

    def user_id(self, index: int) -> str:
        return f"usr_q{self.seed % 1000:03d}{index:06d}"

    def amount(self, person: Person, factor: float) -> int:
        return min(_fen(person.scale * factor * self.rng.lognormvariate(0, 0.9)), 5_000_000)

    # ------------------------------------------------------------------------ population
    def population(self) -> None:
        rng = self.rng
        counts = {p: max(2, round(self.users * rate)) for p, rate in PATTERN_RATES.items()}
        dedicated = (
            ["mule"] * counts["mule"]
            + ["structuring"] * counts["structuring"]
            + ["card_testing"] * counts["card_testing"]
            + ["sink"] * max(4, self.users // 60)
        )
        roles = dedicated + ["legit"] * max(10, self.users - len(dedicated))
        rng.shuffle(roles)
        mean = self.movements * 0.83 / max(1, roles.count("legit"))
        for index, role in enumerate(roles):
            age = min(3650.0, max(1.0, rng.lognormvariate(math.log(500), 1.0)))
            if role in ("card_testing", "sink") or (role == "mule" and rng.random() < 0.5):
                age = rng.uniform(3, 60)
            person = Person(
                id=self.user_id(index),
                phone=f"+86139{index:08d}",
                tier=rng.choices((1, 2, 3), (0.3, 0.4, 0.3))[0],
                created_at=MONTH_START - timedelta(days=age),
                device=f"dev-{index}-a",
                card=f"card-{index}-a",
                opening=_fen(rng.lognormvariate(math.log(600), 1.1)),
                role=role,
                scale=rng.lognormvariate(math.log(45), 0.7),
                activity=rng.lognormvariate(math.log(mean) - 0.32, 0.8) if role == "legit" else 0,
            )
            person.merchants = rng.sample(self.merchants, 8)
            person.billers = rng.sample(self.billers, 2)
            person.dormant = role == "legit" and age > 200 and rng.random() < 0.03
            self.people.append(person)
        legit = [i for i, p in enumerate(self.people) if p.role == "legit"]
        self.sinks = [i for i, p in enumerate(self.people) if p.role == "sink"]
        for index in legit:
            self.people[index].friends = rng.sample(
                [i for i in rng.sample(legit, 12) if i != index], 5
            )
        self.counts = counts

    def past(self) -> None:
        """The spends of the 90 days before the month (a dormant account's last is older)."""
        rng = self.rng
        for index, person in enumerate(self.people):
            if person.role in ("sink", "card_testing"):
                continue
            if person.dormant:
                when = MONTH_START - timedelta(days=rng.uniform(200, 700))
                self.history.append(
                    Past(index, when, "payment", self.amount(person, 1), person.merchants[0])
                )
                continue
            count = (
                max(2, round(person.activity * 2.5))
                if person.role == "legit"
                else rng.randint(2, 8)
            )
            payees = [
                ("transfer", self.people[f].id) for f in person.friends if rng.random() < 0.85
            ]
            payees += [("payment_code", m) for m in person.merchants] + [
                ("bill", b) for b in person.billers
            ]
            for number in range(count):
                channel, payee = (
                    payees[number % len(payees)] if number < len(payees) else rng.choice(payees)
                )
                when = MONTH_START - timedelta(days=rng.uniform(0.1, HISTORY_DAYS))
                factor = FACTORS[channel]
                self.history.append(Past(index, when, channel, self.amount(person, factor), payee))

    # ------------------------------------------------------------------------- legitimate
    def spend(
        self,
        index: int,
        at: datetime,
        channel: str,
        amount: int,
        new_payee: bool = False,
        device: str | None = None,
    ) -> None:
        person = self.people[index]
        payee: str | None = None
        payee_user: int | None = None
        if channel == "transfer":
            if new_payee or not person.friends or self.rng.random() < 0.15:
                payee_user = self.rng.choice(
                    [i for i in self.rng.sample(range(len(self.people)), 8) if i != index]
                )
            else:
                payee_user = self.rng.choice(person.friends)
            payee = self.people[payee_user].id
        elif channel in ("payment", "payment_code", "static_qr"):
            payee = (
                self.rng.choice(self.merchants)
                if new_payee or self.rng.random() < 0.15
                else self.rng.choice(person.merchants)
            )
        elif channel == "bill":
            payee = self.rng.choice(person.billers)
        self.events.append(Event(at, channel, index, amount, payee, payee_user, device))

    def legitimate(self) -> None:
        rng = self.rng
        names = [c for c, _, _ in CHANNELS]
        weights = [w for _, w, _ in CHANNELS]
        factors = {c: f for c, _, f in CHANNELS}
        for index, person in enumerate(self.people):
            if person.role != "legit":
                continue
            if person.dormant:
                if rng.random() < 0.4:  # back after a long silence: a few spends, rarely a big one
                    for _ in range(rng.randint(1, 4)):
                        channel = rng.choices(names, weights)[0]
                        amount = (
                            _fen(rng.uniform(5000, 12000))
                            if rng.random() < 0.1
                            else self.amount(person, factors[channel])
                        )
                        self.spend(index, self.moment(), channel, amount)
                continue
            for _ in range(max(1, round(person.activity))):
                channel = rng.choices(names, weights)[0]
                self.spend(index, self.moment(), channel, self.amount(person, factors[channel]))
            self.life(index, person)

    def life(self, index: int, person: Person) -> None:
        """The ordinary events that look like fraud if one squints."""
        rng, spend, add = self.rng, self.spend, self.events.append
        minutes, hours = _minutes(rng), _hours(rng)
        if rng.random() < 0.12:  # red envelopes around the Spring Festival
            at = FESTIVAL + timedelta(days=rng.uniform(-3, 3))
            for _ in range(rng.randint(3, 10)):
                at += minutes(1, 8)
                spend(index, at, "transfer", _fen(rng.choice(LUCKY)))
        if rng.random() < 0.3:  # salary from the bank card, and what follows it
            at = self.moment(day=rng.choice((9, 14, 24)), hours=MORNING)
            salary = _fen(rng.lognormvariate(math.log(8000), 0.5))
            add(Event(at, "card_topup", index, salary, card=person.card))
            roll = rng.random()
            if roll < 0.5:  # the rent, right away
                spend(index, at + minutes(3, 60), "transfer", int(salary * rng.uniform(0.25, 0.5)))
            elif roll < 0.6:  # most of it home to the family within minutes
                spend(index, at + minutes(3, 25), "transfer", int(salary * rng.uniform(0.8, 0.95)))
        if rng.random() < 0.03:  # forgot the login password; sometimes pays someone new after
            at = self.moment()
            add(Event(at, "password_reset", index))
            if rng.random() < 0.35:
                channel = rng.choice(("transfer", "payment"))
                spend(index, at + hours(0.3, 20), channel, _fen(rng.uniform(1000, 6000)), True)
        if rng.random() < 0.05:  # a new phone; sometimes a large transfer soon after
            at = self.moment()
            device = f"{person.device}-new"
            add(Event(at, "new_device", index, device=device))
            if rng.random() < 0.25:  # the password went with the old phone: reset, then pay
                reset = at + minutes(5, 60)
                add(Event(reset, "password_reset", index))
                if rng.random() < 0.4:
                    amount = _fen(rng.uniform(200, 3000))
                    spend(index, reset + hours(0.2, 20), "transfer", amount, True, device)
            if rng.random() < 0.3:
                amount = _fen(rng.uniform(2000, 8000))
                spend(index, at + hours(0.5, 20), "transfer", amount, device=device)
        if rng.random() < 0.02:  # a shop depositing takings at the counter
            for day in sorted(rng.sample(range(DAYS), rng.randint(2, 5))):
                near = rng.random() < 0.15
                amount = _fen(rng.uniform(45000, 49900) if near else rng.uniform(2000, 30000))
                add(Event(self.moment(day=day, hours=OFFICE), "counter_deposit", index, amount))
        if rng.random() < 0.2:  # topping up ahead of need
            kind = rng.choice(("card_topup", "psp_topup"))
            amount = _fen(rng.choice((200, 500, 1000, 2000)))
            add(Event(self.moment(), kind, index, amount, card=person.card))

    # ------------------------------------------------------------------------------ fraud
    def label(self, pattern: str) -> int:
        self.instances[pattern] = self.instances.get(pattern, 0) + 1
        return self.instances[pattern]

    def window(self) -> datetime:
        return MONTH_START + timedelta(days=self.rng.uniform(1, DAYS - 2))

    def send(
        self, at: datetime, user: int, amount: int, to: int, label: Label, **more: Any
    ) -> None:
        """A transfer from ``user`` to the person ``to``."""
        self.events.append(
            Event(at, "transfer", user, amount, self.people[to].id, to, **more, label=label)
        )

    def takeover(self, victim: int) -> None:
        rng, minutes = self.rng, _minutes(self.rng)
        number = self.label("account_takeover")
        label, device, at = Label("account_takeover", number), f"ato-{number}", self.window()
        self.events.append(Event(at, "password_reset", victim, label=label))
        self.events.append(
            Event(at + minutes(1, 10), "new_device", victim, device=device, label=label)
        )
        roll = rng.random()  # most take >= 1,000 a time; some stay under it, in more transfers
        low, high, count = (
            (2000, 15000, rng.randint(1, 3)) if roll < 0.6 else (1000, 1999, rng.randint(2, 4))
        )
        if roll >= 0.85:
            low, high, count = 300, 999, rng.randint(3, 6)
        at += minutes(12, 60)
        for step in range(count):
            harm = Label("account_takeover", number, harm=step == 0)
            self.send(
                at,
                victim,
                _fen(rng.uniform(low, high)),
                rng.choice(self.sinks),
                harm,
                device=device,
            )
            at += minutes(1, 12)

    def mule(self, mule: int, victims: list[int]) -> None:
        rng, minutes = self.rng, _minutes(self.rng)
        number = self.label("mule")
        label, at, inflow = Label("mule", number), self.window(), 0
        for victim in rng.sample(victims, rng.randint(1, 3)):  # scam victims' money, or cards'
            amount = _fen(rng.lognormvariate(math.log(2500), 0.8))
            if rng.random() < 0.5:
                self.send(at, victim, amount, mule, label)
            else:
                kind = rng.choice(("card_topup", "psp_topup"))
                self.events.append(
                    Event(at, kind, mule, amount, card=self.people[mule].card, label=label)
                )
            inflow += amount
            at += minutes(0.5, 4)
        out_total, parts, sent = int(inflow * rng.uniform(0.82, 1.0)), rng.randint(1, 4), 0
        for part in range(parts):
            at += minutes(1, 15 / parts)
            share = int(out_total / parts * rng.uniform(0.8, 1.2))
            amount = out_total - sent if part == parts - 1 else share
            harm = sent < 0.8 * inflow <= sent + amount
            sent += amount
            self.send(at, mule, amount, rng.choice(self.sinks), Label("mule", number, harm))

    def structuring(self, user: int) -> None:
        rng = self.rng
        number = self.label("structuring")
        first = rng.randrange(DAYS - 7)
        days = sorted(first + d for d in rng.sample(range(7), rng.randint(3, 5)))
        for step, day in enumerate(days):
            amount = rng.randrange(450, 500) * 10_000
            label = Label("structuring", number, harm=step == len(days) - 1)
            at = self.moment(day=day, hours=OFFICE)
            self.events.append(Event(at, "counter_deposit", user, amount, label=label))

    def card_testing(self, user: int) -> None:
        rng, minutes = self.rng, _minutes(self.rng)
        number = self.label("card_testing")
        label, card, at = Label("card_testing", number), f"stolen-{number}", self.window()
        self.events.append(Event(at, "card_bound", user, card=card, label=label))
        for _ in range(rng.randint(6, 20)):
            at += minutes(0.5, 3)
            amount, declined = _fen(rng.choice((1, 1, 2, 5, 9.9, 10, 20, 50))), rng.random() < 0.85
            self.events.append(
                Event(at, "card_topup", user, amount, card=card, declined=declined, label=label)
            )
        cash_out = Label("card_testing", number, harm=True)
        amount = _fen(rng.uniform(300, 3000))
        self.events.append(
            Event(at + minutes(1, 5), "card_topup", user, amount, card=card, label=cash_out)
        )

    def dormant(self, user: int) -> None:
        rng = self.rng
        number = self.label("dormant")
        at = self.window()
        for step in range(rng.randint(1, 2)):
            amount = _fen(min(40000, max(2000, rng.lognormvariate(math.log(8000), 0.7))))
            label = Label("dormant", number, harm=step == 0)
            if rng.random() < 0.5:
                self.events.append(Event(at, "withdrawal", user, amount, label=label))
            else:
                self.send(at, user, amount, rng.choice(self.sinks), label)
            at += _minutes(rng)(2, 30)

    def fraud(self) -> None:
        rng = self.rng
        legit = [i for i, p in enumerate(self.people) if p.role == "legit" and not p.dormant]
        for _ in range(self.counts["account_takeover"]):
            self.takeover(rng.choice(legit))
        patterns = {"mule": lambda i: self.mule(i, legit), "structuring": self.structuring}
        patterns["card_testing"] = self.card_testing
        for index, person in enumerate(self.people):
            if person.role in patterns:
                patterns[person.role](index)
        for _ in range(self.counts["dormant"]):  # silent for 200-700 days, then emptied
            victim = len(self.people)
            created = MONTH_START - timedelta(days=rng.uniform(400, 2000))
            person = Person(
                self.user_id(victim),
                f"+86139{victim:08d}",
                rng.choice((1, 2, 3)),
                created,
                f"dev-{victim}-a",
                f"card-{victim}-a",
                0,
                role="dormant",
                dormant=True,
            )
            person.merchants = self.merchants[:1]
            self.people.append(person)
            last = MONTH_START - timedelta(days=rng.uniform(200, 700))
            self.history.append(
                Past(victim, last, "payment", _fen(rng.uniform(20, 300)), self.merchants[0])
            )
            self.dormant(victim)

    # ------------------------------------------------------------------------- balances
    def fund(self) -> list[Event]:
        """Walk the month in order with every wallet's balance: a legitimate spend the
        wallet cannot cover is preceded by a top-up minutes before (people top up and pay
        at once); a fraud outflow the plan did not fund raises the opening balance."""
        rng = self.rng
        ordered = sorted(self.events, key=lambda e: e.at)
        balance = [p.opening for p in self.people]
        out: list[Event] = []
        for event in ordered:
            if event.kind in ("card_topup", "psp_topup", "counter_deposit"):
                if not event.declined:
                    balance[event.user] += event.amount
            elif event.kind in SPENDS:
                short = event.amount - balance[event.user]
                if short > 0 and event.label is None:
                    top = math.ceil(short / 10_000) * 10_000 + rng.choice(
                        (0, 10_000, 20_000, 50_000)
                    )
                    card = self.people[event.user].card
                    at = event.at - timedelta(minutes=rng.uniform(1, 8))
                    if rng.random() < 0.04:  # the bank declines it once; tried again
                        out.append(
                            Event(
                                at - timedelta(minutes=2),
                                "card_topup",
                                event.user,
                                top,
                                card=card,
                                declined=True,
                            )
                        )
                    out.append(
                        Event(
                            at,
                            rng.choice(("card_topup", "card_topup", "psp_topup")),
                            event.user,
                            top,
                            card=card,
                        )
                    )
                    balance[event.user] += top
                elif short > 0:
                    self.people[event.user].opening += short
                    balance[event.user] += short
                balance[event.user] -= event.amount
                if event.payee_user is not None:
                    balance[event.payee_user] += event.amount
            out.append(event)
        return sorted(out, key=lambda e: e.at)


def generate(*, seed: int = 2026, users: int = 2000, movements: int = 50_000) -> Traffic:
    """The month: ``users`` people (a few dedicated fraud accounts among them) and about
    ``movements`` spends and inflows, the same for the same arguments."""
    generator = _Generator(seed, users, movements)
    generator.population()
    generator.past()
    generator.legitimate()
    generator.fraud()
    events = generator.fund()
    end = MONTH_START + timedelta(days=DAYS)
    return Traffic(
        seed, MONTH_START, end, generator.people, generator.history, events, generator.instances
    )
