"""``GET /v1/merchant/refunds``: the calling merchant's refunds newest first, with filters
and an opaque cursor; another merchant's refunds never appear."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop

PATH = "/v1/merchant/refunds"


async def test_the_merchant_lists_its_own_refunds_only(shop: Shop) -> None:
    bakery = await shop.merchant("Corner Bakery")
    tea = await shop.merchant("Tea House")
    user = await shop.customer("+8613900000901", "200.00")
    mine = await shop.order(bakery, "50.00", out_trade_no="B-1")
    other = await shop.order(bakery, "20.00", out_trade_no="B-2")
    theirs = await shop.order(tea, "30.00", out_trade_no="T-1")
    for order_id in (mine, other, theirs):
        assert (await shop.pay(user, order_id)).status_code == 201
    start = shop.clock.now()
    made = []
    for merchant, order_id, amount, number in (
        (bakery, mine, "10.00", "RB-1"),
        (tea, theirs, "5.00", "RT-1"),
        (bakery, other, "20.00", "RB-2"),
        (bakery, mine, "1.00", "RB-3"),
    ):
        shop.clock.advance(timedelta(minutes=1))
        response = await shop.refund(merchant, order_id, amount, number)
        assert response.status_code == 201, response.text
        made.append(response.json()["refund"])
    key = shop.key(bakery)

    listed = await shop.client.get(PATH, headers=key)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [r["out_refund_no"] for r in body["items"]] == ["RB-3", "RB-2", "RB-1"]
    assert body["next_cursor"] is None
    first = body["items"][2]
    assert first == made[0]  # the same shape the refund's creation answered
    assert first["fee_returned"] == {"amount": "0.03", "currency": "CNY"}  # floor(19 / 5)

    async def numbers(query: str) -> list[str]:
        answer = await shop.client.get(f"{PATH}?{query}", headers=key)
        assert answer.status_code == 200, answer.text
        return [r["out_refund_no"] for r in answer.json()["items"]]

    assert await numbers(f"order_id={mine}") == ["RB-3", "RB-1"]
    assert await numbers("out_refund_no=RB-2") == ["RB-2"]
    assert await numbers("status=succeeded") == ["RB-3", "RB-2", "RB-1"]
    after_two = quote((start + timedelta(minutes=2)).isoformat())
    before_four = quote((start + timedelta(minutes=4)).isoformat())
    assert await numbers(f"created_from={after_two}") == ["RB-3", "RB-2"]
    assert await numbers(f"created_from={after_two}&created_to={before_four}") == ["RB-2"]
    # Another merchant's order or refund number, named outright, still finds nothing.
    assert await numbers(f"order_id={theirs}") == []
    assert await numbers("out_refund_no=RT-1") == []
    tea_sees = await shop.client.get(PATH, headers=shop.key(tea))
    assert [r["out_refund_no"] for r in tea_sees.json()["items"]] == ["RT-1"]


async def test_pages_follow_the_cursor_without_repeats(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000902", "100.00")
    order_id = await shop.order(merchant, "10.00")
    assert (await shop.pay(user, order_id)).status_code == 201
    for n in range(5):  # the same instant: the id breaks the tie
        assert (await shop.refund(merchant, order_id, "1.00", f"P-{n}")).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await shop.client.get(f"{PATH}?{query}", headers=shop.key(merchant))).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)


async def test_refusals(shop: Shop) -> None:
    merchant = await shop.merchant()
    key = shop.key(merchant)
    assert_problem(await shop.client.get(PATH), 401, "unauthorized")
    assert_problem(
        await shop.client.get(PATH, headers={"Authorization": "Bearer mk_nope_nope"}),
        401,
        "unauthorized",
    )
    for query in (
        "limit=0",
        "limit=101",
        "cursor=%%%",
        "cursor=bm90LWpzb24",
        "status=failed",
        "created_from=2026-12-01T00:00:00",
        "created_from=2026-12-02T00:00:00%2B08:00&created_to=2026-12-01T00:00:00%2B08:00",
    ):
        answer = await shop.client.get(f"{PATH}?{query}", headers=key)
        assert_problem(answer, 422, "validation_error")
