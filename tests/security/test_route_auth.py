"""Every /v1 route is authenticated unless it is on a short, reviewed list of public ones.

The walker enumerates the app's routes (every router any feature adds is picked up, however
deeply nested), fills path parameters with a dummy id, sends ``{}`` and expects
``401 unauthorized`` with no token and with a garbage one. A test adds a route that forgot
its dependency and checks the walker flags it. Staff routes are also checked per role from
a table: a customer's token, and a staff role not in the table, are both refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.ids import new_id
from ewallet.models.operations import STAFF_ROLES
from ewallet.security.context import SecurityContext
from tests.fixtures.serving import serving
from tests.fixtures.staff import bearer, make_staff, staff_token

Operation = tuple[str, str]

# Reachable without a token, each for a reason: signing up, signing in and getting the
# codes to do so, recovering a lost password, and the public maintenance banner.
PUBLIC: frozenset[Operation] = frozenset(
    {
        ("POST", "/v1/verification-codes"),
        ("POST", "/v1/users"),
        ("POST", "/v1/sessions"),
        ("POST", "/v1/sessions/step-up"),
        ("POST", "/v1/sessions/refresh"),  # the refresh token in the body is the credential
        ("POST", "/v1/password-resets"),
        ("GET", "/v1/maintenance"),
        ("POST", "/v1/staff/sessions"),
        # PSP notifications: the PSP authenticates by signature, not by token (docs/psp.md).
        ("POST", "/v1/callbacks/alipay"),
        ("POST", "/v1/callbacks/wechat-pay"),
        # Help is read before anyone signs in; feedback is anonymous and rate-limited per IP.
        ("GET", "/v1/help/articles"),
        ("GET", "/v1/help/articles/{article_ref}"),
        ("POST", "/v1/help/articles/{article_ref}/feedback"),
        ("GET", "/v1/help/contact"),
    }
)
ANY_STAFF = frozenset(STAFF_ROLES)
ACCOUNT_GUARDS = frozenset({"admin", "support_agent", "risk_officer"})
HELP_EDITORS = frozenset({"admin", "support_agent"})
COUNTER_READERS = frozenset({"admin", "teller", "teller_supervisor", "risk_officer"})
# Routes admin may not call, each on purpose: handling counter cash is for tellers only.
NOT_FOR_ADMIN: frozenset[Operation] = frozenset(
    {
        ("POST", "/v1/staff/counter-deposits"),
        ("POST", "/v1/staff/counter-deposits/{deposit_id}/approve"),
        ("POST", "/v1/staff/counter-deposits/{deposit_id}/reject"),
    }
)
# Who may call each staff route. A new /v1/staff route fails the suite until it is here.
SUPPORT_AGENTS = frozenset({"admin", "support_agent"})
STAFF_ROUTE_ROLES: dict[Operation, frozenset[str]] = {
    ("GET", "/v1/staff/me"): ANY_STAFF,
    ("GET", "/v1/staff/merchants"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/outbox"): frozenset({"admin", "operator"}),
    ("POST", "/v1/staff/outbox/{event_id}/replay"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/funding/pending"): frozenset({"admin", "operator", "risk_officer"}),
    ("POST", "/v1/staff/support/chats/{chat_id}/handover"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/customers"): ACCOUNT_GUARDS,
    ("GET", "/v1/staff/money-lookup"): ACCOUNT_GUARDS,
    ("GET", "/v1/staff/support/customers/{user_id}/transactions"): ACCOUNT_GUARDS,
    ("PATCH", "/v1/staff/staff/{staff_id}"): frozenset({"admin"}),
    ("POST", "/v1/staff/staff/{staff_id}/totp-resets"): frozenset({"admin"}),
    ("GET", "/v1/staff/totp-resets"): frozenset({"admin"}),
    ("POST", "/v1/staff/totp-resets/{reset_id}/approve"): frozenset({"admin"}),
    ("POST", "/v1/staff/totp-resets/{reset_id}/reject"): frozenset({"admin"}),
    ("GET", "/v1/staff/audit-events/verification"): frozenset({"admin", "risk_officer"}),
    ("GET", "/v1/staff/audit-events/{event_id}"): frozenset({"admin", "risk_officer"}),
    ("PUT", "/v1/staff/me/password"): ANY_STAFF,
    ("POST", "/v1/staff/sessions/refresh"): ANY_STAFF,
    ("DELETE", "/v1/staff/sessions/current"): ANY_STAFF,
    ("GET", "/v1/staff/staff"): frozenset({"admin"}),
    ("POST", "/v1/staff/staff"): frozenset({"admin"}),
    ("POST", "/v1/staff/staff/{staff_id}/disable"): frozenset({"admin"}),
    ("POST", "/v1/staff/users/{user_id}/freeze"): ACCOUNT_GUARDS,
    ("POST", "/v1/staff/users/{user_id}/unfreeze"): ACCOUNT_GUARDS,
    ("GET", "/v1/staff/phone-changes"): ACCOUNT_GUARDS,
    ("GET", "/v1/staff/phone-changes/{request_id}"): ACCOUNT_GUARDS,
    ("POST", "/v1/staff/phone-changes/{request_id}/approve"): ACCOUNT_GUARDS,
    ("POST", "/v1/staff/phone-changes/{request_id}/reject"): ACCOUNT_GUARDS,
    ("GET", "/v1/staff/audit-events"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/maintenance-windows"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/maintenance-windows"): ANY_STAFF,
    ("DELETE", "/v1/staff/maintenance-windows/{window_id}"): frozenset({"admin", "operator"}),
    # Help articles are written and judged by support agents.
    ("GET", "/v1/staff/help/articles"): HELP_EDITORS,
    ("POST", "/v1/staff/help/articles"): HELP_EDITORS,
    ("PUT", "/v1/staff/help/articles/{article_id}"): HELP_EDITORS,
    ("GET", "/v1/staff/help/articles/{article_id}/revisions"): HELP_EDITORS,
    ("GET", "/v1/staff/help/feedback-report"): HELP_EDITORS,
    ("POST", "/v1/staff/merchants"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/merchants/{merchant_id}"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/merchants/{merchant_id}/users"): frozenset({"admin", "operator"}),
    ("POST", "/v1/staff/merchants/{merchant_id}/users"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/merchants/{merchant_id}/payout-account"): frozenset({"admin", "operator"}),
    ("PUT", "/v1/staff/merchants/{merchant_id}/payout-account"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/billers/{biller_id}/payout-account"): frozenset({"admin", "operator"}),
    ("PUT", "/v1/staff/billers/{biller_id}/payout-account"): frozenset({"admin", "operator"}),
    ("PATCH", "/v1/staff/merchants/{merchant_id}"): frozenset({"admin", "operator"}),
    ("POST", "/v1/staff/merchants/{merchant_id}/rotate-key"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/merchants/{merchant_id}/keys"): frozenset({"admin", "operator"}),
    ("POST", "/v1/staff/reconciliation-runs"): frozenset({"admin", "operator"}),
    ("GET", "/v1/staff/reconciliation-runs"): frozenset({"admin", "operator", "risk_officer"}),
    ("GET", "/v1/staff/reconciliation-runs/{run_id}"): frozenset(
        {"admin", "operator", "risk_officer"}
    ),
    # Counter cash: only tellers and their supervisors handle it (admin is no cash role).
    ("POST", "/v1/staff/counter-deposits"): frozenset({"teller", "teller_supervisor"}),
    ("POST", "/v1/staff/counter-deposits/{deposit_id}/approve"): frozenset({"teller_supervisor"}),
    ("POST", "/v1/staff/counter-deposits/{deposit_id}/reject"): frozenset({"teller_supervisor"}),
    ("GET", "/v1/staff/counter-deposits"): COUNTER_READERS,
    ("GET", "/v1/staff/counter-deposits/{deposit_id}"): COUNTER_READERS,
    ("GET", "/v1/staff/counter-deposits/{deposit_id}/receipt.pdf"): COUNTER_READERS,
    ("GET", "/v1/staff/large-cash-records"): frozenset(
        {"admin", "risk_officer", "teller_supervisor"}
    ),
    # Anti-money-laundering reports (docs/aml-reports.md): risk officers.
    ("GET", "/v1/staff/aml/reports"): frozenset({"admin", "risk_officer"}),
    ("GET", "/v1/staff/aml/reports/export"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/aml/candidates/{candidate_id}/report"): frozenset(
        {"admin", "risk_officer"}
    ),
    ("POST", "/v1/staff/aml/candidates/{candidate_id}/dismiss"): frozenset(
        {"admin", "risk_officer"}
    ),
    # Watch-list hits and loads (docs/risk-watchlist.md): risk officers.
    ("GET", "/v1/staff/risk/watchlist/hits"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/risk/watchlist/hits/{hit_id}/clear"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/risk/watchlist/hits/{hit_id}/confirm"): frozenset(
        {"admin", "risk_officer"}
    ),
    ("GET", "/v1/staff/risk/watchlist/loads"): frozenset({"admin", "risk_officer"}),
    # The risk review queue (docs/risk-review.md): risk officers.
    ("GET", "/v1/staff/risk/reviews"): frozenset({"admin", "risk_officer"}),
    ("GET", "/v1/staff/risk/reviews/{review_id}"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/risk/reviews/{review_id}/approve"): frozenset({"admin", "risk_officer"}),
    ("POST", "/v1/staff/risk/reviews/{review_id}/reject"): frozenset({"admin", "risk_officer"}),
    # Risk rules and decisions (docs/risk-rules.md): risk officers.
    **{
        operation: frozenset({"admin", "risk_officer"})
        for operation in (
            ("GET", "/v1/staff/risk/rule-sets"),
            ("POST", "/v1/staff/risk/rule-sets"),
            ("GET", "/v1/staff/risk/rule-sets/{version}"),
            ("PUT", "/v1/staff/risk/rule-sets/{version}/rules/{name}"),
            ("DELETE", "/v1/staff/risk/rule-sets/{version}/rules/{name}"),
            ("POST", "/v1/staff/risk/rule-sets/{version}/validate"),
            ("POST", "/v1/staff/risk/rule-sets/{version}/activate"),
            ("GET", "/v1/staff/risk/decisions"),
            ("GET", "/v1/staff/risk/decisions/{decision_id}"),
            ("GET", "/v1/staff/risk/rule-hits"),
            ("GET", "/v1/staff/risk/features"),
        )
    },
    # Support tickets: the agents who work them (and admins).
    ("GET", "/v1/staff/support/tickets"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/tickets/{ticket_id}"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/tickets/{ticket_id}/attachments/{attachment_id}"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/tickets/{ticket_id}/replies"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/tickets/{ticket_id}/notes"): SUPPORT_AGENTS,
    ("PUT", "/v1/staff/support/tickets/{ticket_id}/assignee"): SUPPORT_AGENTS,
    ("PATCH", "/v1/staff/support/tickets/{ticket_id}"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/queue/dispatch"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/canned-replies"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/canned-replies"): SUPPORT_AGENTS,
    ("PUT", "/v1/staff/support/canned-replies/{reply_id}"): SUPPORT_AGENTS,
    ("DELETE", "/v1/staff/support/canned-replies/{reply_id}"): SUPPORT_AGENTS,
    # Online chat, the hotline desk and the agent's customer view (docs/chat.md).
    ("GET", "/v1/staff/support/chats"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/chats/{chat_id}"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/chats/{chat_id}/take"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/chats/{chat_id}/messages"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/chats/{chat_id}/end"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/callbacks"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/callbacks/{callback_id}/done"): SUPPORT_AGENTS,
    ("POST", "/v1/staff/support/calls"): SUPPORT_AGENTS,
    ("GET", "/v1/staff/support/customers/{user_id}"): ACCOUNT_GUARDS,
    ("POST", "/v1/staff/support/customers/{user_id}/freeze"): ACCOUNT_GUARDS,
    ("POST", "/v1/staff/support/customers/{user_id}/unfreeze"): ACCOUNT_GUARDS,
}
_PARAM = re.compile(r"\{[^}]+\}")


def v1_operations(app: FastAPI) -> list[Operation]:
    """Every (method, path template) under /v1, through any depth of included routers.

    ``iter_route_contexts`` is FastAPI's own walk (the one OpenAPI generation uses): since
    FastAPI keeps included routers nested, ``app.routes`` alone no longer lists them.
    WebSocket routes are skipped: they authenticate in their handshake, not over HTTP.
    """
    operations: set[Operation] = set()
    for context in iter_route_contexts(app.routes):
        path = context.path
        if not path or not path.startswith("/v1/"):
            continue
        if not isinstance(context.original_route, APIRoute):
            continue
        operations.update(
            (method, path) for method in context.methods or () if method not in {"HEAD", "OPTIONS"}
        )
    return sorted(operations)


def concrete(path: str) -> str:
    return _PARAM.sub("1", path)


async def call(
    client: httpx.AsyncClient, operation: Operation, headers: dict[str, str]
) -> httpx.Response:
    method, path = operation
    # A fresh Idempotency-Key, so money routes reach their authentication check.
    headers = {**headers, "Idempotency-Key": new_id("walk")}
    if method in {"GET", "DELETE"}:
        return await client.request(method, concrete(path), headers=headers)
    return await client.request(method, concrete(path), json={}, headers=headers)


async def unguarded(client: httpx.AsyncClient, operations: Iterable[Operation]) -> list[str]:
    """The non-public operations that do not answer 401 unauthorized without a valid token."""
    found = []
    for operation in operations:
        if operation in PUBLIC:
            continue
        for label, headers in (("no token", {}), ("garbage token", bearer("garbage.token.x"))):
            response = await call(client, operation, headers)
            code = response.json().get("code") if response.content else None
            if response.status_code != 401 or code != "unauthorized":
                found.append(f"{operation[0]} {operation[1]} ({label}): {response.status_code}")
    return found


async def test_every_non_public_route_requires_a_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    operations = v1_operations(app)
    assert ("GET", "/v1/staff/me") in operations  # the walk reaches included routers
    assert set(operations) >= PUBLIC  # no stale entry keeps a door open for a future route
    assert await unguarded(client, operations) == []


async def test_the_walker_flags_a_route_without_its_dependency(fast_settings: Settings) -> None:
    app = create_app(fast_settings)
    forgetful = APIRouter(prefix="/v1/forgetful")

    @forgetful.post("/{thing_id}/do")
    async def do_it(thing_id: str) -> dict[str, str]:
        return {"done": thing_id}

    outer = APIRouter()
    outer.include_router(forgetful)
    app.include_router(outer)

    @app.get("/v1/also-forgot")
    async def also() -> dict[str, str]:
        return {}

    async with serving(app) as client:
        flagged = await unguarded(client, v1_operations(app))
    assert flagged == [
        "GET /v1/also-forgot (no token): 200",
        "GET /v1/also-forgot (garbage token): 200",
        "POST /v1/forgetful/{thing_id}/do (no token): 200",
        "POST /v1/forgetful/{thing_id}/do (garbage token): 200",
    ]


async def test_a_staff_token_opens_no_customer_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    fast_settings: Settings,
    clock: FrozenClock,
) -> None:
    admin = await make_staff(engine, security, clock, "admin")
    token = await staff_token(engine, security, fast_settings, clock, admin.id)
    customer_routes = [
        op for op in v1_operations(app) if op not in PUBLIC and not op[1].startswith("/v1/staff/")
    ]
    for operation in customer_routes:
        response = await call(client, operation, bearer(token))
        assert response.status_code == 401, operation


def test_the_role_table_covers_every_staff_route(app: FastAPI) -> None:
    staff_routes = {op for op in v1_operations(app) if op[1].startswith("/v1/staff/")}
    assert staff_routes - PUBLIC == set(STAFF_ROUTE_ROLES)
    assert all(
        ("admin" in roles) != (operation in NOT_FOR_ADMIN)
        for operation, roles in STAFF_ROUTE_ROLES.items()
    )


async def test_staff_routes_admit_exactly_their_roles(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    fast_settings: Settings,
    clock: FrozenClock,
) -> None:
    members = {role: await make_staff(engine, security, clock, role) for role in STAFF_ROLES}
    user_token = security.tokens.issue(
        subject="usr_1", session_id="ses_1", kind="user", now=clock.now(), ttl=timedelta(hours=1)
    )
    wrong: list[str] = []
    for operation, allowed in sorted(STAFF_ROUTE_ROLES.items()):
        as_user = await call(client, operation, bearer(user_token))
        if as_user.status_code not in {401, 403}:
            wrong.append(f"{operation} let a customer token through: {as_user.status_code}")
        for role, member in members.items():
            # A session per call: sign-out or a password change must not spoil the next one.
            token = await staff_token(engine, security, fast_settings, clock, member.id)
            response = await call(client, operation, bearer(token))
            if role in allowed and response.status_code in {401, 403}:
                wrong.append(f"{operation} refused {role}: {response.status_code}")
            if role not in allowed and (
                response.status_code != 403 or response.json()["code"] != "forbidden"
            ):
                wrong.append(f"{operation} let {role} through: {response.status_code}")
    assert wrong == []
