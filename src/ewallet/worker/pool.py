"""Several relays in one process, woken and stopped together.

``ewallet worker --concurrency N`` runs N relays on one engine; an embedded server can run
a pool beside the API and hook ``uow.after_commit(pool.notify)`` so events leave at once
instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence

from ewallet.worker.relay import WORKER_ID_MAX_LENGTH, OutboxRelay


def default_worker_id(index: int) -> str:
    """``hostname-pid-index``, unique across processes and hosts, cut to fit the column."""
    suffix = f"-{os.getpid()}-{index}"
    return socket.gethostname()[: WORKER_ID_MAX_LENGTH - len(suffix)] + suffix


class RelayPool:
    """Several relays in one process (``ewallet worker --concurrency N``), woken together."""

    def __init__(self, relays: Sequence[OutboxRelay]) -> None:
        if not relays:
            raise ValueError("a relay pool needs at least one relay")
        if len({relay.worker_id for relay in relays}) != len(relays):
            raise ValueError("relays in a pool need distinct worker ids")
        self.relays = tuple(relays)

    def notify(self) -> None:
        """Wake every relay; hook it as ``uow.after_commit(pool.notify)``."""
        for relay in self.relays:
            relay.notify()

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Drain with every relay at once; return how many events got an outcome."""
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(relay.drain(stop)) for relay in self.relays]
        return sum(task.result() for task in tasks)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """Run every relay until ``stop`` is set."""
        async with asyncio.TaskGroup() as group:
            for relay in self.relays:
                group.create_task(relay.run_forever(stop, poll_seconds))
