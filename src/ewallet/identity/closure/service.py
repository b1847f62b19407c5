"""Closing one's account (注销), and erasing a closed account's personal data after retention.

Who: a customer, for their own account (``users``: merchants' people and staff have their
own tables and never reach this). When: nothing may tie the account to money any more --
:func:`closure_check` names every :class:`~ewallet.identity.closure.views.Blocker` at once,
so the page and the ``409 closure_blocked`` answer list all that remains. A frozen account
answers ``account_frozen``: whoever froze it must be satisfied before it can go.

Proof: the payment password, then an SMS code of purpose ``account_closure``. The closure
is ONE unit: the user's row (step 1 of the lock order), the blockers again under the
wallet accounts' locks (step 4: no money lands between the check and the commit), then
``users.status = closed``, every session ended (API tokens and web cookies name the same
rows, so both fail at once), the number moved to the tombstone (``closed_accounts``: a
keyed digest; ``users.phone`` becomes ``#`` + the id's tail, which no E.164 number can
equal, so the number registers a NEW account), the notice and its SMS (queued to the
real number before it is moved), an audit event.

The ledger has no "closed" state for an account; the wallet accounts stay open at zero
and nothing can post to them: every spend checks the user is active, and a payee is found
by phone -- which no longer leads here. The ledger still verifies.

After ``EWALLET_CLOSED_ACCOUNT_RETENTION_DAYS`` (default 1826, five years: PBoC's AML rules
keep identity and transaction records at least five years after the relationship ends),
:func:`erase_due_accounts` erases the personal fields; amounts and account ids stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.closure import repository as repo
from ewallet.identity.closure.errors import ClosureBlockedError
from ewallet.identity.closure.views import Blocker, ClosedAccountView, ClosureCheck
from ewallet.identity.codes.service import CodeSent, request_code, run_with_code
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.repository import get_user
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.repository import end_user_sessions
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.identity import CodePurpose, SessionEndReason, UserStatus
from ewallet.notify.service import notify_user
from ewallet.services import Services

ERASE_BATCH: Final = 100
TOMBSTONE_PREFIX: Final = "#"  # users.phone of a closed account: never a valid E.164 number


def tombstone_phone(user_id: str) -> str:
    """``#`` + the last 19 characters of the id (its random part): unique, 20 characters."""
    return TOMBSTONE_PREFIX + user_id[-19:]


async def _blockers(uow: UnitOfWork, user_id: str, *, lock: bool) -> ClosureCheck:
    conn = await uow.connection()
    found = await repo.pending_blockers(conn, user_id)
    accounts = await (repo.lock_wallet_accounts if lock else repo.wallet_accounts)(conn, user_id)
    if any(row.posted != 0 for row in accounts):
        found.add(Blocker.BALANCE)
    if any(row.pending_debits != 0 or row.pending_credits != 0 for row in accounts):
        found.add(Blocker.HELD_BALANCE)
    return ClosureCheck(tuple(blocker for blocker in Blocker if blocker in found))


def _refuse(check: ClosureCheck) -> ClosureBlockedError:
    return ClosureBlockedError(
        "the account cannot close yet: " + ", ".join(check.blockers),
        blockers=[blocker.value for blocker in check.blockers],
    )


async def closure_check(services: Services, *, user_id: str) -> ClosureCheck:
    """``GET /v1/me/closure``: what still blocks closing, read without locks (a preview)."""

    async def work(uow: UnitOfWork) -> ClosureCheck:
        return await _blockers(uow, user_id, lock=False)

    return await run_unit(services.engine, work, read_only=True)


async def _phone_of_active(services: Services, user_id: str) -> str:
    async def work(uow: UnitOfWork) -> str:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)
        return user.phone

    return await run_unit(services.engine, work, read_only=True)


