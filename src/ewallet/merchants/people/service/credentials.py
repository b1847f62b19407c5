"""The authenticator and the password: enrolling the TOTP secret at the first sign-in,
confirming it with a first code, and replacing the (one-time) password."""

from __future__ import annotations

import pyotp

from ewallet.identity.errors import InvalidCredentialsError, TotpInvalidError, WeakPasswordError
from ewallet.identity.password_policy import login_password_problems
from ewallet.identity.totp.otp import matching_step
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.people import repository as repo
from ewallet.merchants.people.errors import TeamRuleError
from ewallet.merchants.people.service.audit_trail import audit, audit_alone
from ewallet.merchants.people.service.failure_lock import reserve_attempt
from ewallet.merchants.people.service.sessions import totp_context
from ewallet.merchants.people.views import PortalUser, TotpEnrolment
from ewallet.services import Services

TOTP_ISSUER = "ewallet merchant"
MIN_PASSWORD_LENGTH = 12


async def totp_enrolment(services: Services, user: PortalUser) -> TotpEnrolment:
    """The secret an owner or manager scans at the first sign-in: made once and kept
    (encrypted) until confirmed, so reloading the page shows the same code. ``403`` for a
    cashier or someone already enrolled."""
    if not user.must_enrol_totp:
        raise TeamRuleError("the authenticator is enrolled already")

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        row = await repo.user_by_id(conn, user.user_id, for_update=True)
        assert row is not None
        if row.totp_secret_encrypted:
            return services.security.cipher.decrypt(
                row.totp_secret_encrypted, context=totp_context(row.id)
            )
        secret = pyotp.random_base32()
        encrypted = services.security.cipher.encrypt(secret, context=totp_context(row.id))
        await repo.update_user(conn, row.id, totp_secret_encrypted=encrypted)
        return secret

    secret = await run_unit(services.engine, work)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return TotpEnrolment(secret, uri)


async def confirm_totp(services: Services, user: PortalUser, *, code: str) -> None:
    """The first code from the authenticator proves it was scanned; from now on sign-in
    asks for a code (``merchant_user.totp_enrolled``). ``422 totp_invalid`` when wrong."""
    if not user.must_enrol_totp:
        raise TeamRuleError("the authenticator is enrolled already")

    async def work(uow: UnitOfWork) -> Exception | None:
        conn = await uow.connection()
        row = await repo.user_by_id(conn, user.user_id, for_update=True)
        assert row is not None
        if not row.totp_secret_encrypted:
            return TotpInvalidError("scan the code first")
        secret = services.security.cipher.decrypt(
            row.totp_secret_encrypted, context=totp_context(row.id)
        )
        now = services.clock.now()
        step = matching_step(secret, code.strip(), int(now.timestamp()))
        if step is None:
            return TotpInvalidError("the authenticator code is wrong")
        await repo.update_user(conn, row.id, totp_enrolled_at=now, totp_last_step=step)
        await audit(conn, services, user.actor(), "merchant_user.totp_enrolled", row.id)
        return None

    refused = await run_unit(services.engine, work)
    if refused is not None:
        raise refused


async def change_password(
    services: Services, user: PortalUser, *, current_password: str, new_password: str
) -> None:
    """Replace the password (the one-time one at the first sign-in). ``401
    invalid_credentials`` for a wrong current password (counted against the lock); ``422
    weak_password`` with ``reasons`` for a new one too short, too common or unchanged."""
    problems = login_password_problems(new_password)
    if len(new_password) < MIN_PASSWORD_LENGTH and "too_short" not in problems:
        problems.append("too_short")
    if new_password == current_password:
        problems.append("same_as_current")
    if problems:
        raise WeakPasswordError("choose another password", reasons=problems)
    row = await reserve_attempt(services, user_id=user.user_id)
    assert row is not None
    if not await services.security.passwords.verify(row.password_hash, current_password):
        await audit_alone(services, user.actor(), "merchant_user.password_change_failed", row.id)
        raise InvalidCredentialsError("the current password is wrong")
    new_hash = await services.security.passwords.hash(new_password)

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.update_user(
            conn,
            row.id,
            password_hash=new_hash,
            must_change_password=False,
            failures=0,
            locked_until=None,
        )
        await audit(conn, services, user.actor(), "merchant_user.password_changed", row.id)

    await run_unit(services.engine, work)
