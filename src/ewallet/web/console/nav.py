"""The console's navigation: every area's pages, each behind the permission its work needs.

The side bar shows a staff member only the links their role opens (the pages themselves
check the same permission, so a link typed by hand is refused all the same). Labels are
English msgids translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ewallet.reviews.permissions import RISK_REVIEWS
from ewallet.risk.rules.permissions import RISK_RULES
from ewallet.staff.permissions import (
    ACCOUNT_GUARD,
    ADMINISTRATION,
    ANY_STAFF,
    AUDIT,
    CASH_APPROVAL,
    CASH_HANDLING,
    CASH_READING,
    CASH_REPORTING,
    OPERATIONS,
    RECONCILIATION_READING,
    SUPPORT,
    Permission,
)
from ewallet.web.kit.i18n import N_


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    path: str
    permission: Permission
    development_only: bool = False


@dataclass(frozen=True, slots=True)
class NavSection:
    label: str
    links: tuple[NavLink, ...]


NAV: Final = (
    NavSection(N_("Overview"), (NavLink(N_("Today"), "/console/", ANY_STAFF),)),
    NavSection(
        N_("Support"),
        (
            NavLink(N_("Tickets"), "/console/tickets", SUPPORT),
            NavLink(N_("Live chat"), "/console/chats", SUPPORT),
            NavLink(N_("Call-backs"), "/console/callbacks", SUPPORT),
            NavLink(N_("Log a phone call"), "/console/calls/new", SUPPORT),
        ),
    ),
    NavSection(
        N_("Customers"),
        (
            NavLink(N_("Find a customer"), "/console/customers", ACCOUNT_GUARD),
            NavLink(N_("Find a payment"), "/console/lookup", ACCOUNT_GUARD),
        ),
    ),
    NavSection(
        N_("Counter"),
        (
            NavLink(N_("Cash deposit"), "/console/counter/deposits/new", CASH_HANDLING),
            NavLink(N_("Deposits"), "/console/counter/deposits", CASH_READING),
            NavLink(N_("Approvals"), "/console/counter/approvals", CASH_APPROVAL),
            NavLink(N_("Large-cash records"), "/console/counter/large-cash", CASH_REPORTING),
        ),
    ),
    NavSection(
        N_("Operations"),
        (
            NavLink(N_("Reconciliation"), "/console/reconciliation", RECONCILIATION_READING),
            NavLink(N_("Pending money"), "/console/pending", OPERATIONS),
            NavLink(N_("Outbox"), "/console/outbox", OPERATIONS),
            NavLink(N_("Maintenance"), "/console/maintenance", OPERATIONS),
            NavLink(N_("Merchants"), "/console/merchants", OPERATIONS),
            NavLink(N_("Help articles"), "/console/help/articles", SUPPORT),
            NavLink(N_("SMS and mail sent"), "/console/dev/outbox", OPERATIONS, True),
        ),
    ),
    NavSection(
        N_("Risk"),
        (
            NavLink(N_("Rule sets"), "/console/risk/rules", RISK_RULES),
            NavLink(N_("Decisions"), "/console/risk/decisions", RISK_RULES),
            NavLink(N_("Rule hits"), "/console/risk/hits", RISK_RULES),
        ),
    ),
    NavSection(
        N_("Compliance"),
        (
            NavLink(N_("Review queue"), "/console/risk/reviews", RISK_REVIEWS),
            NavLink(N_("Audit log"), "/console/audit", AUDIT),
        ),
    ),
    NavSection(N_("Administration"), (NavLink(N_("Staff"), "/console/staff", ADMINISTRATION),)),
)


def nav_for(role: str, *, development: bool) -> list[NavSection]:
    """The sections and links ``role`` may open (empty sections left out)."""
    sections = []
    for section in NAV:
        links = tuple(
            link
            for link in section.links
            if link.permission.allows(role) and (development or not link.development_only)
        )
        if links:
            sections.append(NavSection(section.label, links))
    return sections


def current_link(path: str) -> str | None:
    """The navigation path ``path`` belongs to (the longest that prefixes it)."""
    best: str | None = None
    for section in NAV:
        for link in section.links:
            target = link.path.rstrip("/") or "/"
            matches = path == link.path or path.startswith(target + "/")
            if link.path == "/console/":
                matches = path in ("/console", "/console/")
            if matches and (best is None or len(link.path) > len(best)):
                best = link.path
    return best


ROLE_LABELS: Final = {
    "admin": N_("Administrator"),
    "support_agent": N_("Support agent"),
    "teller": N_("Teller"),
    "teller_supervisor": N_("Teller supervisor"),
    "risk_officer": N_("Risk and compliance officer"),
    "operator": N_("Operator"),
}


def role_label(role: str) -> str:
    """The role's name as an English msgid (translated where shown)."""
    return ROLE_LABELS.get(role, role)
