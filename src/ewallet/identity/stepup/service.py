"""Step-up challenges: a second proof (SMS code or TOTP) before a new device or a risky action.

A challenge belongs to one user and one purpose, lives ``sms_code_ttl_seconds`` (5 min),
accepts ``sms_code_max_attempts`` wrong proofs and is passed once. Its ``methods`` are
``["sms"]``, or ``["sms", "totp"]`` when the user has an authenticator. When it is created
with SMS as the only method, a ``step_up`` code is texted at once (within the usual SMS rate
limits; ``sms_sent`` in the problem says whether it was); with TOTP available nothing is
sent, and the client asks ``POST /v1/verification-codes {purpose: "step_up"}`` if the user
prefers SMS.

Sign-in (``purpose="sign_in"``) is completed by ``POST /v1/sessions/step-up`` and returns
tokens. Any other feature uses the same machinery for risky actions:

1. ``raise await require_step_up(services, caller=..., user_id=..., purpose="withdrawal",
   context={...})`` -- the challenge is committed in a unit of its own, so the caller's
   rollback does not lose it; the client gets ``401 step_up_required`` with ``challenge_id``;
2. the client proves it with ``POST /v1/me/step-up {challenge_id, verification_code |
   totp_code}`` (signed in as that user);
3. the client repeats the action with the challenge id, and the feature calls
   :func:`redeem_step_up` in its own unit of work: the context exactly once, within 5 minutes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, NoReturn, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit import Actor, record_event
from ewallet.identity import repository as users_repository
from ewallet.identity.codes.service import issue_and_queue, run_with_code
from ewallet.identity.errors import (
    StepUpRequiredError,
    TooManyAttemptsError,
    VerificationCodeExpiredError,
    VerificationCodeInvalidError,
)
from ewallet.identity.runtime import Caller
from ewallet.identity.stepup import repository as repo
from ewallet.identity.stepup.views import Challenge, ChallengeRow, Proof
from ewallet.identity.throttles import code_limits
from ewallet.identity.totp.service import TotpBound, check_bounded, verify_user_totp
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.models.identity import SIGN_IN_CHALLENGE, CodePurpose, StepUpMethod, User
from ewallet.services import Services

REDEEM_WINDOW: Final = timedelta(minutes=5)
T = TypeVar("T")
Finish = Callable[[UnitOfWork, ChallengeRow, User], Awaitable[T]]


class _Stale:
    """The challenge was passed or expired by a concurrent request meanwhile."""


@dataclass(frozen=True, slots=True)
class _WrongTotp:
    attempts: int  # wrong proofs of this challenge so far
    account_left: int  # wrong codes the account has left across challenges
    locked: TooManyAttemptsError | None  # this one spent the account's budget


def methods_for(user: User) -> list[str]:
    if user.totp_enabled_at is not None:
        return [StepUpMethod.SMS.value, StepUpMethod.TOTP.value]
    return [StepUpMethod.SMS.value]


async def create_challenge(
    uow: UnitOfWork,
    services: Services,
    *,
    caller: Caller,
    user: User,
    purpose: str,
    context: dict[str, Any],
    methods: list[str] | None = None,
) -> Challenge:
    """A challenge in the caller's unit; texts a code when SMS is the only method."""
    now = services.clock.now()
    methods = methods or methods_for(user)
    ttl = services.settings.sms_code_ttl_seconds
    conn = await uow.connection()
    challenge_id = await repo.add_challenge(
        conn,
        user_id=user.id,
        purpose=purpose,
        methods=methods,
        context=context,
        now=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    sms_sent = False
    if methods == [StepUpMethod.SMS.value]:
        limits = code_limits(
            services.settings, phone=user.phone, purpose=CodePurpose.STEP_UP.value, ip=caller.ip
        )
        if await services.limiter.hit_all(*limits) is None:
            await issue_and_queue(
                uow,
                services,
                phone=user.phone,
                purpose=CodePurpose.STEP_UP,
                user=user,
                locale=caller.locale,
                client_ip=caller.ip,
            )
            sms_sent = True
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=Actor("user", user.id, caller.ip),
        action="auth.step_up_required",
        subject_type="challenge",
        subject_id=challenge_id,
        details={"purpose": purpose, "methods": methods},
    )
    return Challenge(challenge_id, methods, ttl, sms_sent)


