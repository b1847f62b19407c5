"""Wallet responses: amounts as decimal strings with a currency (API.md, Money)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from ewallet.kit.money import Money
from ewallet.wallet.service import WalletView


class AmountOut(BaseModel):
    amount: str
    currency: str

    @classmethod
    def of(cls, money: Money) -> AmountOut:
        return cls(amount=money.to_decimal_string(), currency=money.currency)


class BalanceOut(BaseModel):
    currency: str
    available: str
    held: str
    total: str


class LimitsOut(BaseModel):
    """What the account class still allows to be paid from the balance.

    ``per_transaction`` and ``daily_remaining`` are bounded by the class allowance here;
    the daily caps by authentication strength come with the payments feature.
    """

    period: Literal["lifetime", "year"]
    per_transaction: AmountOut
    daily_remaining: AmountOut
    annual_remaining: AmountOut


class WalletOut(BaseModel):
    balances: list[BalanceOut]
    tier: int
    status: str
    limits: LimitsOut

    @classmethod
    def of(cls, view: WalletView) -> WalletOut:
        remaining = AmountOut.of(view.allowance_remaining)
        period: Literal["lifetime", "year"] = (
            "lifetime" if view.allowance_period == "lifetime" else "year"
        )
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
                per_transaction=remaining,
                daily_remaining=remaining,
                annual_remaining=remaining,
            ),
        )
