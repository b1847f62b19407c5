"""The periodic settlement job: settle the due business day, then finish open payouts.

Every ``EWALLET_SETTLEMENT_INTERVAL_SECONDS`` the worker runs the settlement of the day
that is due (today in Beijing minus ``settlement_delay_days``: T+1 by default) -- a day
already settled costs one read and pays nobody again -- and then asks the bank about
every payout still open (:func:`ewallet.settlement.service.settle_open_payouts`). A
failing run is logged and retried at the next tick; it never stops the loop.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from ewallet.kit.periodic import running_every
from ewallet.services import Services
from ewallet.settlement.service import due_day, run_settlement, settle_open_payouts
from ewallet.settlement.views import RunReport


async def settle_due_day(services: Services) -> tuple[RunReport, RunReport]:
    """One tick: the due day's run, then the open payouts of any day."""
    day = due_day(services.clock.now(), services.settings.settlement_delay_days)
    run = await run_settlement(services, day=day)
    return run, await settle_open_payouts(services)


def settling_in_background(services: Services) -> AbstractAsyncContextManager[None]:
    """Run the settlement every interval while the block runs (nothing when the interval
    is 0)."""

    async def tick() -> None:
        await settle_due_day(services)

    return running_every(
        services.settings.settlement_interval_seconds, tick, failure_event="settlement.run_failed"
    )
