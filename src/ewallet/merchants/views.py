"""What the merchant use cases return, and what other features read of a merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
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
    """The merchant behind a request's API key, and that key's id.

    ``in_force`` False: the key was proven (its digest matched) but whether it is still in
    force and its merchant enabled is for the service's own unit of work to check, with
    :func:`ewallet.merchants.service.require_key_in_force` (``CurrentMerchantInUnit``)."""

    merchant_id: str
    key_id: str | None = None
    in_force: bool = True


@dataclass(frozen=True, slots=True)
class KeyState:
    """An API key's standing as a unit of work reads it: revoked or not, its merchant's
    status, and the day of its last use."""

    revoked: bool
    status: str
    last_used_on: date | None


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """One of a merchant's API keys, never its secret part nor its digest. ``created_by`` and
    ``revoked_by`` name an actor as ``<type>:<id>`` (``system`` alone for none)."""

    id: str
    merchant_id: str
    label: str
    created_at: datetime
    created_by: str
    last_used_on: date | None
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> ApiKeyView:
        """From a ``merchant_api_keys`` row (any statement selecting all but the digest)."""
        return cls(
            id=row.id,
            merchant_id=row.merchant_id,
            label=row.label,
            created_at=row.created_at,
            created_by=row.created_by,
            last_used_on=row.last_used_on,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def prefix(self) -> str:
        """How the key is shown after it was issued: ``mk_<id>_…``."""
        return f"mk_{self.id}_…"


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A key just made: ``api_key`` is shown this once."""

    key: ApiKeyView
    api_key: str


@dataclass(frozen=True, slots=True)
class WebhookSigning:
    """What a webhook delivery is signed with: the secret in clear, and the default URL."""

    secret: str
    webhook_url: str | None


@dataclass(frozen=True, slots=True)
class MerchantKeys:
    """A merchant and its API keys (active first, then recently revoked), as staff see it."""

    merchant: MerchantView
    keys: list[ApiKeyView]
