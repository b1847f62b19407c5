"""Notification delivery of the sandbox PSPs: send, and retry until the wallet acknowledges.

Real PSPs keep re-sending a notification the merchant did not acknowledge (Alipay about 8
times over 25 hours, WeChat Pay about 15 times over 24 hours); the wallet's callbacks must
therefore be idempotent, and these sandboxes exercise exactly that. The waits are short
by default so a developer sees a retry within seconds; tests pass their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import httpx
import structlog

from ewallet.kit.clock import Clock

# Seconds to wait before the 2nd, 3rd, ... attempt (the 1st goes at once).
DEV_RETRY_DELAYS: Final = (2.0, 5.0, 15.0, 60.0, 300.0, 900.0)
# The published schedules, for reference (docs/psp.md): not used by default.
ALIPAY_RETRY_DELAYS: Final = (240.0, 600.0, 600.0, 3600.0, 7200.0, 21600.0, 54000.0)
WECHAT_RETRY_DELAYS: Final = (15.0, 15.0, 30.0, 180.0, 600.0, 1200.0, 1800.0, 1800.0, 1800.0)

log = structlog.get_logger("ewallet.sandbox.psp")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One attempt's request, built afresh each time (a re-signed WeChat Pay timestamp)."""

    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    key: str  # the order's out_trade_no
    url: str
    attempt: int  # 1-based
    status_code: int | None  # None: no answer (refused, timed out)
    accepted: bool
    at: datetime


class NotifyDelivery:
    """Background deliveries, one task per notification; ``attempts`` records every try."""

    def __init__(
        self,
        *,
        accepted: Callable[[httpx.Response], bool],
        clock: Clock,
        delays: Sequence[float] = DEV_RETRY_DELAYS,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._accepted = accepted
        self._clock = clock
        self._delays = tuple(delays)
        self._transport = transport  # in-process: straight into the wallet app
        self._timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self.attempts: list[DeliveryAttempt] = []

    def start(self, key: str, url: str, build: Callable[[], Outgoing]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(key, url, build))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def for_key(self, key: str) -> list[DeliveryAttempt]:
        return [attempt for attempt in self.attempts if attempt.key == key]

    async def wait_idle(self, seconds: float = 10.0) -> None:
        """Until every delivery ended (acknowledged or given up): for tests and shutdown."""
        async with asyncio.timeout(seconds):
            while self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(self, key: str, url: str, build: Callable[[], Outgoing]) -> None:
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
            for attempt, delay in enumerate((0.0, *self._delays), start=1):
                if delay:
                    await asyncio.sleep(delay)
                outgoing = build()
                status: int | None = None
                accepted = False
                try:
                    response = await client.post(
                        url, content=outgoing.content, headers=outgoing.headers
                    )
                    status, accepted = response.status_code, self._accepted(response)
                except httpx.HTTPError as error:
                    log.info("sandbox.notify_failed", key=key, url=url, error=repr(error))
                self.attempts.append(
                    DeliveryAttempt(key, url, attempt, status, accepted, self._clock.now())
                )
                if accepted:
                    return
        log.warning("sandbox.notify_gave_up", key=key, url=url)
