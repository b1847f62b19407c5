"""The hosted checkout's sign-in and step-up forms carry a token no other site can make.

Without it (a form posted from another origin, or without the device cookie the token is
bound to) the sign-in is refused with 403 before the password is checked: no session, no
device, no failed attempt counted, no SMS sent.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import func, select

from ewallet.kit.db.base import Base
from ewallet.payments.checkout.endpoints import DEVICE_COOKIE
from tests.fixtures.accounts import LOGIN_PASSWORD
from tests.fixtures.shop import Shop, shop

__all__ = ["shop"]


def hidden(page: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert match is not None, page.text
    return match.group(1)


async def counts(shop: Shop) -> dict[str, Any]:
    tables = ("auth_sessions", "devices", "verification_codes", "outbox_events", "audit_events")
    async with shop.engine.connect() as conn:
        found = {
            name: await conn.scalar(select(func.count()).select_from(Base.metadata.tables[name]))
            for name in tables
        }
        users = Base.metadata.tables["users"]
        found["failures"] = await conn.scalar(select(func.sum(users.c.login_failures)))
    return found


async def test_sign_in_without_the_forms_token_is_refused(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000602", "20.00")
    order_id = await shop.order(merchant, "1.00")
    base = f"/checkout/{order_id}"
    credentials = {"phone": user.phone, "login_password": LOGIN_PASSWORD}
    before = await counts(shop)

    # Another site's form: no device cookie (SameSite=Strict), no token.
    forged = await shop.client.post(f"{base}/sign-in", data=credentials)
    assert forged.status_code == 403
    assert "ewallet_checkout=" not in forged.headers.get("set-cookie", "")
    # The page it answers with carries a token for a genuine retry.
    assert hidden(forged, "csrf")

    # A token from another browser (another device cookie) does not fit this one.
    other = httpx.AsyncClient(transport=shop.client._transport, base_url="http://testserver")
    async with other:
        foreign = hidden(await other.get(base), "csrf")
    page = await shop.client.get(base)
    assert page.cookies.get(DEVICE_COOKIE) or shop.client.cookies.get(DEVICE_COOKIE)
    for token in ("", "x" * 32, foreign):
        refused = await shop.client.post(f"{base}/sign-in", data={**credentials, "csrf": token})
        assert refused.status_code == 403, token
        step_up = await shop.client.post(
            f"{base}/step-up",
            data={"challenge_id": "chl_x", "verification_code": "123456", "csrf": token},
        )
        assert step_up.status_code == 403
    assert await counts(shop) == before

    # The genuine form works.
    signed = await shop.client.post(
        f"{base}/sign-in", data={**credentials, "csrf": hidden(page, "csrf")}
    )
    assert signed.status_code in {200, 303}, signed.text
    assert signed.status_code == 303 or 'name="challenge_id"' in signed.text
