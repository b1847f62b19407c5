"""Requests and responses of ``/v1/me/password-free-payments``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.payments.password_free.views import PasswordFreeView


class PasswordFreeIn(RequestModel):
    enabled: bool
    per_payment_cap: AmountIn = Field(default=None, description="at most 1000.00 CNY")
    payment_password: str | None = Field(
        default=None, max_length=64, description="needed to turn on or change the cap"
    )


class PasswordFreeOut(BaseModel):
    enabled: bool
    per_payment_cap: AmountOut | None
    daily_cap: AmountOut = Field(description="all payments without the PIN, per day")
    daily_count: int = Field(description="payments without the PIN, per day")
    remaining_today: AmountOut
    remaining_count_today: int

    @classmethod
    def of(cls, view: PasswordFreeView) -> PasswordFreeOut:
        cap = view.per_payment_cap
        return cls(
            enabled=view.enabled,
            per_payment_cap=AmountOut.of(cap) if cap is not None else None,
            daily_cap=AmountOut.of(view.daily_cap),
            daily_count=view.daily_count,
            remaining_today=AmountOut.of(view.remaining_today),
            remaining_count_today=view.remaining_count_today,
        )
