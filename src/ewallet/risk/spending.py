"""Spending limits: what one spend may move, checked and counted in the spend's own unit.

Every money-moving use case that spends from a wallet calls :func:`reserve_spend` inside
the unit of work that moves the money, *before* the ledger command. It locks the user's
row (``FOR NO KEY UPDATE``, so one user's spends run one after another and none can slip
past a cap another is about to fill), checks each limit that applies, and records the
spend in ``spend_records`` so it counts toward the day's caps. The record commits or rolls back
with the money: a failed spend leaves nothing behind.

Limits, checked in this order; the first that the spend would break is reported in
``limit_exceeded`` (``limit``, ``resets_at``, ``remaining``; docs/limits.md):

``per_transaction``
    the largest single spend of the channel.
``class_lifetime`` / ``class_annual``
    the account class allowance (:mod:`ewallet.risk.limits`, read from the ledger) over
    payments, payment codes, static QR, transfers and bills -- not withdrawals.
``daily_static_qr``
    static-QR payments, any authentication.
``daily_payment_code``
    payment-code charges without the payment password.
``daily_no_pin``
    everything spent without the payment password (total and number of spends).
``daily_pin`` / ``daily_pin_and_sms``
    the day's total over every channel (withdrawals too), with a ceiling that grows with
    the strength of the authentication: a spend confirmed by PIN and SMS may take the
    day's total higher than one confirmed by the PIN alone.

Days are Asia/Shanghai days; class years start on 1 January there.

The policy comes from the settings (:meth:`SpendingPolicy.from_settings`); every caller
passes it, so two apps (or a test and its app) never share limits by accident. The SQL is
in :mod:`ewallet.risk.repository`; features spend through the seam
(:mod:`ewallet.spend.service`), which calls :func:`reserve_spend`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.config import Settings
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.risk import repository
from ewallet.risk.limits import (
    ClassAllowance,
    allowance_left,
    class_allowances,
    next_china_midnight,
    period_end,
    period_start,
)
from ewallet.risk.rules.engine import RiskSettings

__all__ = [  # the vocabulary lives beside its table; spenders import it from here too
    "UNKNOWN",
    "AuthStrength",
    "ClassRules",
    "LimitExceededError",
    "LimitRemaining",
    "SpendChannel",
    "SpendingPolicy",
    "SpendingSummary",
    "UnknownAccount",
    "release_spend",
    "reserve_spend",
    "spending_summary",
]


class UnknownAccount:
    """The caller does not know the wallet's ledger account (None means it has none)."""


UNKNOWN: Final = UnknownAccount()


# What counts against the account class allowance: paying from the balance, not
# taking money out to one's own card.
CLASS_CHANNELS: Final = frozenset(
    {
        SpendChannel.PAYMENT,
        SpendChannel.PAYMENT_CODE,
        SpendChannel.STATIC_QR,
        SpendChannel.TRANSFER,
        SpendChannel.BILL,
    }
)

LimitName = Literal[
    "per_transaction",
    "class_lifetime",
    "class_annual",
    "daily_static_qr",
    "daily_payment_code",
    "daily_no_pin",
    "daily_pin",
    "daily_pin_and_sms",
]


class LimitExceededError(DomainError):
    """``limit_exceeded``: extra members ``limit``, ``resets_at`` (RFC 3339 or null) and
    ``remaining`` (an amount), plus ``remaining_count`` for the no-PIN number of spends."""

    code = "limit_exceeded"
    status = 403


# ------------------------------------------------------------------------------ policy


@dataclass(frozen=True, slots=True)
class ClassRules:
    """One account class's limits: its allowance for paying from the balance (over the
    account's life or per calendar year) and its daily ceilings by authentication."""

    tier: int
    allowance: Money
    period: Literal["lifetime", "year"]
    daily_pin: Money
    daily_pin_and_sms: Money


