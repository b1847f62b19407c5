"""The bank's settlement file for a day against the wallet's card top-ups and withdrawals.

Both directions are checked:

- each line of the file (a movement the bank made) must name exactly one wallet operation
  (its request id ``topup:<id>``, ``withdrawal:<id>`` or ``payout:<settlement id>``, a
  merchant's or biller's settlement) of the same kind and amount, whose
  ledger entry exists. A ``pending`` operation is settled from the line (credited, or the
  withdrawal's holds posted); a top-up the wallet had failed is credited after all, since
  the user's card was charged; a withdrawal (or payout) the wallet had released is a
  mismatch (the money went out twice) that needs a person; an open payout is posted;
- each operation the wallet completed that day must be in the bank's records: one missing
  from the file is asked about by request id (it may sit in the next day's file) and
  reported ``missing_at_provider`` if the bank has no such movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from ewallet.funding.topups.card.service import credit_card_topup
from ewallet.funding.topups.views import CardTopup
from ewallet.funding.withdrawals.service import succeed_withdrawal
from ewallet.funding.withdrawals.views import WithdrawalView
from ewallet.integrations.bank.port import SettlementRow
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.models.funding import TopupStatus, WithdrawalStatus
from ewallet.reconciliation import repository
from ewallet.reconciliation.findings import Category, Finding, Tally
from ewallet.reconciliation.progress import Progress
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.settlement.service import paid_between, settlement_by_id, succeed_payout
from ewallet.settlement.views import SettlementView

SOURCE: Final = "bank"
_EXPECTED_KIND: Final = {"topup": "debit", "withdrawal": "credit", "payout": "payout"}


@dataclass(frozen=True, slots=True)
class BankReconciler:
    services: Services

    async def run(self, day: date, tally: Tally, progress: Progress) -> None:
        rows = await self.services.bank.settlement(day)
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
        if prefix == "payout":
            await self._payout_line(row, operation_id, tally)
            return
        record = await self._operation(prefix, operation_id)
        if record is None:
            tally.add(self._finding(row, Category.UNKNOWN_AT_WALLET, None, "no such operation"))
            return
        amount = record.topup.amount if isinstance(record, CardTopup) else record.amount
        if _EXPECTED_KIND.get(prefix) != row.kind or amount.minor != row.amount.minor:
            detail = f"wallet {prefix} of {amount.minor}, bank {row.kind} of {row.amount.minor}"
            tally.add(self._finding(row, Category.AMOUNT_MISMATCH, amount.minor, detail))
            return
        if isinstance(record, CardTopup):
            await self._topup_line(row, record, tally)
        else:
            await self._withdrawal_line(row, record, tally)

    async def _topup_line(self, row: SettlementRow, record: CardTopup, tally: Tally) -> None:
        topup = record.topup
        if topup.status == TopupStatus.SUCCEEDED:
            await self._check_ledger(row, f"topup:{topup.id}", topup.amount.minor, tally)
            return
        late = topup.status == TopupStatus.FAILED
        await credit_card_topup(
            self.services,
            topup=topup,
            bank_code=record.bank_code,
            bank_reference=row.bank_reference,
            creditable=(TopupStatus.PENDING, TopupStatus.FAILED),
        )
        category = Category.LATE_CREDITED if late else Category.CREDITED
        detail = "credited from the settlement file" + (" after it was failed" if late else "")
        tally.add(self._finding(row, category, topup.amount.minor, detail))

    async def _withdrawal_line(
        self, row: SettlementRow, record: WithdrawalView, tally: Tally
    ) -> None:
        amount = record.amount.minor
        if record.status == WithdrawalStatus.SUCCEEDED:
            await self._check_ledger(row, f"withdrawal:{record.id}:post", amount, tally)
        elif record.status == WithdrawalStatus.FAILED:
            detail = "the bank paid the card, the wallet released the money: recover it"
            tally.add(self._finding(row, Category.RELEASED_BUT_PAID, amount, detail))
        else:
            await succeed_withdrawal(self.services, record.id, row.bank_reference)
            tally.add(self._finding(row, Category.POSTED, amount, "posted from the file"))

    async def _payout_line(self, row: SettlementRow, settlement_id: str, tally: Tally) -> None:
        """A merchant's or biller's payout: posted if the wallet left it open."""
        payout = await settlement_by_id(self.services, settlement_id)
        if payout is None:
            tally.add(self._finding(row, Category.UNKNOWN_AT_WALLET, None, "no such payout"))
            return
        amount = payout.amount.minor
        if row.kind != "payout" or amount != row.amount.minor:
            detail = f"wallet payout of {amount}, bank {row.kind} of {row.amount.minor}"
            tally.add(self._finding(row, Category.AMOUNT_MISMATCH, amount, detail))
        elif payout.status == "paid":
            await self._check_ledger(row, f"settlement:{payout.id}:post", amount, tally)
        elif payout.status == "failed":
            detail = "the bank paid the merchant, the wallet released the money: recover it"
            tally.add(self._finding(row, Category.RELEASED_BUT_PAID, amount, detail))
        else:
            await succeed_payout(self.services, payout.id, row.bank_reference)
            tally.add(self._finding(row, Category.POSTED, amount, "payout posted from the file"))

    async def _check_ledger(self, row: SettlementRow, key: str, amount: int, tally: Tally) -> None:
        async def work(uow: UnitOfWork) -> bool:
            return await repository.has_ledger_entry(await uow.connection(), key)

        if await run_unit(self.services.engine, work, read_only=True):
            tally.matched += 1
        else:
            tally.add(self._finding(row, Category.LEDGER_MISSING, amount, f"no ledger entry {key}"))

    # ------------------------------------------------------------- the wallet's side

    async def _completed_on(self, day: date) -> list[tuple[str, int]]:
        """Request ids and amounts of card operations and payouts the wallet completed on
        ``day``."""
        start = datetime.combine(day, time(0), tzinfo=CHINA_TIME)
        end = start + timedelta(days=1)

        async def work(uow: UnitOfWork) -> list[tuple[str, int]]:
            conn = await uow.connection()
            return await repository.completed_card_operations(conn, start, end)

        completed = await run_unit(self.services.engine, work, read_only=True)
        payouts: list[SettlementView] = await paid_between(self.services, start, end)
        return completed + [
            (payout.bank_request_id, payout.amount.minor)
            for payout in payouts
            if payout.bank_request_id is not None
        ]

    async def _unseen(self, request_id: str, amount: int, tally: Tally) -> None:
        try:
            answer = await self.services.bank.query(request_id=request_id)
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

    async def _operation(self, prefix: str, operation_id: str) -> CardTopup | WithdrawalView | None:
        """The card top-up or withdrawal a request id names (None for any other)."""

        async def work(uow: UnitOfWork) -> CardTopup | WithdrawalView | None:
            conn = await uow.connection()
            if prefix == "topup":
                return await repository.card_topup(conn, operation_id)
            if prefix == "withdrawal":
                return await repository.withdrawal(conn, operation_id)
            return None

        return await run_unit(self.services.engine, work, read_only=True)

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
