"""Payment codes for the charges scenario of bench/api.py, made as the user's phone would.

``GET /v1/me/payment-code`` hands the phone a code made from the user's secret, the
60-second time step and a counter (ewallet.payments.payment_codes.codec); nothing about an issued
code is stored until a charge uses it. So the benchmark makes each user's secret once
through the service (as the first code request does), then computes codes itself: the
cashier's ``POST /v1/merchant/charges`` is what is measured, not the phone's fetch.

Users take turns (round robin), each code with the next unused counter of the current step
for that user; a user has ten per minute, so 8,000 users cover 1,300 charges a second.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.api_population import Population
from bench.load import Request, RequestFactory
from ewallet.config import Settings
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.payments.payment_codes.codec import COUNTERS_PER_STEP, make_code, time_step
from ewallet.payments.payment_codes.sealing import UserSecret
from ewallet.payments.payment_codes.service.codes import current_secret
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import KeyedDigest


@dataclass
class CodeMaker:
    secrets: list[UserSecret]
    blinding: KeyedDigest
    api_keys: list[str]

    @classmethod
    async def create(
        cls, engine: AsyncEngine, settings: Settings, population: Population
    ) -> CodeMaker:
        security = SecurityContext.from_settings(settings)
        clock = SystemClock()
        gate = asyncio.Semaphore(16)

        async def secret_of(user_id: str) -> UserSecret:
            async def work(uow: UnitOfWork) -> UserSecret:
                conn = await uow.connection()
                return await current_secret(conn, security.cipher, user_id=user_id, now=clock.now())

            async with gate:
                return await run_unit(engine, work)

        made = await asyncio.gather(*(secret_of(user.id) for user in population.users))
        return cls(list(made), security.digest, population.api_keys)

    def codes(self) -> Iterator[str]:
        """Fresh codes forever: round robin over users, ten counters per user and step."""
        clock = SystemClock()
        used: dict[int, int] = {}
        current = -1
        for index in itertools.cycle(range(len(self.secrets))):
            step = time_step(clock.now())
            if step != current:
                used, current = {}, step
            counter = used.get(index, 0)
            if counter >= COUNTERS_PER_STEP:
                continue
            used[index] = counter + 1
            secret = self.secrets[index]
            yield make_code(
                secret.secret,
                lookup_id=secret.lookup_id,
                step=step,
                counter=counter,
                blinding=self.blinding,
            )

    def factory(self) -> RequestFactory:
        codes = self.codes()
        cashiers = itertools.cycle([f"Bearer {key}" for key in self.api_keys])

        def make() -> Request:
            key = uuid.uuid4().hex
            headers = {"Authorization": next(cashiers), "Idempotency-Key": key}
            body = {
                "payment_code": next(codes),
                "amount": "0.01",
                "out_trade_no": f"C-{key}",
                "subject": "bench",
            }
            return ("POST", "/v1/merchant/charges", headers, body)

        return make
