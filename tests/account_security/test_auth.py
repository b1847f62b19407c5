"""Every /v1/me security route needs a live access token; without one nothing happens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem, sessions

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PUT", "/v1/me/payment-password", {"payment_password": "730492"}),
    ("POST", "/v1/me/totp", None),
    ("POST", "/v1/me/totp/confirm", {"totp_code": "123456"}),
    ("DELETE", "/v1/me/totp", {"totp_code": "123456"}),
    ("POST", "/v1/me/identity", {"real_name": "张三", "id_number": "11010519491231002X"}),
    ("POST", "/v1/me/freeze", {"payment_password": PIN}),
    ("PUT", "/v1/me/anti-phishing-code", {"code": "ab12"}),
    ("DELETE", "/v1/me/anti-phishing-code", None),
    ("GET", "/v1/me/notifications", None),
    ("POST", "/v1/me/notifications/ntf_x/read", None),
]


def _expired(harness: Harness, user: TestUser) -> str:
    return harness.security.tokens.issue(
        kind="user",
        subject=user.id,
        session_id=user.session_id,
        now=harness.clock.now() - timedelta(minutes=16),
        ttl=timedelta(minutes=15),
    )


def _staff_kind(harness: Harness, user: TestUser) -> str:
    return harness.security.tokens.issue(
        kind="staff",
        subject=user.id,
        session_id=user.session_id,
        now=harness.clock.now(),
        ttl=timedelta(minutes=15),
    )


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_refuses_missing_bad_expired_and_revoked_tokens(
    harness: Harness, method: str, path: str, body: dict[str, Any] | None
) -> None:
    user = await harness.user(pin=PIN)
    before = await harness.snapshot(user)
    tokens = [
        None,
        "garbage",
        _expired(harness, user),
        _staff_kind(harness, user),
        harness.token(user) + "x",  # a bad signature
    ]
    for token in tokens:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await harness.client.request(method, path, json=body, headers=headers)
        assert_problem(response, 401, "unauthorized")
    # A token of a signed-out session stops working at once.
    token = harness.token(user)
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(sessions)
            .where(sessions.c.id == user.session_id)
            .values(revoked_at=harness.clock.now())
        )
    response = await harness.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert_problem(response, 401, "unauthorized")
    before["revoked_sessions"] = 1
    assert await harness.snapshot(user) == before
