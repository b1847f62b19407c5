"""What every use case is handed: the running process's adapters, in one typed value.

A :class:`Services` is built once per process by the composition root
(:func:`ewallet.bootstrap.running_services`) -- for the HTTP app in its lifespan, for the
CLI on first use by a command (set up in its root callback, :mod:`ewallet.cli.context`), for
``ewallet worker`` at start -- and passed to service functions as their
first argument. Nothing in a feature reads ``app.state`` or builds an engine of its own, so
a test builds exactly the services it needs and the CLI calls the same use cases the API
does.

Only infrastructure lives here (the database engine, the ledger, secrets, the clock and the
gateways to banks, billers and PSPs); a feature's policy is read from ``settings`` where it
is used. This module sits below every feature (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.integrations.bank.port import BankGateway
from ewallet.integrations.biller.port import BillerGateway
from ewallet.integrations.psp.channels import PspChannels
from ewallet.kit.clock import Clock
from ewallet.kit.db.process_cache import FactCache
from ewallet.ledger import Ledger
from ewallet.security.context import SecurityContext
from ewallet.security.ratelimit import RateLimiter


def no_wakeup() -> None:
    """The outbox wake-up when no relay runs in this process (a separate worker polls)."""


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    ledger: Ledger
    security: SecurityContext
    limiter: RateLimiter
    bank: BankGateway
    biller: BillerGateway
    psp: PspChannels
    # Wakes this process's outbox relay after a commit (hook with ``uow.after_commit``).
    wake_outbox: Callable[[], None] = no_wakeup
    # Facts a hot path reads on every request and that never change (kit/db/process_cache.py).
    facts: FactCache = field(default_factory=FactCache)
