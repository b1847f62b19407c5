"""The bank's settlement file for a day against the wallet's card top-ups and withdrawals.

Both directions are checked:

- each line of the file (a movement the bank made) must name exactly one wallet operation
  (its request id ``topup:<id>`` or ``withdrawal:<id>``) of the same kind and amount, whose
  ledger entry exists. A ``pending`` operation is settled from the line (credited, or the
  withdrawal's holds posted); a top-up the wallet had failed is credited after all, since
  the user's card was charged; a withdrawal the wallet had released is a mismatch (the
  money went out twice) that needs a person;
- each operation the wallet completed that day must be in the bank's records: one missing
  from the file is asked about by request id (it may sit in the next day's file) and
  reported ``missing_at_provider`` if the bank has no such movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.funding.card_topups import credit_card_topup
from ewallet.funding.service import TopupView
from ewallet.funding.withdrawals import succeed_withdrawal
from ewallet.integrations.bank.port import BankGateway, SettlementRow
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.ledger import Ledger
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import cards, topups, withdrawals
from ewallet.reconciliation.findings import Category, Finding, Tally
from ewallet.reconciliation.progress import Progress
from ewallet.risk.limits import CHINA_TIME

SOURCE: Final = "bank"
_EXPECTED_KIND: Final = {"topup": "debit", "withdrawal": "credit"}


@dataclass(frozen=True, slots=True)
class BankReconciler:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    gateway: BankGateway

    async def run(self, day: date, tally: Tally, progress: Progress) -> None:
        rows = await self.gateway.settlement(day)
        seen = {row.request_id for row in rows}
        progress.phase(f"bank file {day}", len(rows))
        for row in rows:
            await self._line(row, tally)
            progress.step()
        # Operations already matched line by line above are not counted twice.
        unseen = [item for item in await self._completed_on(day) if item[0] not in seen]
        progress.phase("wallet operations missing from the file", len(unseen))
        for request_id, amount in unseen:
            await self._unseen(request_id, amount, tally)
            progress.step()

    # ------------------------------------------------------------- the bank's lines

    async def _line(self, row: SettlementRow, tally: Tally) -> None:
        prefix, _, operation_id = row.request_id.partition(":")
        record = await self._operation(prefix, operation_id)
        if record is None:
            tally.add(self._finding(row, Category.UNKNOWN_AT_WALLET, None, "no such operation"))
            return
        if _EXPECTED_KIND.get(prefix) != row.kind or record.amount != row.amount.minor:
            detail = f"wallet {prefix} of {record.amount}, bank {row.kind} of {row.amount.minor}"
            tally.add(self._finding(row, Category.AMOUNT_MISMATCH, record.amount, detail))
            return
        if prefix == "topup":
            await self._topup_line(row, record, tally)
        else:
            await self._withdrawal_line(row, record, tally)

    async def _topup_line(self, row: SettlementRow, record: Any, tally: Tally) -> None:
        topup = TopupView.of(record)
        if topup.status == "succeeded":
            await self._check_ledger(row, f"topup:{topup.id}", record.amount, tally)
            return
        late = topup.status == "failed"
        await credit_card_topup(
            self.engine,
            self.ledger,
            clock=self.clock,
            topup=topup,
            bank_code=record.bank_code,
            bank_reference=row.bank_reference,
            creditable=("pending", "failed"),
        )
        category = Category.LATE_CREDITED if late else Category.CREDITED
        detail = "credited from the settlement file" + (" after it was failed" if late else "")
        tally.add(self._finding(row, category, record.amount, detail))

    async def _withdrawal_line(self, row: SettlementRow, record: Any, tally: Tally) -> None:
        if record.status == "succeeded":
            await self._check_ledger(row, f"withdrawal:{record.id}:post", record.amount, tally)
        elif record.status == "failed":
            detail = "the bank paid the card, the wallet released the money: recover it"
            tally.add(self._finding(row, Category.RELEASED_BUT_PAID, record.amount, detail))
        else:
            await succeed_withdrawal(self.engine, self.clock, record.id, row.bank_reference)
            tally.add(self._finding(row, Category.POSTED, record.amount, "posted from the file"))

    async def _check_ledger(self, row: SettlementRow, key: str, amount: int, tally: Tally) -> None:
        async def work(uow: UnitOfWork) -> bool:
            conn = await uow.connection()
            return key in await ledger_repository.find_transaction_keys(conn, [key])

        if await run_unit(self.engine, work, read_only=True):
            tally.matched += 1
        else:
            tally.add(self._finding(row, Category.LEDGER_MISSING, amount, f"no ledger entry {key}"))

    # ------------------------------------------------------------- the wallet's side

    async def _completed_on(self, day: date) -> list[tuple[str, int]]:
        """Request ids and amounts of card operations the wallet completed on ``day``."""
        start = datetime.combine(day, time(0), tzinfo=CHINA_TIME)
        end = start + timedelta(days=1)

        async def work(uow: UnitOfWork) -> list[tuple[str, int]]:
            conn = await uow.connection()
            topup_rows = await conn.execute(
                select(topups.c.id, topups.c.amount).where(
                    and_(
                        topups.c.method == "card",
                        topups.c.status == "succeeded",
                        topups.c.completed_at >= start,
                        topups.c.completed_at < end,
                    )
                )
            )
            withdrawal_rows = await conn.execute(
                select(withdrawals.c.id, withdrawals.c.amount).where(
                    and_(
                        withdrawals.c.status == "succeeded",
                        withdrawals.c.completed_at >= start,
                        withdrawals.c.completed_at < end,
                    )
                )
            )
            return [(f"topup:{row.id}", int(row.amount)) for row in topup_rows] + [
                (f"withdrawal:{row.id}", int(row.amount)) for row in withdrawal_rows
            ]

        return sorted(await run_unit(self.engine, work, read_only=True))

    async def _unseen(self, request_id: str, amount: int, tally: Tally) -> None:
        try:
            answer = await self.gateway.query(request_id=request_id)
        except DomainError as error:
            tally.add(
                Finding(SOURCE, request_id, Category.UNRESOLVED, amount, None, "CNY", error.code)
            )
            return
        if answer.status == "succeeded" and answer.amount is not None:
            if answer.amount.minor == amount:
                tally.matched += 1  # in another day's file (a movement across midnight)
                return
            detail = f"bank moved {answer.amount.minor} on another day"
            tally.add(
                Finding(
                    SOURCE,
                    request_id,
                    Category.AMOUNT_MISMATCH,
                    amount,
                    answer.amount.minor,
                    answer.amount.currency,
                    detail,
                )
            )
            return
        detail = f"the wallet completed it; the bank says {answer.status}"
        tally.add(
            Finding(SOURCE, request_id, Category.MISSING_AT_PROVIDER, amount, None, "CNY", detail)
        )

    # ------------------------------------------------------------- helpers

    async def _operation(self, prefix: str, operation_id: str) -> Any:
        if prefix == "topup":
            query = (
                select(topups, cards.c.bank_code)
                .join(cards, cards.c.id == topups.c.card_id)
                .where(topups.c.id == operation_id, topups.c.method == "card")
            )
        elif prefix == "withdrawal":
            query = select(withdrawals).where(withdrawals.c.id == operation_id)
        else:
            return None

        async def work(uow: UnitOfWork) -> Any:
            conn = await uow.connection()
            return (await conn.execute(query)).first()

        return await run_unit(self.engine, work, read_only=True)

    @staticmethod
    def _finding(
        row: SettlementRow, category: Category, wallet_amount: int | None, detail: str
    ) -> Finding:
        return Finding(
            SOURCE,
            row.request_id,
            category,
            wallet_amount,
            row.amount.minor,
            row.amount.currency,
            detail[:300],
        )
