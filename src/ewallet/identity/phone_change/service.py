"""Changing the account's phone number (docs/account-lifecycle.md).

Two ways, one outcome:

- **With the old number** (:func:`change_phone_with_codes`): the payment password, a
  ``phone_change_old`` code texted to the account's number and a ``change_phone`` code
  texted to the new one. The PIN is checked first (its own attempt budget, before any
  unit); both codes are then proven in the one unit that changes the number
  (:func:`~ewallet.identity.codes.service.run_with_codes`), so a missing or wrong code
  leaves the number, the other code and every session as they were.
- **Without it** (:func:`request_reviewed_change`): the owner's verified real name and ID
  number and the new number's code open a request that a support agent or a risk officer
  approves or rejects (:func:`approve_request`, :func:`reject_request`; the staff routes
  are ``/v1/staff/phone-changes``). A wrong name or number uses the code up and counts: 5
  a day, then ``too_many_attempts`` (the audit log is the counter, as for password resets).

A number that belongs to another account is refused with ``phone_already_registered`` --
only after its owner proved the new number's code, as registration answers, so the
refusal tells nobody more than registration already would (the codes are used up). The
change itself (:func:`_apply`) runs in one unit under the user's row lock: the number
changes, every other session ends, the old number gets a notice by SMS and the new one a
confirmation, and ``phone.changed`` joins the audit chain. The old number then no longer
signs in (sign-in looks the account up by number); the new one does. Each step that does
not change the number is audited too (codes sent, refusals after a code was looked at).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor, audit_user
from ewallet.identity import repository as users_repository
from ewallet.identity.codes.service import (
    CodeProof,
    CodeSent,
    request_code,
    run_with_code,
    run_with_codes,
)
from ewallet.identity.errors import IdentityMismatchError, PhoneAlreadyRegisteredError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.phone_change import repository as repo
from ewallet.identity.phone_change.errors import (
    PhoneChangeNotPendingError,
    PhoneChangePendingError,
    PhoneUnchangedError,
    RealNameNotVerifiedError,
)
from ewallet.identity.phone_change.views import (
    PhoneChanged,
    PhoneChangeRequestPage,
    PhoneChangeRequestView,
    PhoneChangeStart,
)
from ewallet.identity.protection.identity_check import claim_matches, parse_claim
from ewallet.identity.recovery.service import MISMATCH_WINDOW, failures_left
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.repository import end_user_sessions
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError, UnauthorizedError
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import check_limit, decode_cursor, encode_cursor
from ewallet.kit.phone import mask_phone, parse_phone
from ewallet.models.identity import CodePurpose, SessionEndReason, User
from ewallet.models.phone_change import PhoneChangeState
from ewallet.notify.service import notify_user
from ewallet.services import Services

MAX_IDENTITY_MISMATCHES: Final = 5
MISMATCH_ACTION: Final = "phone_change.identity_mismatch"
OLD_NUMBER: Final = "old_phone"
NEW_NUMBER: Final = "new_phone"
SUPERSEDED: Final = "superseded by a change made with both SMS codes"


class _Taken:
    """The new number has an account: answered once the unit (and the codes' use) commits."""


class _Mismatch:
    def __init__(self, left: int) -> None:
        self.left = left


def _taken() -> PhoneAlreadyRegisteredError:
    return PhoneAlreadyRegisteredError("this phone number belongs to another account")


async def _account(services: Services, user_id: str) -> User:
    async def work(uow: UnitOfWork) -> User:
        user = await users_repository.get_user(uow.session, user_id)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        return user

    return await run_unit(services.engine, work, read_only=True)


async def _audit(
    services: Services, actor: Actor, action: str, user_id: str, **details: str
) -> None:
    """An audit event in a unit of its own (a step that changed nothing else)."""

    async def work(uow: UnitOfWork) -> None:
        await audit_user(uow, services.clock, actor, action, user_id, details=details)

    await run_unit(services.engine, work)


async def phone_change_start(services: Services, *, user_id: str) -> PhoneChangeStart:
    """The number now, the proofs the account has, and a reviewed request still pending."""

    async def work(uow: UnitOfWork) -> PhoneChangeStart:
        user = await users_repository.get_user(uow.session, user_id)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        pending = await repo.pending_request_of(await uow.connection(), user_id)
        return PhoneChangeStart(
            phone=user.phone,
            has_payment_password=user.payment_password_hash is not None,
            identity_verified=user.identity_verified_at is not None,
            pending=pending,
        )

    return await run_unit(services.engine, work, read_only=True)


# --- Codes --------------------------------------------------------------------------------


async def send_old_number_code(
    services: Services, *, caller: Caller, user_id: str, actor: Actor
) -> CodeSent:
    """Text a ``phone_change_old`` code to the account's own number (audited).

    Refusals: ``account_frozen``; ``rate_limited`` (the code limits of
    :func:`~ewallet.identity.codes.service.request_code`).
    """
    user = await _account(services, user_id)
    ensure_active(user)
    sent = await request_code(
        services, caller=caller, phone=user.phone, purpose=CodePurpose.PHONE_CHANGE_OLD
    )
    await _audit(services, actor, "phone_change.code_sent", user_id, to=OLD_NUMBER)
    return sent


async def send_new_number_code(
    services: Services, *, caller: Caller, user_id: str, new_phone: str, actor: Actor
) -> CodeSent:
    """Text a ``change_phone`` code to the new number (audited, the number masked).

    It is sent whether or not the number has an account, as a ``register`` code is: the
    answer is the same either way. Refusals: ``invalid_phone``; ``phone_unchanged``;
    ``rate_limited``.
    """
    e164 = parse_phone(new_phone)
    user = await _account(services, user_id)
    if e164 == user.phone:
        raise PhoneUnchangedError("that is the account's number already")
    sent = await request_code(services, caller=caller, phone=e164, purpose=CodePurpose.CHANGE_PHONE)
    masked = mask_phone(e164)
    await _audit(services, actor, "phone_change.code_sent", user_id, to=NEW_NUMBER, phone=masked)
    return sent


# --- With the old number ------------------------------------------------------------------


async def change_phone_with_codes(
    services: Services,
    *,
    user_id: str,
    session_id: str,
    new_phone: str,
    old_phone_code: str,
    new_phone_code: str,
    payment_password: str,
    actor: Actor,
) -> PhoneChanged:
    """``POST /v1/me/phone-change``: move the account to ``new_phone`` (module doc). The
    calling session stays signed in; every other one ends.

    Refusals, in order: ``invalid_phone``; ``phone_unchanged``; the PIN check's
    (``account_frozen``, ``payment_password_not_set``, ``payment_password_locked``,
    ``payment_password_invalid``); the codes' (``verification_code_invalid``,
    ``verification_code_expired``, ``too_many_attempts``, each with ``code_for``:
    ``old_phone`` or ``new_phone``); ``phone_already_registered`` (both codes used up).
    Every refusal after the PIN check is audited (``phone.change_refused``).
    """
    e164 = parse_phone(new_phone)
    current = (await _account(services, user_id)).phone
    if e164 == current:
        raise PhoneUnchangedError("that is the account's number already")
    await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)

    async def work(uow: UnitOfWork) -> PhoneChanged | _Taken:
        user = await locked_user(uow, user_id)
        ensure_active(user)
        if await users_repository.find_by_phone(uow.session, e164) is not None:
            await audit_user(
                uow,
                services.clock,
                actor,
                "phone.change_refused",
                user_id,
                details={"reason": "phone_already_registered", "to": mask_phone(e164)},
            )
            return _Taken()  # committed: both codes are used up, as registration does
        now = services.clock.now()
        conn = await uow.connection()
        pending = await repo.pending_request_of(conn, user_id)
        if pending is not None:
            await repo.decide(
                conn,
                request_id=pending.id,
                state=PhoneChangeState.REJECTED,
                staff_id=None,
                note=SUPERSEDED,
                now=now,
            )
        return await _apply(
            uow, services, user=user, new_phone=e164, actor=actor, how="sms_codes", keep=session_id
        )

    proofs = (
        CodeProof(current, CodePurpose.PHONE_CHANGE_OLD, old_phone_code, OLD_NUMBER),
        CodeProof(e164, CodePurpose.CHANGE_PHONE, new_phone_code, NEW_NUMBER),
    )
    try:
        outcome = await run_with_codes(services, work, proofs=proofs)
    except IntegrityError:
        # A registration of the same number committed between our check and the update.
        raise _taken() from None
    except DomainError as refused:
        if refused.code != "account_frozen":
            reason = {"reason": refused.code, "code_for": str(refused.extra.get("code_for", ""))}
            await _audit(services, actor, "phone.change_refused", user_id, **reason)
        raise
    if isinstance(outcome, _Taken):
        raise _taken()
    return outcome


