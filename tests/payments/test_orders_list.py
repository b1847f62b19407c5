"""The merchant's order list: newest first, filters, cursor paging while orders keep
arriving, another merchant's orders never in it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from ewallet.merchants.views import NewMerchant
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop


async def listed(
    shop: Shop, merchant: NewMerchant, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    response = await shop.client.get(
        "/v1/merchant/orders", params=params, headers=shop.key(merchant)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"], body["next_cursor"]


async def every_page(shop: Shop, merchant: NewMerchant, **params: Any) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        items, cursor = await listed(shop, merchant, **query)
        ids += [item["id"] for item in items]
        if cursor is None:
            return ids


async def test_newest_first_with_filters(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000801", "100.00")
    start = shop.clock.now()
    made: list[str] = []
    for n, amount in enumerate(("1.00", "2.50", "10.00", "20.00")):
        made.append(await shop.order(merchant, amount, out_trade_no=f"F-{n}", expires_in=600))
        shop.clock.advance(timedelta(minutes=1))
    paid = await shop.pay(user, made[1])
    assert paid.status_code == 201, paid.text
    closed = await shop.client.post(
        f"/v1/merchant/orders/{made[2]}/close", headers=shop.key(merchant)
    )
    assert closed.status_code == 200

    items, cursor = await listed(shop, merchant)
    assert [item["id"] for item in items] == made[::-1]
    assert cursor is None
    assert items[2]["status"] == "paid"
    assert items[2]["amount"] == {"amount": "2.50", "currency": "CNY"}
    # The list shows the fee as the order itself does: 0.38 % of 2.50 is 0.95 fen, so 0.01.
    assert items[2]["fee"] == {"amount": "0.01", "currency": "CNY"}
    assert items[2]["net"] == {"amount": "2.49", "currency": "CNY"}

    assert [i["id"] for i in (await listed(shop, merchant, status="paid"))[0]] == [made[1]]
    assert [i["id"] for i in (await listed(shop, merchant, status="closed"))[0]] == [made[2]]
    awaiting = (await listed(shop, merchant, status="awaiting_payment"))[0]
    assert [i["id"] for i in awaiting] == [made[3], made[0]]
    shop.clock.advance(timedelta(minutes=7))  # F-0 (made at start, 10 minutes) has expired
    assert [i["id"] for i in (await listed(shop, merchant, status="expired"))[0]] == [made[0]]
    assert [i["id"] for i in (await listed(shop, merchant, status="awaiting_payment"))[0]] == [
        made[3]
    ]
    by_number = (await listed(shop, merchant, out_trade_no="F-3"))[0]
    assert [i["id"] for i in by_number] == [made[3]]
    in_range = (await listed(shop, merchant, amount_min="2.50", amount_max="10.00"))[0]
    assert [i["id"] for i in in_range] == [made[2], made[1]]
    period = {
        "created_from": (start + timedelta(minutes=1)).isoformat(),
        "created_to": (start + timedelta(minutes=3)).isoformat(),
    }
    assert [i["id"] for i in (await listed(shop, merchant, **period))[0]] == [made[2], made[1]]


async def test_refusals(shop: Shop) -> None:
    merchant = await shop.merchant()
    url, key = "/v1/merchant/orders", shop.key(merchant)

    async def get(**params: Any) -> httpx.Response:
        return await shop.client.get(url, params=params, headers=key)

    assert_problem(await get(status="lost"), 422, "validation_error")
    assert_problem(await get(limit=0), 422, "validation_error")
    assert_problem(await get(limit=101), 422, "validation_error")
    assert_problem(await get(cursor="not-a-cursor"), 422, "validation_error")
    assert_problem(await get(amount_min="1.001"), 422, "invalid_amount")
    assert_problem(await get(amount_min="5.00", amount_max="1.00"), 422, "validation_error")
    now = shop.clock.now()
    backwards = {"created_from": now.isoformat(), "created_to": (now - timedelta(1)).isoformat()}
    assert_problem(await get(**backwards), 422, "validation_error")
    assert_problem(await get(created_from="2026-01-01T00:00:00"), 422, "validation_error")
    unauthenticated = await shop.client.get(url)
    assert_problem(unauthenticated, 401, "unauthorized")


async def test_paging_has_no_duplicates_or_gaps_while_orders_arrive(shop: Shop) -> None:
    merchant = await shop.merchant()
    before = [await shop.order(merchant, "1.00", out_trade_no=f"P-{n}") for n in range(7)]
    shop.clock.advance(timedelta(seconds=1))
    seen: list[str] = []
    arrived: list[str] = []
    cursor: str | None = None
    while True:
        items, cursor = await listed(
            shop, merchant, limit=3, **({"cursor": cursor} if cursor else {})
        )
        seen += [item["id"] for item in items]
        # A new order arrives between every two pages (some in the same instant as others).
        arrived.append(await shop.order(merchant, "1.00", out_trade_no=f"N-{len(arrived)}"))
        if cursor is None:
            break
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(before) <= set(seen)  # nothing that existed was skipped
    assert [i for i in seen if i in before] == before[::-1]
    assert set(await every_page(shop, merchant, limit=2)) == set(before) | set(arrived)


async def test_another_merchants_orders_are_never_listed(shop: Shop) -> None:
    mine, theirs = await shop.merchant("Mine"), await shop.merchant("Theirs")
    own = await shop.order(mine, "1.00", out_trade_no="SAME")
    await shop.order(theirs, "2.00", out_trade_no="SAME")
    assert await every_page(shop, mine) == [own]
    assert (await listed(shop, mine, out_trade_no="SAME"))[0][0]["id"] == own
    # A cursor made from another merchant's list shows nothing of theirs either.
    _items, cursor = await listed(shop, theirs, limit=1)
    assert cursor is None
