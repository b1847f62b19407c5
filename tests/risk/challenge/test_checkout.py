"""The hosted checkout page answers a risk challenge with the step-up's code field above
its PIN: a wrong code pays nothing and keeps the challenge, the right one pays once."""

from __future__ import annotations

import re

import httpx

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import LOGIN_PASSWORD
from tests.fixtures.shop import PIN, Shop, payments

from .helpers import ask_over, decisions, step_up_code


def hidden(page: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


async def signed_in(shop: Shop, base: str, phone: str) -> str:
    """Sign in on the checkout page (passing the new-browser step-up); the pay form's token."""
    form = hidden(await shop.client.get(base), "csrf")
    signed = await shop.client.post(
        f"{base}/sign-in", data={"phone": phone, "login_password": LOGIN_PASSWORD, "csrf": form}
    )
    if 'name="challenge_id"' in signed.text:
        signed = await shop.client.post(
            f"{base}/step-up",
            data={
                "challenge_id": hidden(signed, "challenge_id"),
                "verification_code": await shop.sms_code(phone, CodePurpose.STEP_UP),
                "csrf": hidden(signed, "csrf"),
            },
        )
    assert signed.status_code == 303, signed.text
    return hidden(await shop.client.get(base), "csrf")


async def test_a_challenged_checkout_payment_asks_for_the_code_then_pays_once(
    shop: Shop,
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000701", "500.00")
    order_id = await shop.order(merchant, "150.00")
    base = f"/checkout/{order_id}"
    csrf = await signed_in(shop, base, user.phone)
    await ask_over(shop, "100", "payment")
    before = await shop.wallet(user)

    asked = await shop.client.post(f"{base}/pay", data={"payment_password": PIN, "csrf": csrf})
    assert asked.status_code == 401
    challenge = hidden(asked, "challenge_id")
    assert 'name="code"' in asked.text
    assert await shop.count(payments) == 0
    assert [d.verdict for d in await decisions(shop)] == ["challenge"]

    code = await step_up_code(shop, user.phone)
    wrong = await shop.client.post(
        f"{base}/pay",
        data={
            "payment_password": PIN,
            "csrf": csrf,
            "challenge_id": challenge,
            "method": "sms",
            "code": "000000" if code != "000000" else "111111",
        },
    )
    assert wrong.status_code == 400
    assert hidden(wrong, "challenge_id") == challenge  # kept for the right code
    assert await shop.wallet(user) == before

    paid = await shop.client.post(
        f"{base}/pay",
        data={
            "payment_password": PIN,
            "csrf": csrf,
            "challenge_id": challenge,
            "method": "sms",
            "code": code,
        },
    )
    assert paid.status_code == 201, paid.text
    assert await shop.wallet(user) == before - 150_00
    assert await shop.count(payments) == 1
