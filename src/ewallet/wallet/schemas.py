"""Wallet responses: amounts as decimal strings with a currency (API.md, Money)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ewallet.kit.amounts import AmountOut
from ewallet.risk.spending import AuthStrength, LimitRemaining, SpendChannel
from ewallet.wallet.views import WalletView


class BalanceOut(BaseModel):
    currency: str
    available: str
    held: str
    total: str


class DailyLimitOut(BaseModel):
    """One daily cap: its size, what is left today, when it starts afresh (Asia/Shanghai)."""

    cap: AmountOut
    remaining: AmountOut
    resets_at: datetime
    remaining_count: int | None = None

    @classmethod
    def of(cls, limit: LimitRemaining) -> DailyLimitOut:
        assert limit.resets_at is not None  # daily caps always reset
        return cls(
            cap=AmountOut.of(limit.cap),
            remaining=AmountOut.of(limit.remaining),
            resets_at=limit.resets_at,
            remaining_count=limit.count_remaining,
        )


class LimitsOut(BaseModel):
    """What may still be spent (docs/limits.md).

    ``per_transaction``, ``daily_remaining`` and ``annual_remaining`` answer the common
    question -- a payment confirmed with the payment password -- bounded by the class
    allowance. ``daily`` lists every daily cap by name (the ``limit`` member of
    ``limit_exceeded``), ``per_transaction_by_channel`` the largest single spend per channel.
    """

    period: Literal["lifetime", "year"]
    per_transaction: AmountOut
    daily_remaining: AmountOut
    annual_remaining: AmountOut
    annual_resets_at: datetime | None = None
    daily: dict[str, DailyLimitOut] = {}
    per_transaction_by_channel: dict[str, AmountOut] = {}


class WalletOut(BaseModel):
    balances: list[BalanceOut]
    tier: int
    status: str
    limits: LimitsOut

    @classmethod
    def of(cls, view: WalletView) -> WalletOut:
        spending = view.spending
        remaining = AmountOut.of(view.allowance_remaining)
        period: Literal["lifetime", "year"] = (
            "lifetime" if view.allowance_period == "lifetime" else "year"
        )
        pin_daily = spending.daily["daily_pin"].remaining
        daily = min(pin_daily, view.allowance_remaining, key=lambda money: money.minor)
        return cls(
            balances=[
                BalanceOut(
                    currency=b.total.currency,
                    available=b.available.to_decimal_string(),
                    held=b.held.to_decimal_string(),
                    total=b.total.to_decimal_string(),
                )
                for b in view.balances
            ],
            tier=view.tier,
            status=view.status,
            limits=LimitsOut(
                period=period,
                per_transaction=AmountOut.of(
                    spending.remaining_for(SpendChannel.PAYMENT, AuthStrength.PIN)
                ),
                daily_remaining=AmountOut.of(daily),
                annual_remaining=remaining,
                annual_resets_at=spending.class_limit.resets_at,
                daily={name: DailyLimitOut.of(limit) for name, limit in spending.daily.items()},
                per_transaction_by_channel={
                    channel: AmountOut.of(cap) for channel, cap in spending.per_transaction.items()
                },
            ),
        )
