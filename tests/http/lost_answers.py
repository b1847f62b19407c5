"""Simulate an API process killed between an endpoint's commit and its stored answer.

Inside :func:`answers_lost` the idempotency layer "stores" nothing: the key's record stays
``in_progress`` with its lease, exactly as after a ``kill -9`` once the operation's unit
committed (the client's connection would have broken; here it still gets the answer, which
the test keeps to compare). :func:`lease_runs_out` moves the frozen clock past the lease,
after which the same request may take the key over and run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from ewallet.http import idempotency_store
from ewallet.kit.clock import FrozenClock

LEASE = timedelta(seconds=60)  # IdempotencyConfig.lock_seconds


@contextmanager
def answers_lost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def never_stored(*_args: Any, **_kwargs: Any) -> bool:
        return True  # the process "died" before the answer's transaction

    with monkeypatch.context() as patch:
        patch.setattr(idempotency_store, "complete", never_stored)
        yield


def lease_runs_out(clock: FrozenClock) -> None:
    clock.advance(LEASE + timedelta(seconds=1))
