"""Confirming with the authenticator (the signed-in owner or manager) and approving for
someone else (a second person of the same merchant, at the till)."""

from __future__ import annotations

from ewallet.identity.errors import InvalidCredentialsError, TooManyAttemptsError, TotpInvalidError
from ewallet.identity.totp.otp import matching_step
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.people import repository as repo
from ewallet.merchants.people.errors import MerchantUserDisabledError, TeamRuleError
from ewallet.merchants.people.permissions import REFUNDING
from ewallet.merchants.people.service.audit_trail import audit, audit_alone
from ewallet.merchants.people.service.failure_lock import (
    count_attempt,
    dummy_hash,
    refuse_unknown_lock,
    reserve_attempt,
)
from ewallet.merchants.people.service.sessions import (
    WRONG_CREDENTIALS,
    normalize_email,
    totp_context,
)
from ewallet.merchants.people.views import MerchantUserView, PortalUser
from ewallet.models.merchant_users import MerchantUserStatus
from ewallet.services import Services


async def confirm_with_code(
    services: Services, user: PortalUser, *, code: str, purpose: str
) -> None:
    """The signed-in owner or manager confirms an action (``purpose``, audited) with their
    authenticator's code: accepted once (its time step is stored), each try counted on
    their row against the sign-in lock. ``422 totp_invalid`` when wrong or reused; ``429
    too_many_attempts`` once locked; ``403`` for a person without an authenticator."""
    if not user.needs_totp or user.must_enrol_totp:
        raise TeamRuleError("this needs an authenticator")
    row = await reserve_attempt(services, user_id=user.user_id)
    assert row is not None  # a live session's row exists

    async def settle(uow: UnitOfWork) -> Exception | None:
        conn = await uow.connection()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None
        step = None
        if current.totp_secret_encrypted:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            step = matching_step(secret, code.strip(), int(services.clock.now().timestamp()))
        if step is None or (current.totp_last_step is not None and step <= current.totp_last_step):
            await audit(
                conn,
                services,
                user.actor(),
                "merchant_user.confirmation_failed",
                current.id,
                {"purpose": purpose},
            )
            return TotpInvalidError("the authenticator code is wrong")
        await repo.update_user(conn, current.id, failures=0, locked_until=None, totp_last_step=step)
        await audit(
            conn,
            services,
            user.actor(),
            "merchant_user.confirmed",
            current.id,
            {"purpose": purpose},
        )
        return None

    refused = await run_unit(services.engine, settle)
    if refused is not None:
        raise refused


async def verify_approver(
    services: Services,
    requester: PortalUser,
    *,
    email: str,
    password: str,
    totp_code: str,
    purpose: str,
) -> MerchantUserView:
    """A second person of the requester's merchant -- an owner or manager
    (``REFUNDING``) -- approves an action on their behalf (a cashier's refund at the
    till): their email, password and authenticator code, as at sign-in. The attempt is
    counted on the approver's row *before* the password is compared (wrong credentials
    lock the approver as failed sign-ins do); a person of another merchant is answered
    like an unknown email, their row untouched.

    Refusals in order: ``429 too_many_attempts`` (the approver is locked); ``401
    invalid_credentials`` (unknown email or another merchant's, wrong password, wrong or
    reused code); ``403 forbidden`` (right password of a cashier, or of someone
    disabled). Both people are named in the audit events (``merchant_user.approved`` /
    ``.approval_failed``).
    """
    email = normalize_email(email)

    async def reserve(uow: UnitOfWork) -> repo.MerchantUserRow | TooManyAttemptsError | None:
        conn = await uow.connection()
        row = await repo.user_by_email(conn, email, for_update=True)
        if row is None or row.merchant_id != requester.merchant_id:
            return None
        refused = await count_attempt(conn, services, row)
        return row if refused is None else refused

    found = await run_unit(services.engine, reserve)
    if isinstance(found, TooManyAttemptsError):
        raise found
    details = {"purpose": purpose, "requested_by": requester.user_id}
    if found is None:
        await refuse_unknown_lock(services, email)
        await services.security.passwords.verify(await dummy_hash(services), password)
        await audit_alone(
            services,
            requester.actor(),
            "merchant_user.approval_failed",
            None,
            {**details, "reason": "unknown_email"},
        )
        raise InvalidCredentialsError(WRONG_CREDENTIALS)
    row = found
    password_ok = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> MerchantUserView | Exception:
        conn = await uow.connection()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None
        failure: str | None = None
        refusal: Exception = InvalidCredentialsError(WRONG_CREDENTIALS)
        step = None
        if not password_ok or current.password_hash != row.password_hash:
            failure = "password"
        elif not REFUNDING.allows(current.role):
            failure, refusal = "role", TeamRuleError("this person may not approve this")
        elif current.status != MerchantUserStatus.ACTIVE:
            failure, refusal = "disabled", MerchantUserDisabledError("this account is disabled")
        elif current.totp_enrolled_at is None or not current.totp_secret_encrypted:
            failure = "totp"
        else:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            now = int(services.clock.now().timestamp())
            step = matching_step(secret, totp_code.strip(), now)
            if step is None:
                failure = "totp"
            elif current.totp_last_step is not None and step <= current.totp_last_step:
                failure = "totp_reused"
        if failure is not None:
            if failure in {"role", "disabled"}:  # the password was right
                await repo.update_user(conn, current.id, failures=0, locked_until=None)
            await audit(
                conn,
                services,
                requester.actor(),
                "merchant_user.approval_failed",
                current.id,
                {**details, "reason": failure, "approver": current.id},
            )
            return refusal
        await repo.update_user(conn, current.id, failures=0, locked_until=None, totp_last_step=step)
        await audit(
            conn,
            services,
            requester.actor(),
            "merchant_user.approved",
            current.id,
            {**details, "approver": current.id},
        )
        return current.view()

    outcome = await run_unit(services.engine, settle)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