@dataclass(frozen=True, slots=True)
class SpendingPolicy:
    """Every cap in minor units (fen); ``daily_pin``/``daily_pin_and_sms`` by account class."""

    class_allowances: Mapping[int, ClassAllowance]
    daily_no_pin: int
    daily_no_pin_count: int
    daily_pin: Mapping[int, int]
    daily_pin_and_sms: Mapping[int, int]
    daily_payment_code: int
    daily_static_qr: int
    per_transaction: Mapping[str, int] = field(default_factory=dict)
    # What the risk decision at the end of the seam takes from the settings.
    risk: RiskSettings = field(default_factory=RiskSettings)

    @classmethod
    def from_settings(cls, settings: Settings) -> SpendingPolicy:
        return cls(
            risk=RiskSettings.from_settings(settings),
            class_allowances=class_allowances(settings.limit_class_allowance_minor),
            daily_no_pin=settings.limit_daily_no_pin_minor,
            daily_no_pin_count=settings.limit_daily_no_pin_count,
            daily_pin=dict(settings.limit_daily_pin_minor),
            daily_pin_and_sms=dict(settings.limit_daily_pin_and_sms_minor),
            daily_payment_code=settings.limit_daily_payment_code_minor,
            daily_static_qr=settings.limit_daily_static_qr_minor,
            per_transaction=dict(settings.limit_per_transaction_minor),
        )

    @classmethod
    def defaults(cls) -> SpendingPolicy:
        """The documented defaults, without reading the environment."""
        return cls.from_settings(Settings.model_construct())

    def class_rules(self, currency: str = "CNY") -> list[ClassRules]:
        """What each account class may spend under this policy, class I first (the
        account-class page shows them side by side)."""
        return [
            ClassRules(
                tier=tier,
                allowance=Money(allowance.allowance.minor, currency),
                period=allowance.period,
                daily_pin=Money(self.daily_pin.get(tier, 0), currency),
                daily_pin_and_sms=Money(self.daily_pin_and_sms.get(tier, 0), currency),
            )
            for tier, allowance in sorted(self.class_allowances.items())
        ]

    def per_transaction_cap(self, channel: SpendChannel) -> int | None:
        return self.per_transaction.get(channel.value)

    def daily_cap(self, auth: AuthStrength, tier: int) -> int:
        """The day's total ceiling for a spend confirmed with ``auth`` (NONE: the PIN one)."""
        caps = self.daily_pin_and_sms if auth is AuthStrength.PIN_AND_SMS else self.daily_pin
        return caps.get(tier, 0)


# ------------------------------------------------------------------------------ limits


@dataclass(frozen=True, slots=True)
class LimitRemaining:
    """One limit as it stands: its cap, what is left of it, when it starts afresh."""

    limit: LimitName
    cap: Money
    remaining: Money
    resets_at: datetime | None
    count_remaining: int | None = None

    def refuses(self, amount: Money) -> bool:
        return amount.minor > self.remaining.minor or self.count_remaining == 0

    def error(self) -> LimitExceededError:
        extra: dict[str, Any] = {
            "limit": self.limit,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
            "remaining": {
                "amount": self.remaining.to_decimal_string(),
                "currency": self.remaining.currency,
            },
        }
        if self.count_remaining is not None:
            extra["remaining_count"] = self.count_remaining
        when = f"; resets at {extra['resets_at']}" if self.resets_at else ""
        return LimitExceededError(
            f"the {self.limit} limit allows {self.remaining} more{when}", **extra
        )


def _left(
    limit: LimitName,
    cap: int,
    used: int,
    currency: str,
    resets_at: datetime | None,
    *,
    count_remaining: int | None = None,
) -> LimitRemaining:
    return LimitRemaining(
        limit,
        Money(cap, currency),
        Money(max(0, cap - used), currency),
        resets_at,
        count_remaining,
    )


@dataclass(frozen=True, slots=True)
class _Standing:
    """Everything the limits of one user depend on, read once."""

    tier: int
    currency: str
    now: datetime
    usage: repository.DayUsage
    class_remaining: Money

    def class_limit(self, policy: SpendingPolicy) -> LimitRemaining:
        allowance = policy.class_allowances[self.tier]
        name: LimitName = "class_lifetime" if allowance.period == "lifetime" else "class_annual"
        return LimitRemaining(
            name,
            Money(allowance.allowance.minor, self.currency),
            self.class_remaining,
            period_end(allowance, self.now),
        )


