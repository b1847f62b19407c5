"""Screens run on a real name as it is verified, registered by the composition root.

Identity sits below risk (docs/architecture.md, "Layers"), so real-name verification
cannot call the watch list itself. The app registers the screens it wants at start-up
(:func:`register`, keyed by name so registering twice replaces); verification runs each
one inside its unit of work, after the identity is recorded, with the normalised real name,
the birth date the ID number states and the ID number's keyed digest. A screen records what
it found in that unit (a rolled-back verification leaves nothing); it does not change
whether the verification succeeds.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from ewallet.kit.db.uow import UnitOfWork
from ewallet.services import Services


class RealNameScreen(Protocol):
    async def __call__(
        self,
        uow: UnitOfWork,
        services: Services,
        *,
        user_id: str,
        real_name: str,
        birth_date: date,
        id_number_digest: str,
    ) -> None: ...


_screens: dict[str, RealNameScreen] = {}


def register(name: str, screen: RealNameScreen) -> None:
    """Run ``screen`` on every verification from now on (replacing one of the same name)."""
    _screens[name] = screen


def registered() -> tuple[RealNameScreen, ...]:
    return tuple(_screens.values())
