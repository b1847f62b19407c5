"""SMS verification codes: 6 random digits, stored as a keyed digest, bound to phone and
purpose, valid for a few minutes, used once, killed after too many wrong entries.

Sending (``POST /v1/verification-codes``, :func:`request_code`) tells nobody who has an
account: the answer is the same ``202 {expires_in, resend_after}`` for every well-formed
phone and every purpose, and the work behind it is the same too -- the same rate limits
are charged, the same account lookup runs, a code row is always written. Only whether the
SMS leaves differs, and only where sending would be useless or harmful:

* ``register`` and ``change_phone`` always send -- the code is how the phone's owner proves
  it, and proving a ``register`` code for a taken phone then answers
  ``phone_already_registered`` to that owner alone (DESIGN.md);
* ``login``, ``reset_*``, ``step_up`` and ``freeze`` send only to a phone with an account: a
  stranger's phone gets nothing, so the endpoint cannot be used to text arbitrary people
  "your sign-in code", and the caller cannot tell (the unused code row expires unseen).

The SMS and the code row commit in one transaction (outbox event ``sms.send`` with a ``code``
member); the embedded relay or ``ewallet worker`` sends it after commit.

Proving: a wrong entry must count even though the use case that carried it fails and rolls
back, so :func:`run_with_code` proves the code inside the caller's unit of work and, when
the code is wrong, records the attempt in a unit of its own after that rollback.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.config import Settings
from ewallet.identity import repository as users_repository
from ewallet.identity.codes import repository as repo
from ewallet.identity.codes.sms import code_sms_text
from ewallet.identity.errors import (
    TooManyAttemptsError,
    VerificationCodeExpiredError,
    VerificationCodeInvalidError,
)
from ewallet.identity.runtime import Caller
from ewallet.identity.throttles import code_limits
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.i18n import Locale
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import CodePurpose, User
from ewallet.notify.service import SMS_TOPIC, user_locale
from ewallet.notify.templates import SENDER, with_anti_phishing
from ewallet.security.crypto import KeyedDigest
from ewallet.services import Services
from ewallet.worker.outbox import enqueue

T = TypeVar("T")

# Codes that prove a phone nobody has yet: always sent.
SENT_TO_ANY_PHONE: Final = frozenset({CodePurpose.REGISTER, CodePurpose.CHANGE_PHONE})


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_in: int
    resend_after: int


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in: int
    resend_after: int


class _WrongCode(Exception):  # noqa: N818 -- internal signal, never leaves this module
    def __init__(self, code_id: int) -> None:
        self.code_id = code_id


def code_digest(digest: KeyedDigest, *, phone: str, purpose: str, code: str) -> str:
    return digest(f"sms-code:{phone}:{purpose}:{code}")


async def request_code(
    services: Services, *, caller: Caller, phone: str, purpose: CodePurpose
) -> CodeSent:
    """``POST /v1/verification-codes``: see the module docstring for what is (not) sent.

    Refusals, in order: ``invalid_phone``; ``rate_limited`` (one code per phone and purpose
    every ``sms_resend_seconds``, per phone an hour and a day, per address an hour).
    """
    e164 = parse_phone(phone)
    refused = await services.limiter.hit_all(
        *code_limits(services.settings, phone=e164, purpose=purpose.value, ip=caller.ip)
    )
    if refused is not None:
        raise refused.error("too many codes requested; wait before asking again")

    async def work(uow: UnitOfWork) -> IssuedCode:
        user = await users_repository.find_by_phone(uow.session, e164)
        has_account = users_repository.is_signable(user)
        return await issue_and_queue(
            uow,
            services,
            phone=e164,
            purpose=purpose,
            user=user if has_account else None,
            locale=caller.locale,
            client_ip=caller.ip,
            send=purpose in SENT_TO_ANY_PHONE or has_account,
        )

    issued = await run_unit(services.engine, work)
    return CodeSent(expires_in=issued.expires_in, resend_after=issued.resend_after)


async def issue_code(
    conn: AsyncConnection,
    *,
    clock: Clock,
    settings: Settings,
    digest: KeyedDigest,
    phone: str,
    purpose: CodePurpose,
    client_ip: str | None,
) -> IssuedCode:
    """A new code for ``phone`` and ``purpose`` in the caller's transaction; earlier live
    codes for them stop working. Nothing is sent (see :func:`issue_and_queue`)."""
    now = clock.now()
    await repo.invalidate_live_codes(conn, phone=phone, purpose=purpose, now=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    await repo.add_code(
        conn,
        phone=phone,
        purpose=purpose,
        code_hash=code_digest(digest, phone=phone, purpose=purpose.value, code=code),
        now=now,
        expires_at=now + timedelta(seconds=settings.sms_code_ttl_seconds),
        client_ip=client_ip,
    )
    return IssuedCode(
        code=code,
        expires_in=settings.sms_code_ttl_seconds,
        resend_after=settings.sms_resend_seconds,
    )


async def queue_code_sms(
    session: AsyncSession,
    *,
    clock: Clock,
    phone: str,
    purpose: CodePurpose,
    issued: IssuedCode,
    user: User | None,
    locale: Locale,
) -> int:
    """Write the ``sms.send`` event for ``issued`` in the caller's transaction.

    In the account's language and with its anti-phishing code when there is an account,
    otherwise in ``locale`` (the caller's ``Accept-Language``).
    """
    language = user_locale(user) if user is not None else locale
    body = code_sms_text(
        code=issued.code, purpose=purpose, minutes=max(1, issued.expires_in // 60), locale=language
    )
    if user is not None:
        body = with_anti_phishing(body, user.anti_phishing_code, language)
    return await enqueue(
        session,
        topic=SMS_TOPIC,
        payload={
            "to": phone,
            "sender": SENDER,
            "body": body,
            "kind": "verification_code",
            "purpose": purpose.value,
            "code": issued.code,
        },
        clock=clock,
    )


async def issue_and_queue(
    uow: UnitOfWork,
    services: Services,
    *,
    phone: str,
    purpose: CodePurpose,
    user: User | None,
    locale: Locale,
    client_ip: str | None,
    send: bool = True,
) -> IssuedCode:
    """A new code row and (if ``send``) its SMS, in ``uow``; the relay wakes after commit.

    No rate limit is charged here: callers that act for an anonymous client check
    :func:`ewallet.identity.throttles.code_limits` first.
    """
    issued = await issue_code(
        await uow.connection(),
        clock=services.clock,
        settings=services.settings,
        digest=services.security.digest,
        phone=phone,
        purpose=purpose,
        client_ip=client_ip,
    )
    if send:
        await queue_code_sms(
            uow.session,
            clock=services.clock,
            phone=phone,
            purpose=purpose,
            issued=issued,
            user=user,
            locale=locale,
        )
    return issued


async def _consume_code(
    conn: AsyncConnection,
    *,
    clock: Clock,
    digest: KeyedDigest,
    phone: str,
    purpose: CodePurpose,
    code: str,
) -> None:
    """Use the live code in the caller's transaction, or raise (see run_with_code)."""
    now = clock.now()
    live = await repo.newest_live_code(conn, phone=phone, purpose=purpose)
    if live is None or live.expires_at <= now:
        raise VerificationCodeExpiredError("no live code for this phone and purpose")
    expected = code_digest(digest, phone=phone, purpose=purpose.value, code=code)
    if not hmac.compare_digest(live.code_hash, expected):
        raise _WrongCode(live.id)
    if not await repo.use_code(conn, code_id=live.id, now=now):
        raise VerificationCodeExpiredError("the code was already used")


async def _count_wrong_entry(services: Services, *, code_id: int) -> int:
    """Count a wrong entry in its own transaction; returns the attempts left (0: killed)."""
    most = services.settings.sms_code_max_attempts

    async def work(uow: UnitOfWork) -> int:
        attempts = await repo.count_wrong_entry(
            await uow.connection(), code_id=code_id, max_attempts=most, now=services.clock.now()
        )
        return max(0, most - attempts)

    return await run_unit(services.engine, work)


async def run_with_code(
    services: Services,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    phone: str,
    purpose: CodePurpose,
    code: str,
) -> T:
    """Prove the code and run ``work`` in one unit of work; a wrong code counts regardless.

    Refusals: ``verification_code_expired`` (no live code, or used meanwhile),
    ``verification_code_invalid`` (``remaining_attempts``), ``too_many_attempts`` (the
    wrong entry that killed the code).
    """

    async def proven(uow: UnitOfWork) -> T:
        await _consume_code(
            await uow.connection(),
            clock=services.clock,
            digest=services.security.digest,
            phone=phone,
            purpose=purpose,
            code=code,
        )
        return await work(uow)

    try:
        return await run_unit(services.engine, proven)
    except _WrongCode as wrong:
        remaining = await _count_wrong_entry(services, code_id=wrong.code_id)
    if remaining == 0:
        raise TooManyAttemptsError(
            "too many wrong entries: this code no longer works; ask for a new one",
            retry_after=services.settings.sms_resend_seconds,
        )
    raise VerificationCodeInvalidError("wrong code", remaining_attempts=remaining)


@dataclass(frozen=True, slots=True)
class CodeProof:
    """One code of :func:`run_with_codes`; ``label`` names it in a refusal (``code_for``)."""

    phone: str
    purpose: CodePurpose
    code: str
    label: str


async def run_with_codes(
    services: Services, work: Callable[[UnitOfWork], Awaitable[T]], *, proofs: tuple[CodeProof, ...]
) -> T:
    """:func:`run_with_code` for several codes that must all be right (a phone change: the
    old number's and the new one's). They are proven in order in the one unit that runs
    ``work``, so none is used unless every one is right and ``work`` commits; the first
    wrong one counts (in a unit of its own) and is answered with its ``code_for`` label.
    """

    async def proven(uow: UnitOfWork) -> T:
        for proof in proofs:
            try:
                await _consume_code(
                    await uow.connection(),
                    clock=services.clock,
                    digest=services.security.digest,
                    phone=proof.phone,
                    purpose=proof.purpose,
                    code=proof.code,
                )
            except VerificationCodeExpiredError as expired:
                expired.extra["code_for"] = proof.label
                raise
            except _WrongCode as wrong:
                raise _WrongLabelledCode(wrong.code_id, proof.label) from None
        return await work(uow)

    try:
        return await run_unit(services.engine, proven)
    except _WrongLabelledCode as wrong:
        remaining = await _count_wrong_entry(services, code_id=wrong.code_id)
        label = wrong.label
    if remaining == 0:
        raise TooManyAttemptsError(
            "too many wrong entries: this code no longer works; ask for a new one",
            retry_after=services.settings.sms_resend_seconds,
            code_for=label,
        )
    raise VerificationCodeInvalidError("wrong code", remaining_attempts=remaining, code_for=label)


class _WrongLabelledCode(_WrongCode):
    def __init__(self, code_id: int, label: str) -> None:
        super().__init__(code_id)
        self.label = label
