"""Checks run on a sign-in before a session opens, registered by the composition root.

Identity sits below risk (docs/architecture.md, "Layers"), so sign-in cannot call the risk
decision itself. The app registers the checks it wants at start-up (:func:`register`,
keyed by name so registering twice replaces; ``create_app`` registers the risk decision,
:func:`ewallet.risk.decisions.check_sign_in`). Sign-in runs them inside its unit of work,
once the password or the SMS code proved right and before anything of the sign-in is
written, and acts on the strongest verdict: ``block`` opens no session
(``403 risk_declined``), ``challenge`` asks for the step-up a new device gets
(``401 step_up_required``), ``allow`` goes on as before. A check stores what it decided in
that unit; with none registered every sign-in is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.identity import User
from ewallet.services import Services


class SignInVerdict(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    BLOCK = "block"


_ORDER: Final = (SignInVerdict.ALLOW, SignInVerdict.CHALLENGE, SignInVerdict.BLOCK)


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """What a check sees of one sign-in, beyond the user's row (locked by the sign-in)."""

    method: str  # "password" or "sms"
    device_key: str  # the client's device id (a new one when it sent none)
    device_first_seen: datetime | None  # when this account first saw the device; None: never
    login_failures: int  # wrong passwords in a row before this attempt


class SignInCheck(Protocol):
    async def __call__(
        self, uow: UnitOfWork, services: Services, *, user: User, attempt: SignInAttempt
    ) -> SignInVerdict: ...


_checks: dict[str, SignInCheck] = {}


def register(name: str, check: SignInCheck) -> None:
    """Run ``check`` on every sign-in from now on (replacing one of the same name)."""
    _checks[name] = check


def unregister(name: str) -> None:
    _checks.pop(name, None)


async def run_checks(
    uow: UnitOfWork, services: Services, *, user: User, attempt: SignInAttempt
) -> SignInVerdict:
    """The strongest verdict of the registered checks (``allow`` when none is)."""
    verdict = SignInVerdict.ALLOW
    for check in tuple(_checks.values()):
        found = await check(uow, services, user=user, attempt=attempt)
        verdict = max(verdict, found, key=_ORDER.index)
    return verdict
