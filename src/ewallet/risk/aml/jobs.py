"""The daily collection: yesterday's (Beijing) large-value transactions.

:func:`collect_previous_day` is what the worker runs every
``EWALLET_AML_COLLECT_INTERVAL_SECONDS`` (:func:`collecting_in_background`; a cron entry
running ``ewallet aml collect`` does the same): collecting a day is idempotent, so running
it every hour costs reads and writes nothing new. An export collects its day itself, so
the job only makes candidates visible in the staff list before anyone exports.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from ewallet.kit.periodic import running_every
from ewallet.risk.aml.service import collect_large_value
from ewallet.risk.aml.views import CollectResult
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services


async def collect_previous_day(services: Services) -> CollectResult:
    """Collect the Beijing day before today."""
    today = services.clock.now().astimezone(CHINA_TIME).date()
    return await collect_large_value(services, today - timedelta(days=1))


def collecting_in_background(services: Services) -> AbstractAsyncContextManager[None]:
    """Collect the previous day every interval while the block runs (nothing at 0)."""

    async def tick() -> None:
        await collect_previous_day(services)

    return running_every(
        services.settings.aml_collect_interval_seconds, tick, failure_event="aml.collect_failed"
    )
