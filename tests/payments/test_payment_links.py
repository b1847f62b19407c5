"""Payment links: made by the merchant through its API, opened by a payer (the order they
make is paid through the existing pay flow), disabled, expired or used up with nothing
made, and another merchant's links never visible."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table

from ewallet.audit.service import Actor
from ewallet.merchants.service import update_merchant
from ewallet.merchants.views import NewMerchant
from ewallet.models.payment_links import PaymentLink
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop, orders, payments

payment_links = cast(Table, PaymentLink.__table__)


async def make_link(shop: Shop, merchant: NewMerchant, **body: Any) -> httpx.Response:
    body.setdefault("subject", "Tea")
    return await shop.client.post(
        "/v1/merchant/payment-links", json=body, headers=shop.key(merchant)
    )


async def new_link(shop: Shop, merchant: NewMerchant, **body: Any) -> dict[str, Any]:
    response = await make_link(shop, merchant, **body)
    assert response.status_code == 201, response.text
    return cast(dict[str, Any], response.json()["payment_link"])


def path_of(link: dict[str, Any]) -> str:
    match = re.search(r"/l/[A-Za-z0-9_-]{43}$", link["url"])
    assert match is not None, link["url"]
    return match.group(0)


async def open_link(shop: Shop, link: dict[str, Any], amount: str | None = None) -> httpx.Response:
    data = {} if amount is None else {"amount": amount}
    return await shop.client.post(
        path_of(link), data=data, headers={"Accept-Language": "en"}, follow_redirects=False
    )


def order_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/checkout/ord_"), location
    return location.removeprefix("/checkout/")


async def test_fixed_amount_link_made_opened_and_paid(shop: Shop) -> None:
    merchant = await shop.merchant("Tea House")
    user = await shop.customer("+8613900000901", "50.00")
    link = await new_link(shop, merchant, amount="12.30", subject="Pot of tea", max_uses=5)
    assert link["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert (link["status"], link["uses"], link["max_uses"]) == ("active", 0, 5)
    assert link["qr_payload"] == link["url"]
    assert link["url"].startswith(str(shop.settings.public_url or "http"))

    page = await shop.client.get(path_of(link), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    for shown in ("Tea House", "Pot of tea", "¥12.30"):
        assert shown in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'name="amount"' not in page.text
    assert await shop.count(orders) == 0  # looking at the page makes nothing

    order_id = order_of(await open_link(shop, link, amount="99.00"))  # a typed amount: ignored
    row = await shop.order_row(order_id)
    assert (row.merchant_id, row.amount, row.subject) == (merchant.merchant.id, 12_30, "Pot of tea")
    assert row.out_trade_no.startswith("PL-")
    assert row.out_trade_no.endswith("-1")
    checkout = await shop.client.get(f"/checkout/{order_id}")
    assert checkout.status_code == 200
    assert "¥12.30" in checkout.text

    paid = await shop.pay(user, order_id)
    assert paid.status_code == 201, paid.text
    assert await shop.wallet(user) == 50_00 - 12_30
    assert await shop.merchant_balance(merchant) > 0  # its share (a fee may be taken)
    seen = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    assert seen.json()["order"]["status"] == "paid"
    again = await shop.client.get(
        f"/v1/merchant/payment-links/{link['id']}", headers=shop.key(merchant)
    )
    assert again.json()["payment_link"]["uses"] == 1
    assert "payment_link.created" in await shop.actions()


async def test_open_amount_link_takes_the_typed_amount(shop: Shop) -> None:
    merchant = await shop.merchant("Noodle Bar")
    user = await shop.customer("+8613900000902", "50.00")
    link = await new_link(shop, merchant, subject="Noodles", out_trade_prefix="NB")
    assert link["amount"] is None

    page = await shop.client.get(path_of(link))
    assert 'name="amount"' in page.text
    for bad in (None, "0", "1.001", "abc", "-3"):
        refused = await open_link(shop, link, bad)
        assert refused.status_code == 422, refused.text
        assert 'name="amount"' in refused.text  # the form again, with the reason
    assert await shop.count(orders) == 0
    assert (
        await shop.client.get(
            f"/v1/merchant/payment-links/{link['id']}", headers=shop.key(merchant)
        )
    ).json()["payment_link"]["uses"] == 0

    order_id = order_of(await open_link(shop, link, "8.80"))
    row = await shop.order_row(order_id)
    assert row.amount == 8_80
    assert row.out_trade_no.startswith("NB-")
    paid = await shop.pay(user, order_id)
    assert paid.status_code == 201, paid.text
    assert await shop.wallet(user) == 50_00 - 8_80
    second = order_of(await open_link(shop, link, "1.20"))
    assert second != order_id
    assert (await shop.order_row(second)).out_trade_no.endswith("-2")


async def test_disabled_expired_and_used_up_links_make_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    disabled = await new_link(shop, merchant, amount="5.00")
    off = await shop.client.post(
        f"/v1/merchant/payment-links/{disabled['id']}/disable", headers=shop.key(merchant)
    )
    assert off.status_code == 200
    assert off.json()["payment_link"]["status"] == "disabled"
    twice = await shop.client.post(
        f"/v1/merchant/payment-links/{disabled['id']}/disable", headers=shop.key(merchant)
    )
    assert twice.json()["payment_link"] == off.json()["payment_link"]
    assert (await shop.actions()).count("payment_link.disabled") == 1

    soon = (shop.clock.now() + timedelta(hours=1)).isoformat()
    expiring = await new_link(shop, merchant, amount="5.00", expires_at=soon)
    once = await new_link(shop, merchant, amount="5.00", max_uses=1)
    order_of(await open_link(shop, once))
    shop.clock.advance(timedelta(hours=1))
    before = await shop.count(orders)

    for link, status, text in (
        (disabled, "disabled", "has been disabled"),
        (expiring, "expired", "has expired"),
        (once, "used_up", "as many times as it may"),
    ):
        page = await shop.client.get(path_of(link), headers={"Accept-Language": "en"})
        assert page.status_code == 410
        assert text in page.text
        assert "<form" not in page.text
        refused = await open_link(shop, link)
        assert refused.status_code == 410
        assert text in refused.text
        read = await shop.client.get(
            f"/v1/merchant/payment-links/{link['id']}", headers=shop.key(merchant)
        )
        assert read.json()["payment_link"]["status"] == status
    assert await shop.count(orders) == before
    assert await shop.count(payment_links, payment_links.c.uses > 1) == 0
    unknown = await shop.client.get("/l/" + "x" * 43)
    assert unknown.status_code == 404
    assert (await shop.client.post("/l/" + "x" * 43)).status_code == 404


async def test_creation_refusals_make_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    assert_problem(
        await make_link(shop, merchant, amount="1.00", currency="USD"),
        422,
        "currency_not_supported",
    )
    assert_problem(await make_link(shop, merchant, currency="USD"), 422, "currency_not_supported")
    assert_problem(await make_link(shop, merchant, amount="0"), 422, "invalid_amount")
    assert_problem(await make_link(shop, merchant, subject=""), 422, "validation_error")
    assert_problem(await make_link(shop, merchant, max_uses=0), 422, "validation_error")
    assert_problem(
        await make_link(shop, merchant, out_trade_prefix="no spaces"), 422, "validation_error"
    )
    past = (shop.clock.now() - timedelta(seconds=1)).isoformat()
    assert_problem(await make_link(shop, merchant, expires_at=past), 422, "validation_error")
    no_wallet = await shop.merchant("No Wallet", accepts_wallet=False)
    assert_problem(await make_link(shop, no_wallet, amount="1.00"), 422, "merchant_not_supported")
    assert await shop.count(payment_links) == 0


async def test_another_merchants_links_are_not_found(shop: Shop) -> None:
    mine, theirs = await shop.merchant("Mine"), await shop.merchant("Theirs")
    own = await new_link(shop, mine, amount="1.00")
    other = await new_link(shop, theirs, amount="2.00")
    listing = await shop.client.get("/v1/merchant/payment-links", headers=shop.key(mine))
    assert [item["id"] for item in listing.json()["items"]] == [own["id"]]
    read = await shop.client.get(
        f"/v1/merchant/payment-links/{other['id']}", headers=shop.key(mine)
    )
    assert_problem(read, 404, "not_found")
    off = await shop.client.post(
        f"/v1/merchant/payment-links/{other['id']}/disable", headers=shop.key(mine)
    )
    assert_problem(off, 404, "not_found")
    still = await shop.client.get(
        f"/v1/merchant/payment-links/{other['id']}", headers=shop.key(theirs)
    )
    assert still.json()["payment_link"]["status"] == "active"
    assert_problem(await shop.client.get("/v1/merchant/payment-links"), 401, "unauthorized")


async def test_links_page_newest_first(shop: Shop) -> None:
    merchant = await shop.merchant()
    made = []
    for n in range(5):
        made.append((await new_link(shop, merchant, amount=f"{n + 1}.00"))["id"])
        shop.clock.advance(timedelta(seconds=1))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await shop.client.get(
            "/v1/merchant/payment-links", params=params, headers=shop.key(merchant)
        )
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]


async def test_a_link_to_a_merchant_that_stopped_taking_payments_makes_nothing(
    shop: Shop,
) -> None:
    merchant = await shop.merchant()
    link = await new_link(shop, merchant, amount="3.00")
    await update_merchant(
        shop.services,
        Actor.system(),
        merchant_id=merchant.merchant.id,
        changes={"accepts_wallet": False},
    )
    refused = await open_link(shop, link)
    assert refused.status_code == 422
    assert "<form" in refused.text  # the link itself is fine; the merchant is not
    assert await shop.count(orders) == 0
    assert await shop.count(payments) == 0
    uses = await shop.client.get(
        f"/v1/merchant/payment-links/{link['id']}", headers=shop.key(merchant)
    )
    assert uses.json()["payment_link"]["uses"] == 0


async def test_parallel_openings_of_the_last_use_make_one_order(shop: Shop) -> None:
    merchant = await shop.merchant()
    link = await new_link(shop, merchant, amount="2.00", max_uses=1)
    answers = await asyncio.gather(*(open_link(shop, link) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [303] + [410] * 5
    assert await shop.count(orders) == 1
