"""The sandbox bank's runtime: its configuration, clock, storage and text channel.

One :class:`SandboxBank` lives on the bank app's state. The binding and movement modules
are functions over it, so each stays small and the app's endpoints stay one call each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Final

from sqlalchemy import insert, select

from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.money import Money
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.sandbox.bank.schemas import CardView, SentSms
from ewallet.sandbox.bank.sms import BankSmsSink
from ewallet.sandbox.bank.storage import BankStore, accounts, texts

# The bank keeps Beijing time: its business day, and so its settlement file, turns over
# at midnight UTC+8 (China has no daylight saving time).
BANK_TIMEZONE: Final = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class SandboxBankConfig:
    """How the sandbox behaves; delays are seconds, tiny in tests."""

    database_url: str
    merchant_key: str  # the X-Bank-Key every money and binding call must carry
    # A "timeout" operation answers only after this long: longer than the client waits.
    timeout_delay_seconds: float = 15.0
    # A "slow" operation is answered after this long: shorter than the client waits.
    slow_delay_seconds: float = 1.0
    code_ttl_seconds: int = 300
    code_max_attempts: int = 5


class SandboxBank:
    """Everything the bank's endpoints need, created once per bank app."""

    def __init__(
        self,
        config: SandboxBankConfig,
        *,
        clock: Clock | None = None,
        sms_sink: BankSmsSink | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.store = BankStore(config.database_url)
        self._sms_sink = sms_sink

    async def start(self) -> None:
        """Create and seed the database now (the in-process bank waits for first use)."""
        await self.store.prepare()

    async def aclose(self) -> None:
        await self.store.aclose()

    async def card_views(self) -> list[CardView]:
        async with self.store.reading() as connection:
            rows = (await connection.execute(select(accounts))).all()
        by_number = {row.card_number: row for row in rows}
        views = []
        for card in TEST_CARDS:
            row = by_number.get(card.number)
            if row is None:
                continue
            views.append(
                CardView(
                    number=row.card_number,
                    bank_code=row.bank_code,
                    bank_name=row.bank_name,
                    card_type=row.card_type,
                    holder_name=row.holder_name,
                    id_number=row.id_number,
                    bank_phone=card.bank_phone,
                    balance_fen=int(row.balance_fen),
                    balance=Money(int(row.balance_fen)).to_decimal_string(),
                    behaviour=row.behaviour,
                    note=row.note,
                )
            )
        return views

    async def sent_sms(self, *, phone: str | None = None, limit: int = 50) -> list[SentSms]:
        """The newest ``limit`` texts (to ``phone``, E.164, if given), oldest first."""
        statement = select(texts).order_by(texts.c.id.desc()).limit(limit)
        if phone is not None:
            statement = statement.where(texts.c.phone == phone)
        async with self.store.reading() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            SentSms(
                phone=row.phone,
                sender=row.sender,
                body=row.body,
                code=row.code,
                created_at=row.created_at,
            )
            for row in reversed(rows)
        ]

    async def text(self, *, phone: str, sender: str, body: str, code: str, request_id: str) -> None:
        """Keep the text in the bank's own table, then hand it to the configured sink."""
        async with self.store.writing() as connection:
            await connection.execute(
                insert(texts).values(
                    phone=phone, sender=sender, body=body, code=code, created_at=self.clock.now()
                )
            )
        if self._sms_sink is not None:
            await self._sms_sink.deliver(
                phone=phone, sender=sender, body=body, code=code, request_id=request_id
            )
