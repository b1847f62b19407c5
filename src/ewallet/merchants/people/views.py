"""What the merchant people use cases hand back: frozen values, no credentials in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.audit.service import Actor
from ewallet.models.merchant_users import MerchantRole


@dataclass(frozen=True, slots=True)
class MerchantUserView:
    id: str
    merchant_id: str
    email: str
    name: str
    role: str
    status: str
    must_change_password: bool
    totp_enrolled: bool
    created_at: datetime
    last_sign_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewMerchantUser:
    """A created merchant user and the one-time password to hand over (shown once)."""

    user: MerchantUserView
    one_time_password: str


@dataclass(frozen=True, slots=True)
class PortalSession:
    """A session opened by sign-in, and what the person must do before using the portal."""

    session_id: str
    expires_at: datetime
    must_enrol_totp: bool
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """The authenticator secret to scan (shown while enrolment is pending)."""

    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class PortalUser:
    """The merchant user of a live portal session."""

    user_id: str
    merchant_id: str
    merchant_name: str
    session_id: str
    role: str
    name: str
    email: str
    must_change_password: bool
    must_enrol_totp: bool
    session_expires_at: datetime
    ip: str | None = None

    def actor(self) -> Actor:
        """The audit actor: the merchant user, by id, with the browser's address."""
        return Actor("merchant", self.user_id, self.ip)

    @property
    def needs_totp(self) -> bool:
        return self.role != MerchantRole.CASHIER