async def _apply(
    uow: UnitOfWork,
    services: Services,
    *,
    user: User,
    new_phone: str,
    actor: Actor,
    how: str,
    keep: str,
) -> PhoneChanged:
    """The change itself, in the caller's unit, on the user's locked row (module doc)."""
    clock = services.clock
    now = clock.now()
    old_phone = user.phone
    away = {"new_phone": mask_phone(new_phone), "hotline": services.settings.hotline}
    # Written while the row still holds the old number: its SMS goes to the old phone.
    await notify_user(uow.session, clock=clock, user=user, kind="phone_changed_away", params=away)
    user.phone = new_phone
    user.updated_at = now
    await uow.session.flush()  # the unique number decides a race with a registration here
    revoked = await end_user_sessions(
        await uow.connection(),
        user_id=user.id,
        now=now,
        reason=SessionEndReason.PHONE_CHANGED,
        keep_session_id=keep,
    )
    await notify_user(uow.session, clock=clock, user=user, kind="phone_changed")
    details = {
        "from": mask_phone(old_phone),
        "to": mask_phone(new_phone),
        "how": how,
        "sessions_revoked": revoked,
    }
    await audit_user(uow, clock, actor, "phone.changed", user.id, details=details)
    return PhoneChanged(phone=new_phone, changed_at=now)


