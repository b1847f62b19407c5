"""The hosted checkout page: shows the order, signs the customer in (with the new-browser
SMS step-up), pays with the payment password through the same service as the API."""

from __future__ import annotations

import re

import httpx

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import LOGIN_PASSWORD
from tests.fixtures.shop import PIN, Shop, payments


def hidden(page: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


async def test_the_page_shows_the_order_under_a_strict_policy(shop: Shop) -> None:
    merchant = await shop.merchant("<Bakery & Co>")
    order_id = await shop.order(merchant, "12.30", subject="Two croissants")
    page = await shop.client.get(f"/checkout/{order_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # no script at all
    assert "&lt;Bakery &amp; Co&gt;" in page.text  # escaped, never raw
    assert "Two croissants" in page.text
    assert "¥12.30" in page.text
    assert "<script" not in page.text
    assert "<link" not in page.text  # nothing fetched from elsewhere
    assert 'action="/checkout/' in page.text
    missing = await shop.client.get("/checkout/ord_00000000000000000000000000")
    assert missing.status_code == 404


async def test_sign_in_step_up_and_pay(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000601", "50.00")
    order_id = await shop.order(merchant, "12.30")
    base = f"/checkout/{order_id}"
    form = hidden(await shop.client.get(base), "csrf")  # the sign-in form's token
    wrong = await shop.client.post(
        f"{base}/sign-in",
        data={"phone": user.phone, "login_password": "not it at all", "csrf": form},
    )
    assert wrong.status_code == 401
    assert 'name="login_password"' in wrong.text

    signed = await shop.client.post(
        f"{base}/sign-in",
        data={"phone": user.phone, "login_password": LOGIN_PASSWORD, "csrf": form},
    )
    if 'name="challenge_id"' in signed.text:  # a browser the account has never used
        code = await shop.sms_code(user.phone, CodePurpose.STEP_UP)
        signed = await shop.client.post(
            f"{base}/step-up",
            data={
                "challenge_id": hidden(signed, "challenge_id"),
                "verification_code": code,
                "csrf": hidden(signed, "csrf"),
            },
        )
    assert signed.status_code == 303, signed.text
    page = await shop.client.get(base)
    assert 'name="payment_password"' in page.text
    csrf = hidden(page, "csrf")

    forged = await shop.client.post(f"{base}/pay", data={"payment_password": PIN, "csrf": "x"})
    assert forged.status_code == 401
    bad_pin = await shop.client.post(
        f"{base}/pay", data={"payment_password": "000000", "csrf": csrf}
    )
    assert bad_pin.status_code == 403
    assert await shop.count(payments) == 0
    paid = await shop.client.post(f"{base}/pay", data={"payment_password": PIN, "csrf": csrf})
    assert paid.status_code == 201, paid.text
    assert await shop.wallet(user) == 50_00 - 12_30
    assert await shop.count(payments) == 1
    again = await shop.client.get(base)
    assert "pay_" in again.text  # the payment number is shown, no second pay form
    assert 'name="payment_password"' not in again.text
