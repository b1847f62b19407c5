"""The steps of a demo run: each one real API call (or a few) on the walking clock.

The records of a run (who was created, what happened) live here too;
:mod:`ewallet.demo.seed` writes the four weeks' script with these steps.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.demo.people import LOGIN_PASSWORD, MERCHANTS, PEOPLE, PIN, DemoMerchant, DemoPerson
from ewallet.http.deps import app_services
from ewallet.identity.codes.service import issue_code
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.service import create_merchant, rotate_api_key
from ewallet.models.identity import CodePurpose
from ewallet.models.tables import merchants, sms_messages, users

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
DAYS: Final = 28


class DemoRefusedError(RuntimeError):
    """Seeding is for development databases only."""


class DemoStepError(RuntimeError):
    """The API refused a step of the demo script (it should not: the script is fixed)."""


@dataclass(frozen=True, slots=True)
class SeededUser:
    person: DemoPerson
    user_id: str
    created: bool


@dataclass(frozen=True, slots=True)
class SeededMerchant:
    merchant: DemoMerchant
    merchant_id: str
    api_key: str
    created: bool


@dataclass
class SeedReport:
    users: list[SeededUser] = field(default_factory=list)
    merchants: list[SeededMerchant] = field(default_factory=list)
    activity: Counter[str] = field(default_factory=Counter)
    ledger_clean: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "login_password": LOGIN_PASSWORD,
            "payment_password": PIN,
            "users": [
                {
                    "id": user.user_id,
                    "phone": user.person.phone,
                    "real_name": user.person.real_name,
                    "tier": user.person.tier,
                    "card_last_four": user.person.card.number[-4:] if user.person.card else None,
                    "created": user.created,
                }
                for user in self.users
            ],
            "merchants": [
                {
                    "id": seeded.merchant_id,
                    "name": seeded.merchant.name,
                    "category": seeded.merchant.category,
                    "accepts_wallet": seeded.merchant.accepts_wallet,
                    "api_key": seeded.api_key,
                    "created": seeded.created,
                }
                for seeded in self.merchants
            ],
            "activity": dict(sorted(self.activity.items())),
            "ledger_clean": self.ledger_clean,
        }


@dataclass
class _Session:
    """A signed-in demo user: the access token is refreshed when the walking clock ages it."""

    seeded: SeededUser
    refresh_token: str
    access_token: str
    issued_at: datetime
    card_id: str | None = None


class DemoSteps:
    """The API calls a demo run is made of, on a walking clock; :class:`Seeder` scripts them."""

    def __init__(
        self, client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock, *, seed: int = 2026
    ):
        self.client = client
        self.app = app
        self.clock = clock
        self.random = random.Random(seed)  # noqa: S311 -- a repeatable script, not secrets
        self.report = SeedReport()
        self.sessions: dict[str, _Session] = {}
        self.api_keys: dict[str, str] = {}

    @property
    def engine(self) -> AsyncEngine:
        return app_services(self.app).engine

    # ------------------------------------------------------------------ HTTP helpers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200, 201),
        idempotent: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        headers = dict(headers or {})
        if idempotent:
            headers["Idempotency-Key"] = f"demo-{uuid.uuid4()}"
        response = await self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code not in expect:
            raise DemoStepError(f"{method} {path}: {response.status_code} {response.text}")
        return cast(dict[str, Any], response.json()) if response.content else {}

    async def _auth(self, session: _Session) -> dict[str, str]:
        if self.clock.now() - session.issued_at > timedelta(minutes=10):
            body = await self._call(
                "POST", "/v1/sessions/refresh", json={"refresh_token": session.refresh_token}
            )
            session.refresh_token = body["tokens"]["refresh_token"]
            session.access_token = body["tokens"]["access_token"]
            session.issued_at = self.clock.now()
        return {"Authorization": f"Bearer {session.access_token}"}

    async def _as_user(
        self, session: _Session, method: str, path: str, **kwargs: Any
    ) -> dict[str, Any]:
        headers = await self._auth(session)
        return await self._call(method, path, headers=headers, **kwargs)

    def _merchant_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_keys[key]}"}

    def _at(self, day: datetime, hour: int, minute: int) -> None:
        """Move the clock forward to ``hour:minute`` (Shanghai) of ``day``; never back."""
        when = day.replace(hour=hour, minute=minute)
        if when > self.clock.now():
            self.clock.set(when)

    # ------------------------------------------------------------------ merchants and users

    async def merchants(self) -> None:
        services = app_services(self.app)
        for demo in MERCHANTS:
            existing = await self._merchant_id(demo.name)
            if existing is None:
                created = await create_merchant(
                    services,
                    Actor.system(),
                    name=demo.name,
                    category=demo.category,
                    accepts_wallet=demo.accepts_wallet,
                )
                merchant_id, api_key = created.merchant.id, created.api_key
            else:
                _view, api_key = await rotate_api_key(
                    services, Actor.system(), merchant_id=existing
                )
                merchant_id = existing
            self.api_keys[demo.key] = api_key
            self.report.merchants.append(
                SeededMerchant(demo, merchant_id, api_key, created=existing is None)
            )

    async def _merchant_id(self, name: str) -> str | None:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(merchants.c.id).where(merchants.c.name == name).order_by(merchants.c.id)
            )
        return None if found is None else str(found)

    async def _user_id(self, phone: str) -> str | None:
        async with self.engine.connect() as conn:
            found = await conn.scalar(select(users.c.id).where(users.c.phone == phone))
        return None if found is None else str(found)

    async def users(self) -> None:
        for person in PEOPLE:
            existing = await self._user_id(person.phone)
            if existing is not None:
                self.report.users.append(SeededUser(person, existing, created=False))
                continue
            session = await self._register(person)
            self.report.users.append(session.seeded)
            self.sessions[person.key] = session
            self.clock.set(self.clock.now() + timedelta(minutes=7))

    async def _register(self, person: DemoPerson) -> _Session:
        code = await self._sms_code(person.phone)
        body = await self._call(
            "POST",
            "/v1/users",
            json={
                "phone": person.phone,
                "verification_code": code,
                "login_password": LOGIN_PASSWORD,
                "locale": person.locale,
            },
        )
        tokens = body["tokens"]
        session = _Session(
            SeededUser(person, body["user"]["id"], created=True),
            refresh_token=tokens["refresh_token"],
            access_token=tokens["access_token"],
            issued_at=self.clock.now(),
        )
        self.report.activity["registrations"] += 1
        await self._as_user(
            session, "PUT", "/v1/me/payment-password", json={"payment_password": PIN}, expect=(204,)
        )
        if person.real_name is not None:
            await self._as_user(
                session,
                "POST",
                "/v1/me/identity",
                json={"real_name": person.real_name, "id_number": person.id_number},
            )
        if person.card is not None:
            session.card_id = await self._bind(session, person)
        return session

    async def _sms_code(self, phone: str) -> str:
        """A registration code made by the code service itself (no SMS round trip)."""
        settings: Settings = self.app.state.settings

        async def work(uow: UnitOfWork) -> str:
            issued = await issue_code(
                await uow.connection(),
                clock=self.clock,
                settings=settings,
                digest=self.app.state.security.digest,
                phone=phone,
                purpose=CodePurpose.REGISTER,
                client_ip=None,
            )
            return issued.code

        return await run_unit(self.engine, work)

    async def _bind(self, session: _Session, person: DemoPerson) -> str:
        card = person.card
        assert card is not None
        started = await self._as_user(
            session,
            "POST",
            "/v1/me/cards",
            expect=(202,),
            json={
                "card_number": card.number,
                "holder_name": card.holder_name,
                "id_number": card.id_number,
                "bank_phone": card.bank_phone,
            },
        )
        card_id = str(started["card"]["id"])
        async with self.engine.connect() as conn:
            code = await conn.scalar(
                select(sms_messages.c.code)
                .where(
                    sms_messages.c.recipient == "+86" + card.bank_phone,
                    sms_messages.c.sender == card.bank_name,
                )
                .order_by(sms_messages.c.id.desc())
                .limit(1)
            )
        await self._as_user(
            session, "POST", f"/v1/me/cards/{card_id}/verify", json={"verification_code": code}
        )
        self.report.activity["cards_bound"] += 1
        return card_id

    # ------------------------------------------------------------------ money movements

    async def available(self, session: _Session) -> Decimal:
        wallet = await self._as_user(session, "GET", "/v1/me/wallet")
        return sum((Decimal(b["available"]) for b in wallet["balances"]), Decimal(0))

    async def top_up(self, session: _Session, amount: Decimal) -> None:
        if session.card_id is not None:
            await self._as_user(
                session,
                "POST",
                "/v1/topups",
                idempotent=True,
                json={
                    "method": "card",
                    "card_id": session.card_id,
                    "amount": str(amount),
                    "payment_password": PIN,
                },
            )
            self.report.activity["card_topups"] += 1
            return
        method = self.random.choice(["alipay", "wechat_pay"])
        started = await self._as_user(
            session,
            "POST",
            "/v1/topups",
            idempotent=True,
            json={"method": method, "amount": str(amount)},
        )
        topup_id = started["topup"]["id"]
        pay_path = {"alipay": "/sandbox/alipay/pay", "wechat_pay": "/sandbox/wechat-pay/pay"}
        await self._call("POST", f"{pay_path[method]}/{topup_id}")
        await self._until_credited(session, topup_id)
        self.report.activity[f"{method}_topups"] += 1

    async def _until_credited(self, session: _Session, topup_id: str) -> None:
        """The PSP's notification arrives asynchronously; wait for the credit it brings."""
        async with asyncio.timeout(30):
            while True:
                body = await self._as_user(session, "GET", f"/v1/topups/{topup_id}")
                if body["topup"]["status"] == "succeeded":
                    return
                await asyncio.sleep(0.05)

    async def ensure_funds(self, session: _Session, amount: Decimal) -> None:
        if await self.available(session) < amount + Decimal(50):
            top_up = Decimal(self.random.choice([500, 800, 1000, 1500]))
            if session.seeded.person.tier == 1:
                top_up = Decimal(200)
            await self.top_up(session, max(top_up, amount + Decimal(100)))

    async def buy(self, session: _Session, merchant: str, amount: Decimal, subject: str) -> str:
        await self.ensure_funds(session, amount)
        headers = self._merchant_headers(merchant)
        created = await self._call(
            "POST",
            "/v1/merchant/orders",
            headers=headers,
            json={
                "out_trade_no": f"DEMO-{uuid.uuid4().hex[:20]}",
                "amount": str(amount),
                "subject": subject,
            },
        )
        order_id = str(created["order"]["id"])
        await self._as_user(
            session,
            "POST",
            "/v1/payments",
            idempotent=True,
            json={"order_id": order_id, "payment_password": PIN},
        )
        self.report.activity["payments"] += 1
        return order_id

    async def refund(self, merchant: str, order_id: str, amount: Decimal) -> None:
        await self._call(
            "POST",
            f"/v1/merchant/orders/{order_id}/refunds",
            headers=self._merchant_headers(merchant),
            idempotent=True,
            json={"amount": str(amount), "out_refund_no": f"R-{uuid.uuid4().hex[:20]}"},
        )
        self.report.activity["refunds"] += 1

    async def transfer(self, session: _Session, to: DemoPerson, amount: Decimal, memo: str) -> None:
        await self.ensure_funds(session, amount)
        await self._as_user(
            session,
            "POST",
            "/v1/transfers",
            idempotent=True,
            json={
                "to_phone": to.phone,
                "amount": str(amount),
                "payment_password": PIN,
                "memo": memo,
                "acknowledge_new_payee": True,  # the demo people know each other
            },
        )
        self.report.activity["transfers"] += 1

    async def withdraw(self, session: _Session, amount: Decimal) -> None:
        """Cash out to the bound card (people without a card have nowhere to withdraw to)."""
        if session.card_id is None:
            return
        await self.ensure_funds(session, amount + Decimal(100))
        await self._as_user(
            session,
            "POST",
            "/v1/withdrawals",
            idempotent=True,
            json={"card_id": session.card_id, "amount": str(amount), "payment_password": PIN},
        )
        self.report.activity["withdrawals"] += 1

    @property
    def bills(self) -> bool:
        """Whether this build pays bills (the feature arrived after the demo data)."""
        return "/v1/bill-payments" in self.app.openapi()["paths"]

    async def pay_electricity(self, session: _Session) -> None:
        """Last month's electricity bill: looked up, then paid in full with the PIN."""
        number = PEOPLE.index(session.seeded.person) + 1
        bill = {"biller_id": "sgcc_bj", "account_no": f"1100000{number:03d}"}
        due = await self._as_user(session, "POST", "/v1/bills/lookup", json=bill)
        amount = Decimal(due["amount_due"]["amount"])
        await self.ensure_funds(session, amount)
        await self._as_user(
            session,
            "POST",
            "/v1/bill-payments",
            idempotent=True,
            expect=(201, 202),
            json={**bill, "amount": str(amount), "payment_password": PIN},
        )
        self.report.activity["bill_payments"] += 1

    async def top_up_phone(self, session: _Session, amount: Decimal) -> None:
        await self.ensure_funds(session, amount)
        await self._as_user(
            session,
            "POST",
            "/v1/bill-payments",
            idempotent=True,
            expect=(201, 202),
            json={
                "biller_id": "cmcc_topup",
                "account_no": session.seeded.person.phone.removeprefix("+86"),
                "amount": str(amount),
                "payment_password": PIN,
            },
        )
        self.report.activity["bill_payments"] += 1
