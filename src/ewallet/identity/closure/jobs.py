"""The periodic erasure of closed accounts past their retention period.

The worker runs :func:`erasing_in_background` every
``EWALLET_CLOSED_ACCOUNT_ERASE_INTERVAL_SECONDS`` (0: never): each tick erases what is
due (:func:`~ewallet.identity.closure.service.erase_due_accounts`), which is idempotent,
so a tick run twice, or by two workers, erases nothing twice.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from ewallet.identity.closure.service import erase_due_accounts
from ewallet.kit.periodic import running_every
from ewallet.services import Services


def erasing_in_background(services: Services) -> AbstractAsyncContextManager[None]:
    """Erase due closed accounts every interval while the block runs (nothing at 0)."""

    async def tick() -> None:
        await erase_due_accounts(services)

    return running_every(
        services.settings.closed_account_erase_interval_seconds,
        tick,
        failure_event="closure.erase_failed",
    )
