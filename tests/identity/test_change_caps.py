"""At most 5 login-password and 5 payment-password changes per user in any 24 hours.

The digits rules of ``test_login_digits`` answer questions about the other password, so
their answers are rationed; what a refusal at the cap must leave is checked with the
snapshot (no hash, no notification, no session, no code touched).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, select

from ewallet.models.identity import User
from tests.fixtures.identity import E164, PASSWORD, PHONE, START, Wallet, bearer

users = cast(Table, User.__table__)
PIN_URL = "/v1/me/payment-password"
LOGIN_URL = "/v1/me/login-password"
RESET_URL = "/v1/password-resets"
PINS = ("385916", "730481", "902817", "461953", "518274", "627395", "294816", "840362")
# Registration moves the clock past the resend gap: the counted changes fall at 01:31 UTC
# (hour bucket 01:00), which stops counting once 02:00 of the next day has begun.
FIRST_FREE = START.replace(hour=2, minute=0) + timedelta(days=1)


async def user_row(wallet: Wallet) -> dict[str, Any]:
    [row] = await wallet.rows(select(users).where(users.c.phone == E164))
    return dict(row._mapping)


def assert_capped(response: httpx.Response, *, wait: timedelta) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "rate_limited"
    seconds = int(wait.total_seconds())
    assert body["retry_after"] == seconds
    assert response.headers["Retry-After"] == str(seconds)


class Owner:
    """A registered user who knows both passwords, keeping track of them as they change."""

    def __init__(self, wallet: Wallet, access: str) -> None:
        self.wallet = wallet
        self.headers = bearer(access)
        self.password = PASSWORD
        self.pin: str | None = None
        self.changes = 0

    async def sign_in_again(self) -> None:
        """A fresh access token (after the clock moved past its 15 minutes, or a reset)."""
        response = await self.wallet.sign_in(password=self.password)
        assert response.status_code == 201, response.text
        self.headers = bearer(response.json()["tokens"]["access_token"])

    async def change_login(self, new: str | None = None) -> httpx.Response:
        self.changes += 1
        new = new or f"fresh password {self.changes}"
        response = await self.wallet.client.put(
            LOGIN_URL,
            json={"current_password": self.password, "new_password": new},
            headers=self.headers,
        )
        if response.status_code == 204:
            self.password = new
        return response

    async def change_pin(self, new: str, *, current: str | None = None) -> httpx.Response:
        body = {"payment_password": new}
        if self.pin is not None:
            body["current_payment_password"] = current or self.pin
        response = await self.wallet.client.put(PIN_URL, json=body, headers=self.headers)
        if response.status_code == 204:
            self.pin = new
        return response


async def owner(wallet: Wallet) -> Owner:
    return Owner(wallet, (await wallet.register())["tokens"]["access_token"])


async def test_the_sixth_login_password_change_in_a_day_is_refused(wallet: Wallet) -> None:
    me = await owner(wallet)
    for _ in range(5):
        changed = await me.change_login()
        assert changed.status_code == 204, changed.text
    before, snapshot = await user_row(wallet), await wallet.snapshot()

    assert_capped(await me.change_login(), wait=FIRST_FREE - wallet.clock.now())
    assert await user_row(wallet) == before  # the hash, its digits, the counters
    assert await wallet.snapshot() == snapshot  # no notification, no SMS, no session ended

    # Rolling, not reset at UTC midnight: 23 hours later it is still refused ...
    wallet.clock.set(FIRST_FREE - timedelta(seconds=1))
    await me.sign_in_again()
    assert_capped(await me.change_login(), wait=timedelta(seconds=1))
    # ... and once the first changes are more than a day old, it works again.
    wallet.clock.set(FIRST_FREE)
    changed = await me.change_login()
    assert changed.status_code == 204, changed.text
    await me.sign_in_again()  # with the new password


async def test_refusals_for_the_pin_count_and_other_refusals_do_not(wallet: Wallet) -> None:
    me = await owner(wallet)
    assert (await me.change_pin("730492")).status_code == 204
    # Not past authentication, or refused before the PIN is looked at: not counted.
    wrong = await wallet.client.put(
        LOGIN_URL,
        json={"current_password": "not the password", "new_password": "fresh password"},
        headers=me.headers,
    )
    assert wrong.status_code == 401
    weak = await me.change_login("12345678")
    assert weak.json()["reasons"] != ["matches_payment_password"]
    for index in range(5):
        probe = await me.change_login(f"wallet730492-{index}")
        assert probe.status_code == 422, probe.text
        assert probe.json()["reasons"] == ["matches_payment_password"]
    # Five answers about the PIN were given today: no sixth, even for a harmless password.
    assert_capped(await me.change_login(), wait=FIRST_FREE - wallet.clock.now())


async def test_the_cap_is_rolling_across_the_day(wallet: Wallet) -> None:
    me = await owner(wallet)
    for _ in range(3):
        assert (await me.change_login()).status_code == 204
    wallet.clock.advance(timedelta(hours=12))  # 13:31: bucket 13:00
    await me.sign_in_again()
    for _ in range(2):
        assert (await me.change_login()).status_code == 204
    assert_capped(await me.change_login(), wait=FIRST_FREE - wallet.clock.now())
    wallet.clock.set(FIRST_FREE)  # the three of 01:31 are out, the two of 13:31 still in
    await me.sign_in_again()
    for _ in range(3):
        assert (await me.change_login()).status_code == 204
    later = FIRST_FREE + timedelta(hours=12)  # when the two of 13:31 are out
    assert_capped(await me.change_login(), wait=later - wallet.clock.now())


async def test_the_sixth_payment_password_change_in_a_day_is_refused(wallet: Wallet) -> None:
    me = await owner(wallet)
    assert (await me.change_pin(PINS[0])).status_code == 204  # setting the first one counts
    # A wrong current PIN is not past authentication: it counts toward the PIN lock only.
    wrong = await me.change_pin(PINS[1], current=PINS[7])
    assert wrong.status_code == 403, wrong.text
    for pin in PINS[1:5]:
        changed = await me.change_pin(pin)
        assert changed.status_code == 204, changed.text
    before, snapshot = await user_row(wallet), await wallet.snapshot()

    assert_capped(await me.change_pin(PINS[5]), wait=FIRST_FREE - wallet.clock.now())
    assert await user_row(wallet) == before  # same PIN hash, no failure counted
    assert await wallet.snapshot() == snapshot  # no notification

    wallet.clock.set(FIRST_FREE - timedelta(seconds=1))
    await me.sign_in_again()
    assert_capped(await me.change_pin(PINS[5]), wait=timedelta(seconds=1))
    wallet.clock.set(FIRST_FREE)
    changed = await me.change_pin(PINS[5])
    assert changed.status_code == 204, changed.text


async def test_pin_probes_of_the_login_digits_are_capped(wallet: Wallet) -> None:
    access = (await wallet.register(password="wallet730492"))["tokens"]["access_token"]
    headers = bearer(access)
    for _ in range(5):  # the first PIN, refused each time: each one an answer
        probe = await wallet.client.put(
            PIN_URL, json={"payment_password": "730492"}, headers=headers
        )
        assert probe.json()["reasons"] == ["matches_login_password_digits"]
    capped = await wallet.client.put(PIN_URL, json={"payment_password": PINS[0]}, headers=headers)
    assert_capped(capped, wait=FIRST_FREE - wallet.clock.now())
    assert (await user_row(wallet))["payment_password_hash"] is None


async def reset(wallet: Wallet, kind: str, new_password: str) -> httpx.Response:
    purpose = "reset_login_password" if kind == "login" else "reset_payment_password"
    assert (await wallet.ask_code(PHONE, purpose)).status_code == 202
    body = {"phone": PHONE, "verification_code": await wallet.last_code(), "kind": kind}
    return await wallet.client.post(RESET_URL, json={**body, "new_password": new_password})


async def test_resets_count_toward_the_same_caps(wallet: Wallet) -> None:
    me = await owner(wallet)
    for _ in range(4):
        assert (await me.change_login()).status_code == 204
    assert (await reset(wallet, "login", "reset password one")).status_code == 204
    me.password = "reset password one"
    before, snapshot = await user_row(wallet), await wallet.snapshot()
    wallet.clock.advance(wallet.resend_gap)
    capped = await reset(wallet, "login", "reset password two")
    assert_capped(capped, wait=FIRST_FREE - wallet.clock.now())
    after = await wallet.snapshot()
    # Nothing changed but the new code and its SMS; the refusal left the code unused.
    assert await user_row(wallet) == before
    assert after["notifications"] == snapshot["notifications"]
    assert after["live_sessions"] == snapshot["live_sessions"]
    assert [state[2:] for state in after["code_states"]][-1] == (True, True)

    await me.sign_in_again()  # the reset signed every session out
    for pin in PINS[:4]:
        assert (await me.change_pin(pin)).status_code == 204
    wallet.clock.advance(wallet.resend_gap)
    assert (await reset(wallet, "payment", PINS[4])).status_code == 204
    pin_hash = (await user_row(wallet))["payment_password_hash"]
    wallet.clock.advance(wallet.resend_gap)
    capped = await reset(wallet, "payment", PINS[5])
    assert_capped(capped, wait=FIRST_FREE - wallet.clock.now())
    assert (await user_row(wallet))["payment_password_hash"] == pin_hash
