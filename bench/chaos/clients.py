"""Set-up through the real API, and the clients that retry with the same key.

Every money request carries an ``Idempotency-Key``. A client sends it again, with the same
key and body, after anything that is not a definite answer -- a dropped or refused
connection, a timeout, any ``5xx``, ``409 request_in_progress``, ``429 rate_limited`` --
with a short back-off, until a definite answer or a bound (attempts and seconds). Every
attempt is recorded with its time relative to the run's start, so a ``5xx`` can be set
against the fault windows. Now and then a definite answer is asked for once more with the
same key (a *probe*): it must be the same answer.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg
import httpx

LOGIN_PASSWORD: Final = "Chaos-Run-2026!"
PIN: Final = "258036"
MONEY_KINDS: Final = ("transfer", "payment", "refund", "topup", "withdrawal")
# Fen parts that drive the sandbox bank into a fault on an approving card (docs/sandbox.md).
FAULT_FEN: Final = {
    51: "timeout",
    52: "error_after_commit",
    53: "decline",
    54: "insufficient_funds",
    55: "slow",
    56: "drop_after_commit",
}


@dataclass(frozen=True, slots=True)
class TestCard:
    number: str
    holder: str
    id_number: str
    phone: str
    bank_code: str


# The sandbox's approving debit cards (docs/sandbox.md); faults come from the fen part.
CARDS: Final = (
    TestCard("6212260200001234562", "张伟", "110101198503121239", "13800138001", "ICBC"),
    TestCard("6210811000023456781", "王芳", "310104199007152344", "13800138002", "CCB"),
    TestCard("6212820000034567894", "李娜", "440305198801013458", "13800138003", "ABC"),
)
CARD_WEIGHTS: Final = (5, 3, 1)


@dataclass
class Attempt:
    start: float
    end: float
    status: int | None
    error: str | None = None
    code: str | None = None
    resource_id: str | None = None
    resource_status: str | None = None
    replayed: bool = False
    probe: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False)}


@dataclass
class Operation:
    """One logical request (one key) and everything that happened to it."""

    kind: str
    key: str
    actor: str
    amount_fen: int
    phase: str
    detail: dict[str, Any] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    # "ok" (2xx), "refused" (a definite 4xx) or "gave_up" (bound reached, no answer).
    outcome: str = "gave_up"
    status: int | None = None
    code: str | None = None
    resource_id: str | None = None
    resource_status: str | None = None

    @property
    def definite(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status is not None and not _retryable(a)]

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "actor": self.actor,
            "amount_fen": self.amount_fen,
            **self.detail,
            "outcome": self.outcome,
            "status": self.status,
            "code": self.code,
            "id": self.resource_id,
            "attempts": [a.as_dict() for a in self.attempts],
        }


def _retryable(attempt: Attempt) -> bool:
    if attempt.status is None:
        return True
    if attempt.status >= 500:
        return True
    if attempt.status == 409 and attempt.code == "request_in_progress":
        return True
    return attempt.status == 429 and attempt.code in ("rate_limited", "server_busy")


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class Person:
    index: int
    phone: str
    access_token: str = ""
    refresh_token: str = ""
    card_id: str = ""
    card: TestCard = CARDS[0]


@dataclass
class Shop:
    name: str
    merchant_id: str
    api_key: str


@dataclass
class Bounds:
    # Past the idempotency lease (60 s) a crashed run holds its key for.
    attempts: int = 80
    seconds: float = 150.0
    request_timeout: float = 15.0


class Caller:
    """HTTP with retries on the same key; records each attempt on the operation."""

    def __init__(self, base_url: str, clock: Callable[[], float], bounds: Bounds) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=bounds.request_timeout,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )
        self.clock = clock
        self.bounds = bounds
        self.refresh: Callable[[Person], Any] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def once(
        self, method: str, path: str, *, headers: dict[str, str], body: Any, kind: str
    ) -> Attempt:
        start = self.clock()
        try:
            response = await self.http.request(method, path, headers=headers, json=body)
        except httpx.HTTPError as error:
            return Attempt(start, self.clock(), None, error=type(error).__name__)
        attempt = Attempt(start, self.clock(), response.status_code)
        attempt.replayed = response.headers.get("idempotent-replayed") == "true"
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            if response.status_code >= 400:
                attempt.code = str(data.get("code")) if data.get("code") else None
            else:
                resource = data.get(kind)
                if isinstance(resource, dict):
                    attempt.resource_id = resource.get("id")
                    attempt.resource_status = resource.get("status")
        return attempt

    async def run(
        self,
        op: Operation,
        method: str,
        path: str,
        *,
        body: Any,
        auth: Callable[[], dict[str, str]],
        person: Person | None = None,
        probe: bool = False,
    ) -> Operation:
        """Send until a definite answer or the bounds; then maybe probe the key once more."""
        began = time.monotonic()
        delay = 0.1
        refreshed = False
        while True:
            headers = {**auth(), "Idempotency-Key": op.key}
            attempt = await self.once(method, path, headers=headers, body=body, kind=op.kind)
            if (
                attempt.status == 401
                and person is not None
                and not refreshed
                and self.refresh is not None
            ):
                refreshed = True  # an expired access token is not an answer about the key
                await self.refresh(person)
                continue
            op.attempts.append(attempt)
            if not _retryable(attempt):
                _settle(op, attempt)
                break
            if len(op.attempts) >= self.bounds.attempts or (
                time.monotonic() - began >= self.bounds.seconds
            ):
                break
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
        if probe and op.outcome != "gave_up":
            again = await self.once(
                method,
                path,
                headers={**auth(), "Idempotency-Key": op.key},
                body=body,
                kind=op.kind,
            )
            again.probe = True
            op.attempts.append(again)
        return op


def _settle(op: Operation, attempt: Attempt) -> None:
    assert attempt.status is not None
    op.outcome = "ok" if attempt.status < 400 else "refused"
    op.status = attempt.status
    op.code = attempt.code
    op.resource_id = attempt.resource_id
    op.resource_status = attempt.resource_status


class World:
    """The people, shops and recorded operations of one run."""

    def __init__(
        self, caller: Caller, *, bank_url: str, db_dsn: str, seed: int, phone_prefix: str
    ) -> None:
        self.caller = caller
        self.bank_url = bank_url
        self.db_dsn = db_dsn
        self.rng = random.Random(seed)
        self.phone_prefix = phone_prefix
        self.people: list[Person] = []
        self.shops: list[Shop] = []
        self.operations: list[Operation] = []
        self.orders: list[Operation] = []
        caller.refresh = self._refresh

    # ------------------------------------------------------------------ set-up

    def user_auth(self, person: Person) -> Callable[[], dict[str, str]]:
        return lambda: {"Authorization": f"Bearer {person.access_token}"}

    async def _refresh(self, person: Person) -> None:
        response = await self.caller.http.post(
            "/v1/sessions/refresh", json={"refresh_token": person.refresh_token}
        )
        if response.status_code == 201:
            tokens = response.json()["tokens"]
            person.access_token = tokens["access_token"]
            person.refresh_token = tokens["refresh_token"]

    async def _expect(
        self, method: str, path: str, status: tuple[int, ...], **kwargs: Any
    ) -> dict[str, Any]:
        for _ in range(30):
            try:
                response = await self.caller.http.request(method, path, **kwargs)
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 500:
                await asyncio.sleep(0.5)
                continue
            if response.status_code not in status:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            data: dict[str, Any] = response.json() if response.content else {}
            return data
        raise RuntimeError(f"{method} {path}: no answer")

    async def _wallet_sms_code(self, phone: str) -> str:
        connection = await asyncpg.connect(self.db_dsn)
        try:
            for _ in range(300):
                code = await connection.fetchval(
                    "SELECT code FROM sms_messages WHERE recipient = $1 AND code IS NOT NULL "
                    "ORDER BY id DESC LIMIT 1",
                    "+86" + phone,
                )
                if code:
                    return str(code)
                await asyncio.sleep(0.1)
        finally:
            await connection.close()
        raise RuntimeError(f"no SMS code reached the outbox for {phone}")

    async def _bank_sms_code(self, phone: str) -> str:
        async with httpx.AsyncClient(base_url=self.bank_url, timeout=10) as bank:
            texts = (await bank.get("/sms", params={"phone": phone, "limit": 1})).json()
        return str(texts[-1]["code"])

    async def register(self, index: int) -> Person:
        person = Person(index, f"{self.phone_prefix}{index:04d}")
        await self._expect(
            "POST",
            "/v1/verification-codes",
            (202,),
            json={"phone": person.phone, "purpose": "register"},
        )
        code = await self._wallet_sms_code(person.phone)
        body = await self._expect(
            "POST",
            "/v1/users",
            (201,),
            json={
                "phone": person.phone,
                "verification_code": code,
                "login_password": LOGIN_PASSWORD,
                "locale": "en",
            },
        )
        person.access_token = body["tokens"]["access_token"]
        person.refresh_token = body["tokens"]["refresh_token"]
        auth = self.user_auth(person)()
        await self._expect(
            "PUT",
            "/v1/me/payment-password",
            (204,),
            headers=auth,
            json={"payment_password": PIN},
        )
        return person

    async def bind_card(self, person: Person) -> None:
        """Cards of one bank phone are bound one at a time (the code goes to that phone)."""
        card = self.rng.choices(CARDS, weights=CARD_WEIGHTS)[0]
        auth = self.user_auth(person)()
        started = await self._expect(
            "POST",
            "/v1/me/cards",
            (202,),
            headers=auth,
            json={
                "card_number": card.number,
                "holder_name": card.holder,
                "id_number": card.id_number,
                "bank_phone": card.phone,
            },
        )
        card_id = str(started["card"]["id"])
        code = await self._bank_sms_code(card.phone)
        await self._expect(
            "POST",
            f"/v1/me/cards/{card_id}/verify",
            (200,),
            headers=auth,
            json={"verification_code": code},
        )
        person.card_id, person.card = card_id, card

    # ------------------------------------------------------------------ operations

    def _new(self, kind: str, actor: str, amount: int, phase: str, **detail: Any) -> Operation:
        op = Operation(kind, f"chaos-{uuid.uuid4().hex}", actor, amount, phase, dict(detail))
        self.operations.append(op)
        return op

    def _probe(self) -> bool:
        return self.rng.random() < 0.1

    async def transfer(self, person: Person, payee: Person, fen: int, phase: str) -> Operation:
        op = self._new("transfer", person.phone, fen, phase, payee=payee.phone)
        body = {
            "to_phone": payee.phone,
            "amount": fen_text(fen),
            "payment_password": PIN,
            "acknowledge_new_payee": True,  # the scam warning, confirmed as a person would
        }
        return await self.caller.run(
            op,
            "POST",
            "/v1/transfers",
            body=body,
            auth=self.user_auth(person),
            person=person,
            probe=self._probe(),
        )

    async def topup(self, person: Person, fen: int, phase: str) -> Operation:
        op = self._new(
            "topup",
            person.phone,
            fen,
            phase,
            bank=person.card.bank_code,
            fault=FAULT_FEN.get(fen % 100),
        )
        body = {
            "method": "card",
            "card_id": person.card_id,
            "amount": fen_text(fen),
            "payment_password": PIN,
        }
        return await self.caller.run(
            op,
            "POST",
            "/v1/topups",
            body=body,
            auth=self.user_auth(person),
            person=person,
            probe=self._probe(),
        )

    async def withdrawal(self, person: Person, fen: int, phase: str) -> Operation:
        op = self._new(
            "withdrawal",
            person.phone,
            fen,
            phase,
            bank=person.card.bank_code,
            fault=FAULT_FEN.get(fen % 100),
        )
        body = {"card_id": person.card_id, "amount": fen_text(fen), "payment_password": PIN}
        return await self.caller.run(
            op,
            "POST",
            "/v1/withdrawals",
            body=body,
            auth=self.user_auth(person),
            person=person,
            probe=self._probe(),
        )

    async def order(self, shop: Shop, fen: int) -> Operation:
        """An order to pay (not a money operation: retried with its ``out_trade_no``)."""
        trade_no = f"CH-{uuid.uuid4().hex[:24]}"
        op = Operation(
            "order", f"chaos-{uuid.uuid4().hex}", shop.name, fen, "load", {"out_trade_no": trade_no}
        )
        self.orders.append(op)
        body = {"out_trade_no": trade_no, "amount": fen_text(fen), "subject": "chaos"}
        return await self.caller.run(
            op,
            "POST",
            "/v1/merchant/orders",
            body=body,
            auth=lambda: {"Authorization": f"Bearer {shop.api_key}"},
        )

    async def payment(self, person: Person, shop: Shop, order: Operation) -> Operation:
        op = self._new(
            "payment",
            person.phone,
            order.amount_fen,
            "load",
            shop=shop.name,
            order_id=order.resource_id,
        )
        body = {"order_id": order.resource_id, "payment_password": PIN}
        return await self.caller.run(
            op,
            "POST",
            "/v1/payments",
            body=body,
            auth=self.user_auth(person),
            person=person,
            probe=self._probe(),
        )

    async def refund(self, shop: Shop, order_id: str, fen: int) -> Operation:
        refund_no = f"CR-{uuid.uuid4().hex[:24]}"
        op = self._new("refund", shop.name, fen, "load", order_id=order_id, out_refund_no=refund_no)
        body = {"amount": fen_text(fen), "out_refund_no": refund_no}
        return await self.caller.run(
            op,
            "POST",
            f"/v1/merchant/orders/{order_id}/refunds",
            body=body,
            auth=lambda: {"Authorization": f"Bearer {shop.api_key}"},
            probe=self._probe(),
        )

    # ------------------------------------------------------------------ the mix

    def _bank_amount(self, low: int, high: int, fault_share: float) -> int:
        """Whole yuan in [low, high] plus a fen part: a fault one with ``fault_share``."""
        yuan = self.rng.randint(low, high)
        if self.rng.random() < fault_share:
            return yuan * 100 + self.rng.choice(sorted(FAULT_FEN))
        fen = self.rng.randint(0, 99)
        while fen in FAULT_FEN:
            fen = self.rng.randint(0, 99)
        return yuan * 100 + fen

    async def one(self, person: Person, fault_share: float) -> None:
        """One operation of the mix (a payment may bring its refund along)."""
        roll = self.rng.random()
        if roll < 0.35:
            partner = self.people[person.index ^ 1] if person.index ^ 1 < len(self.people) else None
            if partner is None or self.rng.random() < 0.4:
                partner = self.rng.choice([p for p in self.people if p is not person])
            await self.transfer(person, partner, self.rng.randint(1, 3000), "load")
        elif roll < 0.65:
            shop = self.rng.choice(self.shops)
            order = await self.order(shop, self.rng.randint(100, 6000))
            if order.outcome != "ok" or order.resource_id is None:
                return
            paid = await self.payment(person, shop, order)
            if paid.outcome == "ok" and self.rng.random() < 0.35:
                share = self.rng.choice([1.0, 0.5, 0.25])
                await self.refund(shop, order.resource_id, max(1, int(order.amount_fen * share)))
        elif roll < 0.83:
            await self.topup(person, self._bank_amount(10, 120, fault_share), "load")
        else:
            await self.withdrawal(person, self._bank_amount(5, 80, fault_share), "load")

    def load_count(self) -> int:
        return sum(1 for op in self.operations if op.phase == "load")
