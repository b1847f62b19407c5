"""What the password-free setting's use cases return."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class PasswordFreeView:
    """The user's setting and what the policy leaves of today's no-PIN allowance."""

    enabled: bool
    per_payment_cap: Money | None
    daily_cap: Money
    daily_count: int
    remaining_today: Money
    remaining_count_today: int