async def require_step_up(
    services: Services, *, caller: Caller, user_id: str, purpose: str, context: dict[str, Any]
) -> StepUpRequiredError:
    """Commit a challenge for a risky action and return the error to raise (module doc)."""

    async def work(uow: UnitOfWork) -> Challenge:
        user = await users_repository.get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        return await create_challenge(
            uow, services, caller=caller, user=user, purpose=purpose, context=context
        )

    return (await run_unit(services.engine, work)).error()


async def redeem_step_up(
    conn: AsyncConnection, *, clock: Clock, user_id: str, challenge_id: str, purpose: str
) -> dict[str, Any] | None:
    """Use a passed challenge once, in the caller's transaction: its context, or None."""
    return await repo.redeem_challenge(
        conn, challenge_id=challenge_id, user_id=user_id, purpose=purpose, now=clock.now()
    )


async def prove_challenge(
    services: Services,
    *,
    challenge_id: str,
    proof: Proof,
    accept: Callable[[str], bool],
    user_id: str | None,
    finish: Finish[T],
    actor: Actor,
) -> T:
    """Check ``proof`` against the challenge and run ``finish`` in the unit that passes it.

    Refusals, in order: ``not_found`` (unknown challenge, a purpose ``accept`` refuses, or
    -- when ``user_id`` is given -- another user's); ``verification_code_expired`` (passed
    or expired); ``too_many_attempts`` (the challenge's wrong proofs are spent);
    ``validation_error`` (a method the challenge does not offer); then the proof's own:
    a wrong one is counted on the challenge (and, for SMS, on the code) even though the
    call fails, answering ``verification_code_invalid`` (``remaining_attempts``) or
    ``too_many_attempts``. A TOTP code is also held to the account's bound across
    challenges (:class:`~ewallet.identity.totp.service.TotpBound`): while it is locked
    every code is refused with ``too_many_attempts``; the wrong one that spends it locks
    and tells the owner.
    """
    row, phone = await _load(services, challenge_id)
    if row is None or not accept(row.purpose) or (user_id and row.user_id != user_id):
        raise NotFoundError("no such challenge")
    _check_live(services, row)
    limit = services.settings.sms_code_max_attempts

    async def passed(uow: UnitOfWork) -> T | _Stale:
        conn = await uow.connection()
        locked = await repo.get_challenge(conn, challenge_id, for_update=True)
        now = services.clock.now()
        if locked is None or locked.completed_at is not None or locked.expires_at <= now:
            return _Stale()
        redeem_until = now + REDEEM_WINDOW
        if not await repo.complete_challenge(
            conn, challenge_id=challenge_id, now=now, redeem_until=redeem_until
        ):
            return _Stale()
        user = await users_repository.get_user(uow.session, locked.user_id, for_update=True)
        assert user is not None
        return await finish(uow, locked, user)

    if proof.verification_code is not None:
        if StepUpMethod.SMS not in row.methods:
            raise ValidationFailedError("this challenge does not accept SMS codes")
        try:
            result = await run_with_code(
                services,
                passed,
                phone=phone,
                purpose=CodePurpose.STEP_UP,
                code=proof.verification_code,
            )
        except (VerificationCodeInvalidError, TooManyAttemptsError) as wrong:
            attempts = await _count_attempt(services, challenge_id)
            code_left = wrong.extra.get("remaining_attempts", 0)
            _raise_wrong(min(code_left, limit - attempts), services)
    elif proof.totp_code is not None:
        if StepUpMethod.TOTP not in row.methods:
            raise ValidationFailedError("this challenge does not accept authenticator codes")
        totp_code = proof.totp_code
        challenge = row

        async def with_totp(uow: UnitOfWork) -> T | _Stale | _WrongTotp:
            owner = await users_repository.get_user(uow.session, challenge.user_id, for_update=True)
            if owner is None:
                raise NotFoundError("no such challenge")

            async def check(conn: AsyncConnection) -> bool:
                return await verify_user_totp(
                    conn,
                    clock=services.clock,
                    cipher=services.security.cipher,
                    user_id=challenge.user_id,
                    code=totp_code,
                )

            checked = await check_bounded(
                uow,
                clock=services.clock,
                bound=TotpBound.from_settings(services.settings),
                user=owner,
                actor=actor,
                check=check,
                details={"purpose": challenge.purpose},
            )
            if not checked.ok:
                conn = await uow.connection()
                attempts = await repo.count_challenge_attempt(conn, challenge_id)
                return _WrongTotp(attempts, checked.left, checked.locked)
            return await passed(uow)

        outcome = await run_unit(services.engine, with_totp)
        if isinstance(outcome, _WrongTotp):
            if outcome.locked is not None:
                raise outcome.locked
            _raise_wrong(min(limit - outcome.attempts, outcome.account_left), services)
        result = outcome
    else:
        raise ValidationFailedError("give verification_code or totp_code")
    if isinstance(result, _Stale):
        raise VerificationCodeExpiredError("this challenge was already used or has expired")
    return result