def applicable_limits(
    policy: SpendingPolicy, standing: _Standing, channel: SpendChannel, auth: AuthStrength
) -> list[LimitRemaining]:
    """The limits a spend on ``channel`` confirmed with ``auth`` must fit, in check order."""
    currency, usage = standing.currency, standing.usage
    tomorrow = next_china_midnight(standing.now)
    limits: list[LimitRemaining] = []
    per_transaction = policy.per_transaction_cap(channel)
    if per_transaction is not None:
        limits.append(_left("per_transaction", per_transaction, 0, currency, None))
    if channel in CLASS_CHANNELS:
        limits.append(standing.class_limit(policy))
    if channel is SpendChannel.STATIC_QR:
        limits.append(
            _left("daily_static_qr", policy.daily_static_qr, usage.static_qr, currency, tomorrow)
        )
    if auth is AuthStrength.NONE:
        if channel is SpendChannel.PAYMENT_CODE:
            limits.append(
                _left(
                    "daily_payment_code",
                    policy.daily_payment_code,
                    usage.payment_code_no_pin,
                    currency,
                    tomorrow,
                )
            )
        count_left = max(0, policy.daily_no_pin_count - usage.no_pin_count)
        limits.append(
            _left(
                "daily_no_pin",
                policy.daily_no_pin,
                usage.no_pin,
                currency,
                tomorrow,
                count_remaining=count_left,
            )
        )
    name: LimitName = "daily_pin_and_sms" if auth is AuthStrength.PIN_AND_SMS else "daily_pin"
    limits.append(
        _left(name, policy.daily_cap(auth, standing.tier), usage.total, currency, tomorrow)
    )
    return limits


async def _standing(
    conn: AsyncConnection,
    policy: SpendingPolicy,
    *,
    user_id: str,
    tier: int,
    currency: str,
    now: datetime,
    wallet_account_id: int | UnknownAccount | None = UNKNOWN,
) -> _Standing:
    """Read the day's usage and the class allowance used, in one statement.

    ``wallet_account_id``: the wallet's ledger account if the caller has it (None: the
    wallet has none yet, so nothing was paid from it); looked up otherwise.
    """
    if isinstance(wallet_account_id, UnknownAccount):
        wallet_account_id = await repository.wallet_account_id(
            conn, user_id=user_id, currency=currency
        )
    allowance = policy.class_allowances[tier]
    read = await repository.read_usage(
        conn,
        user_id=user_id,
        currency=currency,
        now=now,
        wallet_account_id=wallet_account_id,
        class_since=period_start(allowance, now),
    )
    paid = read.class_paid
    remaining = allowance.allowance if paid is None else allowance_left(allowance, paid)
    return _Standing(tier, currency, now, read.usage, Money(remaining.minor, currency))


# ----------------------------------------------------------------------------- the API


async def reserve_spend(
    uow: UnitOfWork,
    *,
    user_id: str,
    amount: Money,
    channel: SpendChannel,
    auth: AuthStrength,
    reference: str,
    now: datetime,
    policy: SpendingPolicy,
    locked: User | None = None,
    new_reference: bool = False,
    wallet_account_id: int | UnknownAccount | None = UNKNOWN,
    counterparty: str | None = None,
) -> None:
    """Check every limit that applies to this spend and count it; raise ``limit_exceeded``.

    Call inside the unit that moves the money, before the ledger command. Takes the user's
    row lock (``FOR NO KEY UPDATE``, the first step of the global lock order in
    :mod:`ewallet.kit.db.locking`), so call it before anything else is locked and instead
    of :func:`~ewallet.identity.guards.ensure_not_frozen` (``FOR SHARE``, which
    would have to be upgraded): it checks the account is active itself, under the stronger
    lock. A reference already recorded is not counted twice. Rolling the unit back removes
    the record.

    Statements this costs can be saved by what the caller already holds (the charge path
    is CPU-bound on them): ``locked``, the user's row the caller locked with
    :func:`~ewallet.identity.guards.locked_user` in this unit;
    ``new_reference``, when ``reference`` cannot have been recorded (made of an id drawn
    for this spend; the unique constraint would refuse a repeat anyway);
    ``wallet_account_id``, the wallet's ledger account in ``amount``'s currency.
    """
    if not amount.is_positive():
        raise ValueError("a spend must be positive")
    user = locked if locked is not None else await locked_user(uow, user_id)
    if user.id != user_id:
        raise ValueError("the locked user is not the spender")
    ensure_active(user)
    conn = await uow.connection()
    if not new_reference and await repository.spend_recorded(conn, reference):
        return
    standing = await _standing(
        conn,
        policy,
        user_id=user_id,
        tier=user.tier,
        currency=amount.currency,
        now=now,
        wallet_account_id=wallet_account_id,
    )
    for limit in applicable_limits(policy, standing, channel, auth):
        if limit.refuses(amount):
            raise limit.error()
    await repository.insert_spend_record(
        conn,
        user_id=user_id,
        reference=reference,
        channel=channel,
        auth=auth,
        amount=amount,
        now=now,
        counterparty=counterparty,
    )


