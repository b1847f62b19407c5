"""A PIN check whose correct outcome is settled in the money unit it guards.

:func:`~ewallet.identity.payment_password.service.checks.verify_payment_password` costs two
write units of its own: reserving a slot of the attempt budget, then settling it. A money use
case that locks the payer's row anyway can do better (docs/performance.md, "A transfer in
three transactions"):

* its own reads that must come before the PIN (a rerun of the same request, who the payee
  is, the refusals those reads make) run in the **reservation's unit**, before the slot is
  taken -- a refusal there reserves nothing;
* argon2 runs outside any transaction, as always, and a wrong PIN is settled and refused
  exactly as before;
* a correct PIN's slot stays held into the money unit, which frees it
  (:meth:`HeldPin.settle_in`) on the payer row it has already locked. Should that unit not
  commit (a refusal, a challenge, a failure), leaving the block frees the slot in a unit
  of its own, so the budget is never left short; a process that dies in between leaves a
  slot that expires as any abandoned check does;
* unless the slot was **shared**: when other checks of the same user were in flight as it
  was taken (one person's parallel payments), it is freed at once, as
  :func:`verify_payment_password` does. A slot held through a money unit waits for the
  payer's row lock behind the others' money units, and with three slots at most a burst of
  payments would crawl through them three at a time and wait out its
  ``server_busy`` deadline; freed at once, the burst goes through as before.

The budget's guarantees are unchanged: the slot is taken in a committed unit before argon2
runs, so parallel guesses still get no more tries than the budget allows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ewallet.audit.service import Actor
from ewallet.identity.payment_password.service.checks import (
    PinCheck,
    Slot,
    compare_or_refuse,
    pin_check,
    reserve_slot,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.models.identity import User
from ewallet.services import Services

T = TypeVar("T")


@dataclass(slots=True)
class HeldPin(Generic[T]):
    """What the reservation's unit read (``found``) and, when the PIN was checked, its slot."""

    found: T
    checked: bool  # False when ``found`` made the check unnecessary (``needed`` said so)
    _check: PinCheck | None  # a correct check's slot still held, for the money unit
    settled: bool = field(default=False)  # by a money unit that committed

    async def settle_in(self, uow: UnitOfWork, *, payer: User) -> None:
        """Free the correct check's slot in the money unit; ``payer`` is the user's row this
        unit has locked (the spend seam's spender). Takes effect only if the unit commits."""
        if self._check is None:
            return
        await self._check.settle_correct(uow, locked=payer)
        uow.after_commit(self._mark_settled)

    def _mark_settled(self) -> None:
        self.settled = True


@dataclass(frozen=True, slots=True)
class _Reserved(Generic[T]):
    found: T
    slot: Slot | None  # None: no check needed


@asynccontextmanager
async def payment_password_held(
    services: Services,
    *,
    user_id: str,
    pin: str,
    actor: Actor,
    first: Callable[[UnitOfWork], Awaitable[T]],
    needed: Callable[[T], bool] = lambda _found: True,
) -> AsyncIterator[HeldPin[T]]:
    """Check ``user_id``'s PIN, running ``first`` in the reservation's unit before the slot
    is taken; inside the block the money unit calls :meth:`HeldPin.settle_in`.

    ``first`` may raise a refusal (nothing is reserved); when ``needed(found)`` is False no
    slot is taken and no PIN compared (a rerun answered from what ``first`` found). The
    refusals of the check itself and their order are
    :func:`~ewallet.identity.payment_password.service.checks.require_payment_password`'s.
    """
    settings = services.settings
    check = pin_check(services.clock, settings, user_id=user_id, actor=actor)

    async def reserve(uow: UnitOfWork) -> _Reserved[T] | DomainError | None:
        found = await first(uow)
        if not needed(found):
            return _Reserved(found, None)
        taken = await check.reserve(uow)
        return _Reserved(found, taken) if isinstance(taken, Slot) else taken

    reserved = await reserve_slot(
        services.engine,
        reserve,
        check.might_reserve,
        wait_seconds=settings.payment_password_slot_wait_seconds,
    )
    slot = reserved.slot
    if slot is None:
        yield HeldPin(reserved.found, checked=False, _check=None)
        return
    await compare_or_refuse(
        services.engine, services.security, check, stored_hash=slot.stored_hash, pin=pin
    )
    if slot.shared:
        await run_unit(services.engine, check.settle_correct)
        yield HeldPin(reserved.found, checked=True, _check=None)
        return
    held = HeldPin(reserved.found, checked=True, _check=check)
    try:
        yield held
    finally:
        if not held.settled:
            # The money unit did not commit (or never ran): free the slot on its own.
            await run_unit(services.engine, check.settle_correct)
