"""The portal's navigation: only pages that exist, each behind the permission its page
checks, so a person sees exactly the links that open for their role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ewallet.merchants.people.permissions import (
    API_KEYS,
    REFUNDING,
    SALES_READING,
    SETTLEMENTS,
    STATIC_QR,
    TEAM,
    TILL,
    PortalPermission,
)
from ewallet.web.kit.i18n import N_


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    path: str
    permission: PortalPermission


NAV: Final = (
    NavLink(N_("Today"), "/merchant/", SALES_READING),
    NavLink(N_("Till"), "/merchant/till", TILL),
    NavLink(N_("QR codes"), "/merchant/qr", STATIC_QR),
    NavLink(N_("Orders"), "/merchant/orders", SALES_READING),
    NavLink(N_("Refunds"), "/merchant/refunds", REFUNDING),
    NavLink(N_("Settlements"), "/merchant/settlements", SETTLEMENTS),
    NavLink(N_("Team"), "/merchant/team", TEAM),
    NavLink(N_("Developers"), "/merchant/developers", API_KEYS),
)

ROLE_LABELS: Final = {
    "owner": N_("Owner"),
    "manager": N_("Manager"),
    "cashier": N_("Cashier"),
}


def nav_for(role: str) -> list[NavLink]:
    links = [link for link in NAV if link.permission.allows(role)]
    if role == "cashier":  # a cashier's work is the till: it comes first
        links.sort(key=lambda link: link.path != "/merchant/till")
    return links


def current_link(path: str) -> str | None:
    if path in ("/merchant", "/merchant/"):
        return "/merchant/"
    for link in NAV:
        if link.path != "/merchant/" and (path == link.path or path.startswith(link.path + "/")):
            return link.path
    return None


def role_label(role: str) -> str:
    """The role's name as an English msgid (translated where shown)."""
    return ROLE_LABELS.get(role, role)
