"""The periodic job that settles card top-ups and withdrawals left with an unknown outcome.

Every ``EWALLET_SETTLE_INTERVAL_SECONDS`` the worker (and, in development, the API process
itself, started by the composition root) asks the bank about each pending item
(:func:`ewallet.funding.service.settle_funding_once`). Several copies may run at once: each
settling step is a conditional update plus an idempotent ledger key, so racing runs settle
an item once. A failing run is logged and retried at the next tick (:mod:`ewallet.kit.periodic`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from ewallet.funding.service import settle_funding_once, settle_grace
from ewallet.kit.periodic import running_every
from ewallet.services import Services

# Another feature's settle step run on the same tick (the composition root passes them:
# card-funded payments, payments/card_funding/jobs.py, which funding cannot import).
Settler = Callable[..., Awaitable[object]]


def settling_in_background(services: Services, *also: Settler) -> AbstractAsyncContextManager[None]:
    """Settle the pending items every interval while the block runs (nothing when the
    interval is 0); each of ``also`` is called as ``settle(services, grace=...)`` after."""
    grace = settle_grace(services)

    async def tick() -> None:
        await settle_funding_once(services, grace=grace)
        for settle in also:
            await settle(services, grace=grace)

    return running_every(
        services.settings.settle_interval_seconds, tick, failure_event="funding.settle_run_failed"
    )
