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

from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import Insert, Update, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.config import Settings
from ewallet.identity.errors import StepUpRequiredError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.models.tables import password_free_settings
from ewallet.notify.service import notify_user
from ewallet.risk.spending import LimitExceededError, SpendingPolicy, spending_summary

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


async def check_eligible(engine: AsyncEngine, *, user_id: str, amount: Money) -> None:
    """Step 3 of a payment without the PIN: the account is active (``account_frozen``),
    password-free payments are on and ``amount`` is within the cap (``step_up_required``)."""

    async def work(uow: UnitOfWork) -> None:
        user = await uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)
        row = await _setting(await uow.connection(), user_id)
        if row is None or not row.enabled:
            raise step_up("password_free_off")
        if amount.currency != row.currency or amount.minor > row.per_payment_cap:
            raise step_up("over_cap")

    await run_unit(engine, work, read_only=True)


# ----------------------------------------------------------------------- the setting


@dataclass(frozen=True, slots=True)
class PasswordFreeView:
    """The user's setting and what the policy leaves of today's no-PIN allowance."""

    enabled: bool
    per_payment_cap: Money | None
    daily_cap: Money
    daily_count: int
    remaining_today: Money
    remaining_count_today: int


async def _setting(conn: AsyncConnection, user_id: str) -> Any:
    """The user's row (``None``: never turned on)."""
    statement = select(password_free_settings).where(password_free_settings.c.user_id == user_id)
    return (await conn.execute(statement)).first()


async def _view(
    conn: AsyncConnection, *, user_id: str, clock: Clock, policy: SpendingPolicy
) -> PasswordFreeView:
    row = await _setting(conn, user_id)
    summary = await spending_summary(conn, user_id=user_id, now=clock.now(), policy=policy)
    no_pin = summary.daily["daily_no_pin"]
    cap = None if row is None else Money(row.per_payment_cap, row.currency)
    return PasswordFreeView(
        enabled=row is not None and row.enabled,
        per_payment_cap=cap,
        daily_cap=no_pin.cap,
        daily_count=policy.daily_no_pin_count,
        remaining_today=no_pin.remaining,
        remaining_count_today=no_pin.count_remaining or 0,
    )


async def get_setting(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, user_id: str
) -> PasswordFreeView:
    policy = SpendingPolicy.from_settings(settings)

    async def work(uow: UnitOfWork) -> PasswordFreeView:
        return await _view(await uow.connection(), user_id=user_id, clock=clock, policy=policy)

    return await run_unit(engine, work, read_only=True)


def validate_cap(cap: Money) -> None:
    if cap.currency != MAX_PER_PAYMENT_CAP.currency:
        raise ValidationFailedError("the cap is in CNY")
    if not 0 < cap.minor <= MAX_PER_PAYMENT_CAP.minor:
        raise ValidationFailedError(
            f"per_payment_cap must be more than 0 and at most {MAX_PER_PAYMENT_CAP}"
        )


def check_change(*, enabled: bool, per_payment_cap: Money | None, pin: str | None) -> None:
    """Refusals that must come before the PIN is checked, so they cost no PIN attempt."""
    if not enabled:
        return
    if per_payment_cap is None:
        raise ValidationFailedError("give per_payment_cap to turn password-free payments on")
    validate_cap(per_payment_cap)
    if pin is None:
        raise ValidationFailedError("turning password-free payments on needs payment_password")


async def change_setting(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    user_id: str,
    enabled: bool,
    per_payment_cap: Money | None,
    actor: Actor,
) -> PasswordFreeView:
    """``PUT /v1/me/password-free-payments`` after :func:`check_change` and, to turn on or
    change the cap, the PIN (``PaymentPasswordDep``). Turning off needs neither."""
    policy = SpendingPolicy.from_settings(settings)

    async def work(uow: UnitOfWork) -> PasswordFreeView:
        user = await locked_user(uow, user_id)
        conn = await uow.connection()
        now = clock.now()
        row = await _setting(conn, user_id)
        was_on = row is not None and row.enabled
        if enabled:
            assert per_payment_cap is not None
            ensure_active(user)  # frozen since the PIN check
            values = {"enabled": True, "per_payment_cap": per_payment_cap.minor, "updated_at": now}
            statement: Insert | Update
            if row is None:
                statement = insert(password_free_settings).values(
                    user_id=user_id, currency=per_payment_cap.currency, created_at=now, **values
                )
            else:
                statement = (
                    update(password_free_settings)
                    .where(password_free_settings.c.user_id == user_id)
                    .values(**values)
                )
            unchanged = was_on and row is not None and row.per_payment_cap == per_payment_cap.minor
            if not unchanged:
                await conn.execute(statement)
                kind = "password_free_cap_changed" if was_on else "password_free_enabled"
                cap_text = per_payment_cap.to_decimal_string()
                await notify_user(
                    uow.session, clock=clock, user=user, kind=kind, params={"cap": cap_text}
                )
                details = {"per_payment_cap": cap_text, "currency": per_payment_cap.currency}
                action = kind.replace("password_free_", "password_free.")
                await audit_user(uow, clock, actor, action, user_id, details=details)
        elif was_on:
            await conn.execute(
                update(password_free_settings)
                .where(password_free_settings.c.user_id == user_id)
                .values(enabled=False, updated_at=now)
            )
            await notify_user(uow.session, clock=clock, user=user, kind="password_free_disabled")
            await audit_user(uow, clock, actor, "password_free.disabled", user_id)
        return await _view(conn, user_id=user_id, clock=clock, policy=policy)

    return await run_unit(engine, work)
