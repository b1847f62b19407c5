"""PSP top-ups of a day against what Alipay / WeChat Pay say about each order.

Each Alipay or WeChat Pay top-up created that day is queried by its ``out_trade_no`` (the
top-up id). A payment the PSP took that the wallet missed (a lost notification) is credited
through the same step a notification uses; an order the PSP closed is closed here too; a
top-up the wallet credited that the PSP did not take, a different amount, or a credited
top-up without its ledger entry is a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from ewallet.funding.topups.service import settle_notice
from ewallet.funding.topups.views import TopupView
from ewallet.integrations.psp.notice import PaymentNotice, PaymentStatus, PspName
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.models.funding import TopupStatus
from ewallet.reconciliation import repository
from ewallet.reconciliation.findings import Category, Finding, Tally
from ewallet.reconciliation.progress import Progress
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services

_UNPAID: Final = (PaymentStatus.CLOSED, PaymentStatus.FAILED, PaymentStatus.PENDING)


@dataclass(frozen=True, slots=True)
class PspReconciler:
    services: Services

    async def run(self, day: date, tally: Tally, progress: Progress) -> None:
        items = await self._topups_of(day)
        progress.phase(f"PSP top-ups {day}", len(items))
        for topup in items:
            await self._one(topup, tally)
            progress.step()

    async def _one(self, topup: TopupView, tally: Tally) -> None:
        method: PspName = "alipay" if topup.method == "alipay" else "wechat_pay"
        try:
            notice = await self.services.psp.query(method=method, out_trade_no=topup.id)
        except DomainError as error:
            tally.add(self._finding(topup, Category.UNRESOLVED, None, error.code))
            return
        if notice is None or notice.status in _UNPAID:
            await self._unpaid(topup, notice, tally)
            return
        if notice.amount != topup.amount:
            detail = f"the PSP says {notice.amount}, the top-up is {topup.amount}"
            tally.add(self._finding(topup, Category.AMOUNT_MISMATCH, notice.amount_fen, detail))
            return
        if topup.status == TopupStatus.SUCCEEDED:
            await self._check_ledger(topup, notice, tally)
            return
        late = topup.status in (TopupStatus.FAILED, TopupStatus.CLOSED)
        await settle_notice(self.services, topup=topup, notice=notice)
        category = Category.LATE_CREDITED if late else Category.CREDITED
        tally.add(self._finding(topup, category, notice.amount_fen, "credited from the PSP query"))

    async def _unpaid(self, topup: TopupView, notice: PaymentNotice | None, tally: Tally) -> None:
        if topup.status == TopupStatus.SUCCEEDED:
            said = "no such order" if notice is None else notice.psp_status
            detail = f"the wallet credited it; the PSP says {said}"
            missing = Category.MISSING_AT_PROVIDER
            tally.add(self._finding(topup, missing, None if notice is None else 0, detail))
            return
        closed_there = notice is not None and notice.status is not PaymentStatus.PENDING
        awaiting = topup.status == TopupStatus.AWAITING_PAYMENT
        if closed_there and notice is not None and awaiting:
            await settle_notice(self.services, topup=topup, notice=notice)
            tally.add(self._finding(topup, Category.FAILED, 0, "closed at the PSP"))
            return
        tally.matched += 1  # unpaid on both sides (or still being paid)

    async def _check_ledger(self, topup: TopupView, notice: PaymentNotice, tally: Tally) -> None:
        key = f"topup:{topup.id}"

        async def work(uow: UnitOfWork) -> bool:
            return await repository.has_ledger_entry(await uow.connection(), key)

        if await run_unit(self.services.engine, work, read_only=True):
            tally.matched += 1
        else:
            detail = f"no ledger entry {key}"
            tally.add(self._finding(topup, Category.LEDGER_MISSING, notice.amount_fen, detail))

    async def _topups_of(self, day: date) -> list[TopupView]:
        start = datetime.combine(day, time(0), tzinfo=CHINA_TIME)
        end = start + timedelta(days=1)

        async def work(uow: UnitOfWork) -> list[TopupView]:
            return await repository.psp_topups_created(await uow.connection(), start, end)

        return await run_unit(self.services.engine, work, read_only=True)

    @staticmethod
    def _finding(
        topup: TopupView, category: Category, external_amount: int | None, detail: str
    ) -> Finding:
        return Finding(
            topup.method,
            topup.id,
            category,
            topup.amount.minor,
            external_amount,
            topup.amount.currency,
            detail[:300],
        )
