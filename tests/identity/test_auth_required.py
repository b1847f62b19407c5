"""Every identity route that needs a token answers 401 ``unauthorized`` without a good one:
no token, garbage, another scheme, a forged signature, a revoked session, an expired token.
Each refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest

from tests.fixtures.identity import PASSWORD, Wallet, bearer

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/me", None),
    ("PATCH", "/v1/me", {"nickname": "x"}),
    (
        "PUT",
        "/v1/me/login-password",
        {"current_password": PASSWORD, "new_password": "new pass 123"},
    ),
    ("GET", "/v1/me/devices", None),
    ("DELETE", "/v1/me/devices/{device}", None),
    ("DELETE", "/v1/sessions/current", None),
    ("POST", "/v1/me/step-up", {"challenge_id": "chl_x", "verification_code": "123456"}),
]


def forged(access: str) -> str:
    claims = jwt.decode(access, options={"verify_signature": False})
    return jwt.encode(claims, "someone else's key" * 4, algorithm="HS256")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_no_good_token_no_entry(
    wallet: Wallet, method: str, path: str, body: dict[str, Any] | None
) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    listed = await wallet.client.get("/v1/me/devices", headers=bearer(access))
    url = path.format(device=listed.json()["items"][0]["id"])

    async def refused(headers: dict[str, str], mode: str) -> None:
        before = await wallet.snapshot()
        response = await wallet.client.request(method, url, json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (401, "unauthorized"), mode
        assert await wallet.snapshot() == before, mode

    await refused({}, "missing")
    await refused(bearer("not.a.token"), "garbage")
    await refused({"Authorization": f"Basic {access}"}, "another scheme")
    await refused(bearer(forged(access)), "forged")
    signed_out = await wallet.client.delete("/v1/sessions/current", headers=bearer(access))
    assert signed_out.status_code == 204
    await refused(bearer(access), "revoked session")
    fresh = (await wallet.sign_in()).json()["tokens"]["access_token"]
    wallet.clock.advance(timedelta(minutes=15))
    await refused(bearer(fresh), "expired")