# --- Without it: a reviewed request -------------------------------------------------------


async def request_reviewed_change(
    services: Services,
    *,
    user_id: str,
    new_phone: str,
    new_phone_code: str,
    real_name: str,
    id_number: str,
    actor: Actor,
) -> PhoneChangeRequestView:
    """``POST /v1/me/phone-change-requests``: ask staff to move the account to ``new_phone``.

    Refusals, in order: ``invalid_phone``; ``phone_unchanged``; ``invalid_real_name``,
    ``invalid_id_number`` (formats: no attempt spent); ``real_name_not_verified`` (no
    online identity to check: call the hotline); ``phone_change_pending``;
    ``too_many_attempts`` (5 wrong identities a day, ``retry_after``); the code's refusals;
    ``phone_already_registered`` (code used up); ``identity_mismatch``
    (``remaining_attempts``; the code is used up and the try counted).
    """
    e164 = parse_phone(new_phone)
    user = await _account(services, user_id)
    if e164 == user.phone:
        raise PhoneUnchangedError("that is the account's number already")
    claim = parse_claim(real_name=real_name, id_number=id_number, now=services.clock.now())
    if user.identity_verified_at is None:
        raise RealNameNotVerifiedError("verify your real name first, or call us")
    clock = services.clock

    async def work(uow: UnitOfWork) -> PhoneChangeRequestView | _Taken | _Mismatch:
        locked = await locked_user(uow, user_id)
        conn = await uow.connection()
        if await repo.pending_request_of(conn, user_id) is not None:
            raise PhoneChangePendingError("a request is already waiting for review")
        left = await failures_left(
            uow,
            clock=clock,
            action=MISMATCH_ACTION,
            user_id=user_id,
            limit=MAX_IDENTITY_MISMATCHES,
            window=MISMATCH_WINDOW,
        )
        if not claim_matches(locked, services.security, claim):
            await audit_user(uow, clock, actor, MISMATCH_ACTION, user_id)
            return _Mismatch(left - 1)  # committed with the code's use
        if await users_repository.find_by_phone(uow.session, e164) is not None:
            details = {"reason": "phone_already_registered", "to": mask_phone(e164)}
            await audit_user(uow, clock, actor, "phone.change_refused", user_id, details=details)
            return _Taken()
        now = clock.now()
        request_id = new_id("pcr")
        await repo.insert_request(
            conn,
            request_id=request_id,
            user_id=user_id,
            old_phone=locked.phone,
            new_phone=e164,
            now=now,
        )
        params = {"new_phone": mask_phone(e164), "hotline": services.settings.hotline}
        await notify_user(
            uow.session, clock=clock, user=locked, kind="phone_change_requested", params=params
        )
        details = {"request_id": request_id, "to": mask_phone(e164)}
        await audit_user(uow, clock, actor, "phone_change.requested", user_id, details=details)
        found = await repo.request_by_id(conn, request_id)
        assert found is not None
        return found

    try:
        outcome = await run_with_code(
            services, work, phone=e164, purpose=CodePurpose.CHANGE_PHONE, code=new_phone_code
        )
    except IntegrityError:
        # A second request of the same user committed first (the one-pending index).
        raise PhoneChangePendingError("a request is already waiting for review") from None
    if isinstance(outcome, _Taken):
        raise _taken()
    if isinstance(outcome, _Mismatch):
        raise IdentityMismatchError(
            "the identity details do not match", remaining_attempts=outcome.left
        )
    return outcome


async def my_requests(services: Services, *, user_id: str) -> list[PhoneChangeRequestView]:
    """``GET /v1/me/phone-change-requests``: the owner's requests, newest first (20)."""

    async def work(uow: UnitOfWork) -> list[PhoneChangeRequestView]:
        return await repo.requests_of_user(await uow.connection(), user_id, limit=20)

    return await run_unit(services.engine, work, read_only=True)


