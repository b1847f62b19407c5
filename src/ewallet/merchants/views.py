"""What the merchant use cases return, and what other features read of a merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ewallet.models.merchants import MerchantStatus


@dataclass(frozen=True, slots=True)
class MerchantView:
    id: str
    name: str
    category: str
    status: str
    accepts_wallet: bool
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime
    # The merchant's own fee terms; None: the configured defaults (payments/fees.py).
    fee_rate_bp: int | None = None
    fee_minimum: int | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> MerchantView:
        """From a ``merchants`` row (or a statement selecting all its columns)."""
        return cls(
            id=row.id,
            name=row.name,
            category=row.category,
            status=row.status,
            accepts_wallet=bool(row.accepts_wallet),
            webhook_url=row.webhook_url,
            created_at=row.created_at,
            updated_at=row.updated_at,
            fee_rate_bp=row.fee_rate_bp,
            fee_minimum=row.fee_minimum,
        )

    @property
    def takes_wallet_payments(self) -> bool:
        """Active and accepting wallet payments: what a payment or charge needs."""
        return self.status == MerchantStatus.ACTIVE and self.accepts_wallet


@dataclass(frozen=True, slots=True)
class NewMerchant:
    """A created merchant with its credentials, shown this once."""

    merchant: MerchantView
    api_key: str
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class MerchantPrincipal:
    """The merchant behind a request's API key."""

    merchant_id: str


@dataclass(frozen=True, slots=True)
class WebhookSigning:
    """What a webhook delivery is signed with: the secret in clear, and the default URL."""

    secret: str
    webhook_url: str | None
