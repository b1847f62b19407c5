"""With the rate-limit store down, codes and sign-in answer 503 and do nothing.

Admitting without the limits would open SMS bombing and password guessing; refusing with
``upstream_unavailable`` (and changing nothing) is the safe answer.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.models.identity import User
from tests.fixtures.identity import E164, PHONE, START, running

users = cast(Table, User.__table__)
# Nothing listens on port 1: every call to the store fails.
UNREACHABLE = "redis://127.0.0.1:1/0?key_prefix=nowhere:"


def unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "upstream_unavailable"


async def test_codes_and_sign_in_refuse_and_change_nothing(fast_settings: Settings) -> None:
    clock = FrozenClock(START)
    async with running(fast_settings, clock) as healthy:
        await healthy.register()
    down = fast_settings.model_copy(update={"redis_url": UNREACHABLE})
    async with running(down, clock) as wallet:
        before = await wallet.snapshot()
        [user_before] = await wallet.rows(select(users).where(users.c.phone == E164))

        unavailable(await wallet.ask_code("13900001111", "register"))
        unavailable(await wallet.ask_code(PHONE, "login"))
        unavailable(await wallet.ask_code(PHONE, "reset_login_password"))
        unavailable(await wallet.sign_in())  # the right password: still no session
        unavailable(await wallet.sign_in(password="not the password"))  # no failure counted

        # No code stored, no SMS in the outbox, no session, no failure on the account.
        assert await wallet.snapshot() == before
        [user_after] = await wallet.rows(select(users).where(users.c.phone == E164))
        assert user_after == user_before
        assert (await wallet.sms("+8613900001111")) == []