async def request_closure_code(services: Services, *, caller: Caller, user_id: str) -> CodeSent:
    """Text the owner an SMS code of purpose ``account_closure`` (the web wallet's way; the
    API may also ask ``POST /v1/verification-codes`` with the phone).

    Refusals, in order: ``account_frozen``; ``closure_blocked`` (no code is sent while the
    account cannot close anyway); ``rate_limited``.
    """
    phone = await _phone_of_active(services, user_id)
    check = await closure_check(services, user_id=user_id)
    if not check.may_close:
        raise _refuse(check)
    return await request_code(
        services, caller=caller, phone=phone, purpose=CodePurpose.ACCOUNT_CLOSURE
    )


@dataclass(frozen=True, slots=True)
class ClosureProof:
    payment_password: str
    verification_code: str


async def close_account(
    services: Services, *, user_id: str, proof: ClosureProof, actor: Actor
) -> ClosedAccountView:
    """``POST /v1/me/closure``: close the caller's own account (module docstring).

    Refusals, in order, each leaving nothing changed: ``account_frozen``;
    ``closure_blocked`` (``blockers``: every reason, checked before the PIN is spent); the
    PIN check's (``payment_password_not_set``, ``..._locked``, ``..._invalid``); the SMS
    code's (``verification_code_invalid``/``_expired``, ``too_many_attempts``); and
    ``closure_blocked`` again if money moved meanwhile (checked under locks).
    """
    phone = await _phone_of_active(services, user_id)
    check = await closure_check(services, user_id=user_id)
    if not check.may_close:
        raise _refuse(check)
    await require_payment_password(
        services, user_id=user_id, pin=proof.payment_password, actor=actor
    )
    clock, settings = services.clock, services.settings

    async def work(uow: UnitOfWork) -> ClosedAccountView:
        user = await locked_user(uow, user_id)
        ensure_active(user)
        locked = await _blockers(uow, user_id, lock=True)
        if not locked.may_close:
            raise _refuse(locked)
        now = clock.now()
        # The notice's SMS goes to the number the account has now, before it moves.
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="account_closed",
            params={"hotline": settings.hotline},
        )
        erase_after = now + timedelta(days=settings.closed_account_retention_days)
        await repo.insert_closed_account(
            await uow.connection(),
            user_id=user_id,
            closed_at=now,
            phone_digest=services.security.digest(f"closed-account-phone:{user.phone}"),
            erase_after=erase_after,
        )
        user.status = UserStatus.CLOSED
        user.phone = tombstone_phone(user_id)
        user.updated_at = now
        await uow.session.flush()
        ended = await end_user_sessions(
            await uow.connection(),
            user_id=user_id,
            now=now,
            reason=SessionEndReason.ACCOUNT_CLOSED,
            keep_session_id="",
        )
        details = {"sessions_ended": ended, "erase_after": erase_after.isoformat()}
        await audit_user(uow, clock, actor, "account.closed", user_id, details=details)
        return ClosedAccountView(user_id=user_id, closed_at=now, erase_after=erase_after)

    return await run_with_code(
        services,
        work,
        phone=phone,
        purpose=CodePurpose.ACCOUNT_CLOSURE,
        code=proof.verification_code,
    )


async def erase_due_accounts(services: Services, *, limit: int = ERASE_BATCH) -> int:
    """Erase the personal data of closed accounts past their retention period; returns how
    many were erased. Idempotent: an account is erased once, each in its own unit."""
    clock = services.clock

    async def due(uow: UnitOfWork) -> list[str]:
        return await repo.due_for_erasure(await uow.connection(), now=clock.now(), limit=limit)

    erased = 0
    for user_id in await run_unit(services.engine, due, read_only=True):

        async def work(uow: UnitOfWork, user_id: str = user_id) -> bool:
            done = await repo.erase_personal_data(
                await uow.connection(), user_id=user_id, now=clock.now()
            )
            if done:
                await audit_user(
                    uow, clock, Actor.system(), "account.personal_data_erased", user_id
                )
            return done

        erased += await run_unit(services.engine, work)
    return erased
