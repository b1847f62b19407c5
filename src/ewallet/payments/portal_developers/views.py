"""What the Developers page's use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.pagination import Page
from ewallet.payments.webhooks.views import DeliveryView


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """The API key's public id and when it was last issued; the webhook URL."""

    key_id: str
    rotated_at: datetime
    webhook_url: str | None


@dataclass(frozen=True, slots=True)
class DeveloperSettings:
    keys: KeyFacts
    deliveries: Page[DeliveryView]


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """The new key, shown this once."""

    keys: KeyFacts
    api_key: str
