"""Who may open what in the console: a walk over every console route for every staff role.

``ROLE_MATRIX`` is the table: each console route (method and path) and the permission of
:mod:`ewallet.staff.permissions` it needs (``None``: open before sign-in; ``SIGNED_IN``: any
signed-in staff member, even before the one-time password is replaced). The walk checks
that the table names every route the app has (a new page must be added here), then for
each role signs in once and asks every route:

- a role the permission does not allow gets ``403`` (the refusal page), for every GET and
  for every POST carrying a valid CSRF token -- nothing is shown, nothing done;
- an allowed role is not refused (a made-up id then answers 404, never another's data);
- a POST without the CSRF token is ``403`` for everyone;
- without a session every page but the sign-in page sends to ``/console/signin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Final

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from ewallet.http.deps import app_services
from ewallet.models.operations import STAFF_ROLES
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
from ewallet.web.console.routing import ConsoleRoute
from tests.fixtures.console import LiveConsole
from tests.fixtures.staff import StaffLogin

SIGNED_IN: Final = "signed-in"
Need = Permission | str | None

ROLE_MATRIX: Final[dict[tuple[str, str], Need]] = {
    # The shell.
    ("GET", "/console"): None,
    ("GET", "/console/signin"): None,
    ("POST", "/console/signin"): None,
    ("POST", "/console/signout"): SIGNED_IN,
    ("GET", "/console/lock"): SIGNED_IN,
    ("POST", "/console/lock"): SIGNED_IN,
    ("GET", "/console/password"): SIGNED_IN,
    ("POST", "/console/password"): SIGNED_IN,
    ("POST", "/console/activity"): ANY_STAFF,
    ("GET", "/console/"): ANY_STAFF,
    # Support.
    ("GET", "/console/tickets"): SUPPORT,
    ("GET", "/console/tickets/{ticket_id}"): SUPPORT,
    ("GET", "/console/tickets/{ticket_id}/attachments/{attachment_id}"): SUPPORT,
    ("POST", "/console/tickets/{ticket_id}/assign"): SUPPORT,
    ("POST", "/console/tickets/{ticket_id}/note"): SUPPORT,
    ("POST", "/console/tickets/{ticket_id}/reply"): SUPPORT,
    ("POST", "/console/tickets/{ticket_id}/update"): SUPPORT,
    ("GET", "/console/callbacks"): SUPPORT,
    ("POST", "/console/callbacks/{callback_id}/done"): SUPPORT,
    ("GET", "/console/calls/new"): SUPPORT,
    ("POST", "/console/calls/new"): SUPPORT,
    ("GET", "/console/chats"): SUPPORT,
    ("GET", "/console/chats/{chat_id}"): SUPPORT,
    ("POST", "/console/chats/token"): SUPPORT,
    ("GET", "/console/help/articles"): SUPPORT,
    ("GET", "/console/help/articles/feedback-report"): SUPPORT,
    ("GET", "/console/help/articles/{article_id}"): SUPPORT,
    ("POST", "/console/help/articles/{article_id}"): SUPPORT,
    ("POST", "/console/help/articles/{article_id}/preview"): SUPPORT,
    ("GET", "/console/help/articles/{article_id}/revisions"): SUPPORT,
    ("GET", "/console/help/articles/{article_id}/revisions/{lang}/{revision}"): SUPPORT,
    # Customers.
    ("GET", "/console/customers"): ACCOUNT_GUARD,
    ("POST", "/console/customers"): ACCOUNT_GUARD,
    ("GET", "/console/customers/{user_id}"): ACCOUNT_GUARD,
    ("GET", "/console/customers/{user_id}/panel"): ACCOUNT_GUARD,
    ("GET", "/console/customers/{user_id}/transactions"): ACCOUNT_GUARD,
    ("POST", "/console/customers/{user_id}/freeze"): ACCOUNT_GUARD,
    ("POST", "/console/customers/{user_id}/unfreeze"): ACCOUNT_GUARD,
    ("GET", "/console/lookup"): ACCOUNT_GUARD,
    # Operations.
    ("GET", "/console/pending"): OPERATIONS,
    ("GET", "/console/outbox"): OPERATIONS,
    ("POST", "/console/outbox/{event_id}/replay"): OPERATIONS,
    ("GET", "/console/maintenance"): OPERATIONS,
    ("POST", "/console/maintenance"): OPERATIONS,
    ("POST", "/console/maintenance/{window_id}/cancel"): OPERATIONS,
    ("GET", "/console/merchants"): OPERATIONS,
    ("GET", "/console/merchants/new"): OPERATIONS,
    ("POST", "/console/merchants"): OPERATIONS,
    ("GET", "/console/merchants/{merchant_id}"): OPERATIONS,
    ("POST", "/console/merchants/{merchant_id}"): OPERATIONS,
    ("POST", "/console/merchants/{merchant_id}/rotate-key"): OPERATIONS,
    ("POST", "/console/merchants/{merchant_id}/status"): OPERATIONS,
    ("GET", "/console/dev/outbox"): OPERATIONS,
    ("POST", "/console/dev/outbox"): OPERATIONS,
    # The counter (cash handling has no admin pass).
    ("GET", "/console/counter/deposits/new"): CASH_HANDLING,
    ("POST", "/console/counter/deposits/new"): CASH_HANDLING,
    ("GET", "/console/counter/deposits/new/confirm"): CASH_HANDLING,
    ("POST", "/console/counter/deposits/new/confirm"): CASH_HANDLING,
    ("POST", "/console/counter/deposits/new/edit"): CASH_HANDLING,
    ("GET", "/console/counter/deposits"): CASH_READING,
    ("GET", "/console/counter/deposits/{deposit_id}"): CASH_READING,
    ("GET", "/console/counter/deposits/{deposit_id}/receipt.pdf"): CASH_READING,
    ("POST", "/console/counter/deposits/{deposit_id}/approve"): CASH_APPROVAL,
    ("POST", "/console/counter/deposits/{deposit_id}/reject"): CASH_APPROVAL,
    ("GET", "/console/counter/approvals"): CASH_APPROVAL,
    ("GET", "/console/counter/large-cash"): CASH_REPORTING,
    ("GET", "/console/counter/large-cash.csv"): CASH_REPORTING,
    # Compliance and administration.
    ("GET", "/console/audit"): AUDIT,
    ("GET", "/console/audit/events/{event_id}"): AUDIT,
    ("GET", "/console/staff"): ADMINISTRATION,
    ("GET", "/console/staff/new"): ADMINISTRATION,
    ("GET", "/console/staff/{staff_id}"): ADMINISTRATION,
    ("GET", "/console/staff/totp-resets/{reset_id}/approve"): ADMINISTRATION,
    ("POST", "/console/staff"): ADMINISTRATION,
    ("POST", "/console/staff/{staff_id}/role"): ADMINISTRATION,
    ("POST", "/console/staff/{staff_id}/disable"): ADMINISTRATION,
    ("POST", "/console/staff/{staff_id}/totp-resets"): ADMINISTRATION,
    ("POST", "/console/staff/totp-resets/{reset_id}/approve"): ADMINISTRATION,
    ("POST", "/console/staff/totp-resets/{reset_id}/reject"): ADMINISTRATION,
    # Reconciliation.
    ("GET", "/console/reconciliation"): RECONCILIATION_READING,
    ("POST", "/console/reconciliation"): OPERATIONS,
    ("GET", "/console/reconciliation/{run_id}"): RECONCILIATION_READING,
    ("GET", "/console/reconciliation/{run_id}/progress"): RECONCILIATION_READING,
    # Risk (web/console/risk_*.py).
    ("GET", "/console/risk/rules"): RISK_RULES,
    ("POST", "/console/risk/rules"): RISK_RULES,
    ("GET", "/console/risk/rules/{version}"): RISK_RULES,
    ("POST", "/console/risk/rules/{version}/validate"): RISK_RULES,
    ("GET", "/console/risk/rules/{version}/validate"): RISK_RULES,
    ("GET", "/console/risk/rules/{version}/rules"): RISK_RULES,
    ("POST", "/console/risk/rules/{version}/activate"): RISK_RULES,
    ("GET", "/console/risk/rules/{version}/new-rule"): RISK_RULES,
    ("GET", "/console/risk/rules/{version}/rules/{name}"): RISK_RULES,
    ("POST", "/console/risk/rules/{version}/rules"): RISK_RULES,
    ("POST", "/console/risk/rules/{version}/rules/{name}/delete"): RISK_RULES,
    ("GET", "/console/risk/decisions"): RISK_RULES,
    ("GET", "/console/risk/decisions/{decision_id}"): RISK_RULES,
    ("GET", "/console/risk/hits"): RISK_RULES,
    ("GET", "/console/risk/reviews"): RISK_REVIEWS,
    ("GET", "/console/risk/reviews/{review_id}"): RISK_REVIEWS,
    ("POST", "/console/risk/reviews/{review_id}/approve"): RISK_REVIEWS,
    ("POST", "/console/risk/reviews/{review_id}/reject"): RISK_REVIEWS,
}
CSRF_FIELD: Final = re.compile(r'"X-CSRF-Token": "([^"]+)"')
PLACEHOLDER: Final = re.compile(r"\{[^}]+\}")


def console_routes(live: LiveConsole) -> set[tuple[str, str]]:
    found = set()
    app = live.shop.app
    assert app is not None
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, ConsoleRoute) and context.path is not None:
            for method in context.methods or ():
                if method != "HEAD":
                    found.add((method, context.path))
    return found


def test_the_matrix_names_every_console_route(live: LiveConsole) -> None:
    routes = console_routes(live)
    missing = sorted(routes - set(ROLE_MATRIX))
    stale = sorted(set(ROLE_MATRIX) - routes)
    assert not missing, f"console routes missing from ROLE_MATRIX: {missing}"
    assert not stale, f"ROLE_MATRIX names routes that do not exist: {stale}"


class Browser:
    """One staff member's signed-in httpx client and the session's CSRF token."""

    def __init__(self, live: LiveConsole, login: StaffLogin) -> None:
        self.client = httpx.Client(base_url=live.base_url, headers={"Accept-Language": "en"})
        live.clock.advance(timedelta(seconds=30))
        form = self.client.get("/console/signin")
        token = CSRF_FIELD.search(form.text)
        assert token is not None
        signed = self.client.post(
            "/console/signin",
            data={
                "csrf": token.group(1),
                "email": login.email,
                "password": login.password,
                "totp_code": login.code(live.clock),
            },
        )
        assert signed.status_code == 303, signed.text
        overview = self.client.get("/console/")
        found = CSRF_FIELD.search(overview.text)
        assert found is not None, overview.text[:500]
        self.csrf = found.group(1)

    def ask(self, method: str, path: str, *, with_csrf: bool = True) -> httpx.Response:
        url = PLACEHOLDER.sub("x0000000000", path)
        if method == "GET":
            return self.client.get(url)
        data = {"csrf": self.csrf} if with_csrf else {}
        return self.client.request(method, url, data=data)


@pytest.fixture(scope="module")
def browsers(live: LiveConsole) -> Iterator[dict[str, Browser]]:
    opened = {role: Browser(live, live.staff(role)) for role in STAFF_ROLES}
    yield opened
    for browser in opened.values():
        browser.client.close()


def _allowed(need: Need, role: str) -> bool:
    if need is None or need == SIGNED_IN:
        return True
    assert isinstance(need, Permission)
    return need.allows(role)


def _walked() -> list[tuple[str, str]]:
    return sorted(key for key, need in ROLE_MATRIX.items() if need is not None)


@pytest.mark.parametrize("route", _walked(), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_is_refused_exactly_where_the_matrix_says(
    browsers: dict[str, Browser], route: tuple[str, str]
) -> None:
    method, path = route
    need = ROLE_MATRIX[route]
    if route in (("POST", "/console/signout"), ("POST", "/console/lock")):
        pytest.skip("ends or re-checks the walker's own session; tests/console/test_shell.py")
    wrong = []
    for role, browser in browsers.items():
        answer = browser.ask(method, path)
        refused = answer.status_code == 403
        if _allowed(need, role) == refused:
            wrong.append(f"{role}: {answer.status_code}")
    assert not wrong, f"{method} {path} needs {need}: {wrong}"


@pytest.mark.parametrize(
    "route",
    sorted(key for key in ROLE_MATRIX if key[0] == "POST" and key != ("POST", "/console/signin")),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_a_post_without_the_token_is_refused(
    browsers: dict[str, Browser], route: tuple[str, str]
) -> None:
    answer = browsers["admin"].ask(*route, with_csrf=False)
    assert answer.status_code == 403, answer.text[:300]


@pytest.mark.parametrize("route", _walked(), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_session_no_page(live: LiveConsole, route: tuple[str, str]) -> None:
    method, path = route
    with httpx.Client(base_url=live.base_url) as anonymous:
        url = PLACEHOLDER.sub("x0000000000", path)
        answer = anonymous.request(method, url, data={} if method == "POST" else None)
    if method == "POST":
        assert answer.status_code in (303, 403), answer.status_code  # no token, or sign-in
    else:
        assert answer.status_code == 303, answer.status_code
        assert answer.headers["location"].startswith("/console/signin")


def test_the_services_are_shared(live: LiveConsole) -> None:
    """The walk's app is the one the browsers sign in to (a guard against a stale fixture)."""
    assert app_services(live.shop.app).engine is live.shop.engine