async def release_spend(uow: UnitOfWork, *, reference: str, now: datetime | None = None) -> None:
    """Stop counting a spend that did not happen after all (a voided withdrawal).

    Idempotent: an unknown or already released reference changes nothing. The record is
    kept, marked released, so what was counted when stays visible.
    """
    released_at = now if now is not None else datetime.now(UTC)
    await repository.release_spend_record(
        await uow.connection(), reference=reference, released_at=released_at
    )


@dataclass(frozen=True, slots=True)
class SpendingSummary:
    """What remains of each limit for one user now (``GET /v1/me/wallet``)."""

    tier: int
    class_period: Literal["lifetime", "year"]
    class_limit: LimitRemaining
    daily: dict[str, LimitRemaining]
    per_transaction: dict[str, Money]

    def remaining_for(self, channel: SpendChannel, auth: AuthStrength) -> Money:
        """The largest single spend possible now on ``channel`` with ``auth``."""
        names: list[str] = [
            "daily_pin_and_sms" if auth is AuthStrength.PIN_AND_SMS else "daily_pin"
        ]
        if auth is AuthStrength.NONE:
            names.append("daily_no_pin")
            if channel is SpendChannel.PAYMENT_CODE:
                names.append("daily_payment_code")
        if channel is SpendChannel.STATIC_QR:
            names.append("daily_static_qr")
        currency = self.class_limit.remaining.currency
        candidates = [
            Money.zero(currency)
            if self.daily[name].count_remaining == 0
            else self.daily[name].remaining
            for name in names
        ]
        if channel in CLASS_CHANNELS:
            candidates.append(self.class_limit.remaining)
        if channel.value in self.per_transaction:
            candidates.append(self.per_transaction[channel.value])
        return min(candidates, key=lambda money: money.minor)


async def spending_summary(
    conn: AsyncConnection,
    *,
    user_id: str,
    now: datetime,
    currency: str = "CNY",
    policy: SpendingPolicy,
) -> SpendingSummary:
    """What remains today / this year per limit; reads only (no lock)."""
    tier = await repository.user_tier(conn, user_id)
    if tier is None:
        raise NotFoundError("no such user")
    standing = await _standing(conn, policy, user_id=user_id, tier=tier, currency=currency, now=now)
    daily: dict[str, LimitRemaining] = {}
    for channel, auth in (
        (SpendChannel.PAYMENT_CODE, AuthStrength.NONE),
        (SpendChannel.STATIC_QR, AuthStrength.PIN),
        (SpendChannel.PAYMENT, AuthStrength.PIN_AND_SMS),
    ):
        for limit in applicable_limits(policy, standing, channel, auth):
            if limit.limit.startswith("daily_"):
                daily[limit.limit] = limit
    class_limit = standing.class_limit(policy)
    return SpendingSummary(
        tier=standing.tier,
        class_period=policy.class_allowances[standing.tier].period,
        class_limit=class_limit,
        daily=daily,
        per_transaction={
            channel: Money(cap, currency) for channel, cap in policy.per_transaction.items()
        },
    )
