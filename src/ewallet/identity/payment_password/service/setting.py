"""Setting and changing the payment password (the package doc says how a PIN is checked)."""

from __future__ import annotations

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.change_caps import payment_password_cap, take_change
from ewallet.identity.errors import PaymentPasswordAlreadySetError
from ewallet.identity.guards import locked_user
from ewallet.identity.login_digits import pin_matches_login_digits
from ewallet.identity.payment_password.policy import (
    check_payment_password_for_user,
    ensure_apart_from_login,
    login_digits_refusal,
)
from ewallet.identity.payment_password.service.checks import verify_payment_password
from ewallet.identity.repository import get_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.services import Services


async def set_payment_password(
    services: Services, *, user_id: str, new_pin: str, current_pin: str | None, actor: Actor
) -> None:
    """``PUT /v1/me/payment-password``: set the first PIN (``current_pin`` None) or change
    it (the current one is checked); the owner is told, the change audited.

    Checked in this order, so a refusal wastes nothing: a PIN already set without the
    current one given (``payment_password_already_set``), the policy (``weak_payment_password``),
    then the current PIN with the lock rules (:func:`verify_payment_password`'s refusals),
    then the daily cap (:mod:`ewallet.identity.change_caps`; ``rate_limited``) -- each try
    that gets that far counts -- then the login password's digits and the login password
    itself (:func:`~ewallet.identity.payment_password.policy.ensure_apart_from_login`) --
    after the current PIN, so a stolen session cannot probe the login password's digits
    with changes bound to fail. Only then is the new one hashed and stored (``conflict``
    or ``payment_password_already_set`` when another change won meanwhile).
    """
    engine, clock, settings, security = (
        services.engine,
        services.clock,
        services.settings,
        services.security,
    )

    async def load(uow: UnitOfWork) -> User:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        return user

    user = await run_unit(engine, load, read_only=True)
    if current_pin is None and user.payment_password_hash is not None:
        raise PaymentPasswordAlreadySetError(
            "a payment password is set: give the current one to change it, or reset it"
        )
    check_payment_password_for_user(new_pin, user=user, cipher=security.cipher)
    verified_hash: str | None = None
    if current_pin is not None:
        verified_hash = await verify_payment_password(
            engine,
            clock=clock,
            settings=settings,
            security=security,
            user_id=user_id,
            pin=current_pin,
            actor=actor,
        )
    await take_change(services.limiter, payment_password_cap(settings), user_id=user_id)
    await ensure_apart_from_login(security, user=user, pin=new_pin)
    new_hash = await security.pins.hash(new_pin)

    async def store(uow: UnitOfWork) -> None:
        user = await locked_user(uow, user_id)
        if verified_hash is None and user.payment_password_hash is not None:
            raise PaymentPasswordAlreadySetError("a payment password was set meanwhile")
        if verified_hash is not None and user.payment_password_hash != verified_hash:
            raise ConflictError("the payment password was changed meanwhile; try again")
        if pin_matches_login_digits(security.digest, user=user, pin=new_pin):
            raise login_digits_refusal()  # the login password changed since the check above
        now = clock.now()
        user.payment_password_hash = new_hash
        user.payment_failures = 0
        user.payment_locked_until = None
        user.updated_at = now
        kind = "payment_password_set" if verified_hash is None else "payment_password_changed"
        await notify_user(uow.session, clock=clock, user=user, kind=kind)
        action = kind.replace("payment_password_", "payment_password.")
        await audit_user(uow, clock, actor, action, user_id)

    await run_unit(engine, store)
