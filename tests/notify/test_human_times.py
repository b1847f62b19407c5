"""Notices and their SMS say times as people read them: Beijing time, in words, in the
reader's language -- and a notice keeps the machine value, so it reads right in whichever
language its reader later has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ewallet.kit.db.base import Base
from tests.fixtures.identity import (
    E164,
    PASSWORD,
    START,
    Wallet,
    bearer,
    fast_settings,
    wallet,
)

__all__ = ["fast_settings", "wallet"]
notifications = Base.metadata.tables["notifications"]
NEW_PASSWORD = "a brand new passphrase"


async def _change_password(wallet: Wallet, access: str, current: str, new: str) -> None:
    response = await wallet.client.put(
        "/v1/me/login-password",
        json={"current_password": current, "new_password": new},
        headers=bearer(access),
    )
    assert response.status_code == 204, response.text


async def test_the_sms_and_the_notice_say_beijing_time_in_words(wallet: Wallet) -> None:
    # 16:16 UTC on 2 March is 00:16 on 3 March in Beijing: the date is Beijing's too.
    wallet.clock.set(datetime(2026, 3, 2, 16, 16, tzinfo=UTC) - wallet.resend_gap)
    access = (await wallet.register())["tokens"]["access_token"]  # moves on by the gap
    await _change_password(wallet, access, PASSWORD, NEW_PASSWORD)

    sms = (await wallet.sms(E164))[-1].body
    assert "您的登录密码已于 2026年3月3日 00:16 修改。" in sms
    assert "T16:16" not in sms
    assert "+00:00" not in sms
    [stored] = [
        row.params
        for row in await wallet.rows(select(notifications))
        if row.kind == "login_password_changed"
    ]
    assert stored["time"] == "2026-03-02T16:16+00:00"  # the machine value, for any reader

    zh = await wallet.client.get("/v1/me/notifications", headers=bearer(access))
    assert "2026年3月3日 00:16" in zh.json()["items"][0]["body"]
    en = await wallet.client.get(
        "/v1/me/notifications", headers={**bearer(access), "Accept-Language": "en"}
    )
    assert "at 3 Mar 2026, 00:16 (Beijing time)" in en.json()["items"][0]["body"]


async def test_an_english_readers_sms_names_the_zone(wallet: Wallet) -> None:
    wallet.clock.set(START + timedelta(hours=1) - wallet.resend_gap)
    access = (await wallet.register())["tokens"]["access_token"]
    switched = await wallet.client.patch("/v1/me", json={"locale": "en"}, headers=bearer(access))
    assert switched.status_code == 200, switched.text
    # 02:30 UTC, 10:30 in Beijing.
    await _change_password(wallet, access, PASSWORD, NEW_PASSWORD)
    sms = (await wallet.sms(E164))[-1].body
    assert "Your login password was changed at 2 Mar 2026, 10:30 (Beijing time)." in sms
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in sms.replace("ewallet", ""))
