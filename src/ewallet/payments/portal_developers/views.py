"""What the Developers page's use cases return."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.kit.pagination import Page
from ewallet.merchants.views import ApiKeyView, IssuedApiKey
from ewallet.payments.webhooks.views import DeliveryView


@dataclass(frozen=True, slots=True)
class DeveloperSettings:
    """The merchant's API keys (active first, then recently revoked), the most it may have
    active, its webhook URL and a page of its delivery log."""

    keys: list[ApiKeyView]
    max_active_keys: int
    webhook_url: str | None
    deliveries: Page[DeliveryView]

    @property
    def active_keys(self) -> int:
        return sum(1 for key in self.keys if key.active)

    @property
    def may_create_key(self) -> bool:
        return self.active_keys < self.max_active_keys


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made (``rotated``: in place of another), shown this once."""

    issued: IssuedApiKey
    rotated: bool
