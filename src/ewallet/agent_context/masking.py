"""What a staff member's role lets them see of a customer's personal data.

The phone number (and a sign-in's network address) in full for risk officers and admins,
who investigate and call back on it; masked (``138****5678``) for support agents. Name and
ID number are only ever shown masked: the clear values stay encrypted.
"""

from __future__ import annotations

from typing import Final

from ewallet.kit.phone import mask_phone
from ewallet.models.operations import StaffRole
from ewallet.staff.principal import StaffPrincipal

FULL_PHONE_ROLES: Final = frozenset({StaffRole.RISK_OFFICER, StaffRole.ADMIN})


def sees_in_full(principal: StaffPrincipal) -> bool:
    """Whether ``principal`` sees phone numbers and addresses unmasked."""
    return principal.role in FULL_PHONE_ROLES


def shown_phone(e164: str, *, full: bool) -> str:
    return e164 if full else mask_phone(e164)
