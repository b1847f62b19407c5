"""What each merchant role may do in the portal: one table, read by the pages and the nav.

- ``owner``: everything, the team included;
- ``manager``: the business of the day (sales, refunds, settlements) but not the team or the
  API keys;
- ``cashier``: the till and today's figures; never refunds without a manager's approval,
  never keys or settlements.

Pages check these objects and the navigation is built from them, so a link is shown exactly
where its page opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ewallet.models.merchant_users import MERCHANT_ROLES, MerchantRole


@dataclass(frozen=True, slots=True)
class PortalPermission:
    name: str
    roles: frozenset[str]

    def allows(self, role: str) -> bool:
        return role in self.roles


def portal_permission(name: str, *roles: str) -> PortalPermission:
    """A permission for ``roles``, refusing a misspelt role at import time."""
    unknown = set(roles) - set(MERCHANT_ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown or missing merchant roles: {sorted(unknown)}")
    return PortalPermission(name, frozenset(roles))


ANY_MEMBER: Final = portal_permission("any_member", *MERCHANT_ROLES)
# Today's sales, refunds and net.
SALES_READING: Final = portal_permission("sales_reading", *MERCHANT_ROLES)
# The team: adding managers and cashiers, resetting their passwords, disabling them.
TEAM: Final = portal_permission("team", MerchantRole.OWNER)
# Refunds without a second person's approval, settlement statements, API keys.
REFUNDING: Final = portal_permission("refunding", MerchantRole.OWNER, MerchantRole.MANAGER)
SETTLEMENTS: Final = portal_permission("settlements", MerchantRole.OWNER, MerchantRole.MANAGER)
API_KEYS: Final = portal_permission("api_keys", MerchantRole.OWNER)
# The till: selling with a payment code, and the last sale's refund (a cashier's with a
# manager's approval).
TILL: Final = portal_permission("till", *MERCHANT_ROLES)
# The static QR codes (收款码): printing, regenerating, stores, the live feed.
STATIC_QR: Final = portal_permission("static_qr", MerchantRole.OWNER, MerchantRole.MANAGER)

# Who may create whom: staff and the CLI make any role; an owner makes managers and cashiers.
OWNER_MAY_CREATE: Final = frozenset({MerchantRole.MANAGER.value, MerchantRole.CASHIER.value})
