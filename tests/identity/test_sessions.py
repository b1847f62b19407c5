"""Refresh-token rotation with reuse detection, sign-out, token and session expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ewallet.kit.db.base import Base
from tests.fixtures.identity import Wallet, bearer

sessions = Base.metadata.tables["auth_sessions"]
audit = Base.metadata.tables["audit_events"]


async def refresh(wallet: Wallet, token: str) -> tuple[int, dict[str, object]]:
    response = await wallet.client.post("/v1/sessions/refresh", json={"refresh_token": token})
    return response.status_code, response.json() if response.content else {}


async def me_status(wallet: Wallet, access: str) -> int:
    return (await wallet.client.get("/v1/me", headers=bearer(access))).status_code


async def test_refresh_rotates_the_token(wallet: Wallet) -> None:
    first = (await wallet.register())["tokens"]
    wallet.clock.advance(timedelta(seconds=1))
    status, body = await refresh(wallet, first["refresh_token"])
    assert status == 201
    second = body["tokens"]
    assert isinstance(second, dict)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["device_id"] == "phone-1"
    assert second["token_type"] == "Bearer"
    assert await me_status(wallet, second["access_token"]) == 200
    status, body = await refresh(wallet, second["refresh_token"])
    assert status == 201


async def test_a_reused_refresh_token_revokes_the_whole_family(wallet: Wallet) -> None:
    first = (await wallet.register())["tokens"]
    wallet.clock.advance(timedelta(seconds=1))
    _, body = await refresh(wallet, first["refresh_token"])
    second = body["tokens"]
    assert isinstance(second, dict)
    status, problem = await refresh(wallet, first["refresh_token"])  # the thief, or a replay
    assert (status, problem["code"]) == (401, "unauthorized")
    # The legitimate newer tokens died with the family.
    assert (await refresh(wallet, second["refresh_token"]))[0] == 401
    assert await me_status(wallet, second["access_token"]) == 401
    assert await me_status(wallet, first["access_token"]) == 401
    [row] = await wallet.rows(select(sessions))
    assert row.revoked_reason == "refresh_token_reuse"
    [event] = await wallet.rows(select(audit).where(audit.c.action == "auth.refresh_token_reused"))
    assert event.details == {"session_id": row.id}
    # Signing in again works: the owner is not locked out.
    assert (await wallet.sign_in()).status_code == 201


async def test_unknown_and_expired_refresh_tokens(wallet: Wallet) -> None:
    tokens = (await wallet.register())["tokens"]
    before = await wallet.snapshot()
    assert (await refresh(wallet, "rt_made-up"))[0] == 401
    assert await wallet.snapshot() == before
    wallet.clock.advance(timedelta(days=30, seconds=1))
    assert (await refresh(wallet, tokens["refresh_token"]))[0] == 401


async def test_refresh_keeps_an_active_session_alive(wallet: Wallet) -> None:
    tokens = (await wallet.register())["tokens"]
    for _ in range(3):  # 60 days in all, never idle for 30
        wallet.clock.advance(timedelta(days=20))
        status, body = await refresh(wallet, tokens["refresh_token"])
        assert status == 201
        assert isinstance(body["tokens"], dict)
        tokens = body["tokens"]


async def test_access_tokens_expire_on_the_injected_clock(wallet: Wallet) -> None:
    tokens = (await wallet.register())["tokens"]  # issued a minute ago (register moves on)
    wallet.clock.advance(timedelta(minutes=13, seconds=59))
    assert await me_status(wallet, tokens["access_token"]) == 200
    wallet.clock.advance(timedelta(seconds=1))
    assert await me_status(wallet, tokens["access_token"]) == 401
    status, _body = await refresh(wallet, tokens["refresh_token"])
    assert status == 201


async def test_sign_out_ends_the_session(wallet: Wallet) -> None:
    tokens = (await wallet.register())["tokens"]
    other = (await wallet.sign_in(device="phone-2")).json()
    assert other["code"] == "step_up_required"
    response = await wallet.client.delete(
        "/v1/sessions/current", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 204
    assert response.content == b""
    assert await me_status(wallet, tokens["access_token"]) == 401
    assert (await refresh(wallet, tokens["refresh_token"]))[0] == 401
    [row] = await wallet.rows(select(sessions))
    assert row.revoked_reason == "signed_out"
    assert [r.action for r in await wallet.rows(select(audit))][-1] == "auth.signed_out"
