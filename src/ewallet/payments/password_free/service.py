"""Password-free small payments: off by default, turned on with the payment password.

The user picks a cap per payment (at most ¥1,000); the day's total and number of payments
without the PIN are the spending policy's (``daily_no_pin`` / ``daily_no_pin_count``,
:mod:`ewallet.risk.spending`), shared with every other spend made without the PIN.
Turning it on or changing the cap needs the PIN; turning it off needs nothing (it only
makes the account safer). Each change is audited and the owner gets a security notice.

``POST /v1/payments`` without ``payment_password`` comes here at step 3 of its check order
(:func:`check_eligible`): an account that is off, or an amount over the cap, answers
``401 step_up_required`` with ``methods: ["payment_password"]`` -- the client asks for the
PIN and sends the payment again with it (and a new ``Idempotency-Key``, since the refusal
is replayed for the old one). The spend is then counted as ``AuthStrength.NONE``; when the
no-PIN daily total or count would be passed the same answer comes back (``reason``
``daily_limit``). No challenge is created: the PIN itself is the step up.
"""

from __future__ import annotations

from typing import Final, Literal

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.errors import StepUpRequiredError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.payments.password_free import repository
from ewallet.payments.password_free.views import PasswordFreeView
from ewallet.risk.spending import LimitExceededError, SpendingPolicy, spending_summary
from ewallet.services import Services

MAX_PER_PAYMENT_CAP: Final = Money(1_000_00)
# The limits a PIN lifts: spends without it have their own daily caps (docs/limits.md).
NO_PIN_LIMITS: Final = frozenset({"daily_no_pin", "daily_payment_code"})
StepUpReason = Literal["password_free_off", "over_cap", "daily_limit"]


def needs_pin(refused: LimitExceededError) -> bool:
    """Whether the same spend would pass with the payment password."""
    return refused.extra.get("limit") in NO_PIN_LIMITS


def step_up(reason: StepUpReason) -> StepUpRequiredError:
    """The answer to a payment without the PIN that needs it: send it again with the PIN."""
    return StepUpRequiredError(
        "confirm this payment with the payment password",
        methods=["payment_password"],
        reason=reason,
    )


async def check_eligible(services: Services, *, user_id: str, amount: Money) -> None:
    """Step 3 of a payment without the PIN (reads only): the account is active
    (``account_frozen``), password-free payments are on and ``amount`` is within the cap
    (``step_up_required``, reason ``password_free_off`` / ``over_cap``)."""

    async def work(uow: UnitOfWork) -> None:
        user = await uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)
        found = await repository.setting(await uow.connection(), user_id)
        if found is None or not found.enabled:
            raise step_up("password_free_off")
        cap = found.per_payment_cap
        if amount.currency != cap.currency or amount.minor > cap.minor:
            raise step_up("over_cap")

    await run_unit(services.engine, work, read_only=True)


async def _view(
    uow: UnitOfWork, *, user_id: str, clock: Clock, policy: SpendingPolicy
) -> PasswordFreeView:
    conn = await uow.connection()
    found = await repository.setting(conn, user_id)
    summary = await spending_summary(conn, user_id=user_id, now=clock.now(), policy=policy)
    no_pin = summary.daily["daily_no_pin"]
    return PasswordFreeView(
        enabled=found is not None and found.enabled,
        per_payment_cap=None if found is None else found.per_payment_cap,
        daily_cap=no_pin.cap,
        daily_count=policy.daily_no_pin_count,
        remaining_today=no_pin.remaining,
        remaining_count_today=no_pin.count_remaining or 0,
    )


async def get_setting(services: Services, user_id: str) -> PasswordFreeView:
    """The user's setting and today's no-PIN allowance (reads only)."""
    policy = SpendingPolicy.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> PasswordFreeView:
        return await _view(uow, user_id=user_id, clock=services.clock, policy=policy)

    return await run_unit(services.engine, work, read_only=True)


def validate_cap(cap: Money) -> None:
    if cap.currency != MAX_PER_PAYMENT_CAP.currency:
        raise ValidationFailedError("the cap is in CNY")
    if not 0 < cap.minor <= MAX_PER_PAYMENT_CAP.minor:
        raise ValidationFailedError(
            f"per_payment_cap must be more than 0 and at most {MAX_PER_PAYMENT_CAP}"
        )


def _check_change(*, enabled: bool, per_payment_cap: Money | None, pin: str | None) -> None:
    """Refusals that must come before the PIN is checked, so they cost no PIN attempt."""
    if not enabled:
        return
    if per_payment_cap is None:
        raise ValidationFailedError("give per_payment_cap to turn password-free payments on")
    validate_cap(per_payment_cap)
    if pin is None:
        raise ValidationFailedError("turning password-free payments on needs payment_password")


async def change_setting(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    enabled: bool,
    per_payment_cap: Money | None,
    pin: str | None,
) -> PasswordFreeView:
    """``PUT /v1/me/password-free-payments``: turn on or change the cap (with the PIN), or
    turn off (nothing needed); returns the setting as it now is.

    Refusals, in order: to turn on, no cap or one outside (0, ¥1,000] and no PIN
    (``validation_error``, costing no PIN attempt); then the PIN check
    (``account_frozen``, ``payment_password_not_set`` / ``_locked`` / ``_invalid``); in the
    unit, under the user's row lock, a freeze since the PIN check (``account_frozen``).
    A change is audited (``password_free.enabled`` / ``.cap_changed`` / ``.disabled``) and
    the owner notified; setting what is already set changes nothing.
    """
    _check_change(enabled=enabled, per_payment_cap=per_payment_cap, pin=pin)
    if enabled:
        assert pin is not None  # _check_change refused its absence
        await require_payment_password(services, user_id=user_id, pin=pin, actor=actor)
    clock = services.clock
    policy = SpendingPolicy.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> PasswordFreeView:
        user = await locked_user(uow, user_id)
        conn = await uow.connection()
        now = clock.now()
        found = await repository.setting(conn, user_id)
        was_on = found is not None and found.enabled
        if enabled:
            assert per_payment_cap is not None
            ensure_active(user)  # frozen since the PIN check
            unchanged = (
                was_on
                and found is not None
                and found.per_payment_cap.minor == per_payment_cap.minor
            )
            if not unchanged:
                if found is None:
                    await repository.insert_setting(
                        conn, user_id=user_id, per_payment_cap=per_payment_cap, now=now
                    )
                else:
                    await repository.turn_on(
                        conn, user_id=user_id, per_payment_cap=per_payment_cap, now=now
                    )
                kind = "password_free_cap_changed" if was_on else "password_free_enabled"
                cap_text = per_payment_cap.to_decimal_string()
                await notify_user(
                    uow.session, clock=clock, user=user, kind=kind, params={"cap": cap_text}
                )
                details = {"per_payment_cap": cap_text, "currency": per_payment_cap.currency}
                action = kind.replace("password_free_", "password_free.")
                await audit_user(uow, clock, actor, action, user_id, details=details)
        elif was_on:
            await repository.turn_off(conn, user_id=user_id, now=now)
            await notify_user(uow.session, clock=clock, user=user, kind="password_free_disabled")
            await audit_user(uow, clock, actor, "password_free.disabled", user_id)
        return await _view(uow, user_id=user_id, clock=clock, policy=policy)

    return await run_unit(services.engine, work)