async def complete_action_challenge(
    services: Services, *, caller: Caller, user_id: str, challenge_id: str, proof: Proof
) -> None:
    """``POST /v1/me/step-up``: pass the caller's own challenge of a risky action (audited).

    Refusals: those of :func:`prove_challenge`; a sign-in challenge is ``not_found`` here.
    """

    async def finish(uow: UnitOfWork, challenge: ChallengeRow, user: User) -> bool:
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=Actor("user", user.id, caller.ip),
            action="auth.step_up_passed",
            subject_type="challenge",
            subject_id=challenge.id,
            details={"purpose": challenge.purpose},
        )
        return True

    await prove_challenge(
        services,
        challenge_id=challenge_id,
        proof=proof,
        accept=lambda purpose: purpose != SIGN_IN_CHALLENGE,
        user_id=user_id,
        finish=finish,
        actor=Actor("user", user_id, caller.ip),
    )


def _check_live(services: Services, row: ChallengeRow) -> None:
    if row.completed_at is not None or row.expires_at <= services.clock.now():
        raise VerificationCodeExpiredError("this challenge was already used or has expired")
    if row.attempts >= services.settings.sms_code_max_attempts:
        raise TooManyAttemptsError(
            "too many wrong codes for this challenge; start again",
            retry_after=services.settings.sms_resend_seconds,
        )


def _raise_wrong(remaining: int, services: Services) -> NoReturn:
    if remaining <= 0:
        raise TooManyAttemptsError(
            "too many wrong codes for this challenge; start again",
            retry_after=services.settings.sms_resend_seconds,
        )
    raise VerificationCodeInvalidError("wrong code", remaining_attempts=remaining)


async def _load(services: Services, challenge_id: str) -> tuple[ChallengeRow | None, str]:
    async def work(uow: UnitOfWork) -> tuple[ChallengeRow | None, str]:
        row = await repo.get_challenge(await uow.connection(), challenge_id)
        if row is None:
            return None, ""
        user = await users_repository.get_user(uow.session, row.user_id)
        return row, user.phone if user is not None else ""

    return await run_unit(services.engine, work, read_only=True)


async def _count_attempt(services: Services, challenge_id: str) -> int:
    async def work(uow: UnitOfWork) -> int:
        return await repo.count_challenge_attempt(await uow.connection(), challenge_id)

    return await run_unit(services.engine, work)