async def my_request(
    services: Services, *, user_id: str, request_id: str
) -> PhoneChangeRequestView:
    """One of the owner's requests; ``not_found`` for anyone else's (never ``forbidden``:
    the answer does not tell that the id exists)."""

    async def work(uow: UnitOfWork) -> PhoneChangeRequestView:
        found = await repo.request_by_id(await uow.connection(), request_id)
        if found is None or found.user_id != user_id:
            raise NotFoundError("no such phone change request")
        return found

    return await run_unit(services.engine, work, read_only=True)


# --- Staff: the review ---------------------------------------------------------------------


async def list_requests(
    services: Services, *, state: PhoneChangeState, limit: int, cursor: str | None
) -> PhoneChangeRequestPage:
    """``GET /v1/staff/phone-changes``: requests in ``state``, oldest first (a queue)."""
    check_limit(limit)
    after: tuple[datetime, str] | None = None
    if cursor is not None:
        position = decode_cursor(cursor)
        try:
            after = (datetime.fromisoformat(str(position["at"])), str(position["id"]))
        except (KeyError, ValueError):
            raise NotFoundError("no such position") from None

    async def work(uow: UnitOfWork) -> list[PhoneChangeRequestView]:
        conn = await uow.connection()
        return await repo.list_requests(conn, state=state, limit=limit + 1, after=after)

    rows = await run_unit(services.engine, work, read_only=True)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"at": last.created_at.isoformat(), "id": last.id})
    return PhoneChangeRequestPage(items=items, next_cursor=next_cursor)


async def get_request(services: Services, *, request_id: str) -> PhoneChangeRequestView:
    """``GET /v1/staff/phone-changes/{id}`` (``not_found``)."""

    async def work(uow: UnitOfWork) -> PhoneChangeRequestView:
        found = await repo.request_by_id(await uow.connection(), request_id)
        if found is None:
            raise NotFoundError("no such phone change request")
        return found

    return await run_unit(services.engine, work, read_only=True)


async def approve_request(
    services: Services, *, staff_id: str, actor: Actor, request_id: str, note: str
) -> PhoneChangeRequestView:
    """Approve: the number changes as with both codes, every session of the owner ends
    (they lost the old phone: whoever holds it may be signed in), audited with the staff
    member as actor. Applied once: a second decision answers ``phone_change_not_pending``.

    Refusals: ``not_found``; ``phone_change_not_pending``; ``phone_already_registered``
    (the number was taken meanwhile: nothing changes, the request stays pending -- reject it).
    """
    return await _decide(
        services, staff_id=staff_id, actor=actor, request_id=request_id, note=note, approve=True
    )


async def reject_request(
    services: Services, *, staff_id: str, actor: Actor, request_id: str, note: str
) -> PhoneChangeRequestView:
    """Reject: the number stays, the owner is told, audited. Refusals: ``not_found``,
    ``phone_change_not_pending``."""
    return await _decide(
        services, staff_id=staff_id, actor=actor, request_id=request_id, note=note, approve=False
    )


async def _decide(
    services: Services, *, staff_id: str, actor: Actor, request_id: str, note: str, approve: bool
) -> PhoneChangeRequestView:
    clock = services.clock

    async def work(uow: UnitOfWork) -> PhoneChangeRequestView:
        conn = await uow.connection()
        found = await repo.request_by_id(conn, request_id)  # unlocked: which user to lock
        if found is None:
            raise NotFoundError("no such phone change request")
        user = await locked_user(uow, found.user_id)  # step 1 of the lock order
        state = PhoneChangeState.APPROVED if approve else PhoneChangeState.REJECTED
        now = clock.now()
        if not await repo.decide(
            conn, request_id=request_id, state=state, staff_id=staff_id, note=note, now=now
        ):
            raise PhoneChangeNotPendingError("this request was decided already")
        details = {"request_id": request_id, "note": note[:200]}
        if approve:
            if await users_repository.find_by_phone(uow.session, found.new_phone) is not None:
                raise _taken()
            await _apply(
                uow,
                services,
                user=user,
                new_phone=found.new_phone,
                actor=actor,
                how="review",
                keep="",
            )
            await audit_user(uow, clock, actor, "phone_change.approved", user.id, details=details)
        else:
            params = {
                "new_phone": mask_phone(found.new_phone),
                "hotline": services.settings.hotline,
            }
            await notify_user(
                uow.session, clock=clock, user=user, kind="phone_change_rejected", params=params
            )
            await audit_user(uow, clock, actor, "phone_change.rejected", user.id, details=details)
        decided = await repo.request_by_id(conn, request_id)
        assert decided is not None
        return decided

    try:
        return await run_unit(services.engine, work)
    except IntegrityError:
        raise _taken() from None
