"""The merchant's side: stores, codes, the printable sheet, and another merchant's ids."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.fixtures.accounts import assert_problem
from tests.static_qr.conftest import Shop, code_of, codes, codes_table, open_store


async def test_stores_are_listed_and_read_by_their_merchant_only(shop: Shop) -> None:
    mine = await shop.merchant("Tea House")
    other = await shop.merchant("Noodle Bar")
    first = await open_store(shop, mine, "  East   Gate ", address="1 East Road")
    second = await open_store(shop, mine, "West Gate")
    theirs = await open_store(shop, other, "Their Store")

    listed = await shop.client.get("/v1/merchant/stores", headers=shop.key(mine))
    assert [item["id"] for item in listed.json()["items"]] == [first, second]
    one = await shop.client.get(f"/v1/merchant/stores/{first}", headers=shop.key(mine))
    assert one.json()["store"] == {
        "id": first,
        "name": "East Gate",
        "address": "1 East Road",
        "status": "active",
        "created_at": one.json()["store"]["created_at"],
    }
    foreign = await shop.client.get(f"/v1/merchant/stores/{theirs}", headers=shop.key(mine))
    assert_problem(foreign, 404, "not_found")
    assert "Their Store" not in foreign.text
    blank = await shop.client.post(
        "/v1/merchant/stores", json={"name": "   "}, headers=shop.key(mine)
    )
    assert_problem(blank, 422, "validation_error")
    no_key = await shop.client.get("/v1/merchant/stores")
    assert_problem(no_key, 401, "unauthorized")


async def test_another_merchants_code_is_not_found(shop: Shop) -> None:
    mine = await shop.merchant("Tea House")
    other = await shop.merchant("Noodle Bar")
    store = await open_store(shop, other, "Their Store")
    theirs = await code_of(shop, other, store)
    assert theirs not in {item["token"] for item in await codes(shop, mine)}
    pdf = await shop.client.get(f"/v1/merchant/static-qr/{theirs}.pdf", headers=shop.key(mine))
    assert_problem(pdf, 404, "not_found")
    regenerate = await shop.client.post(
        f"/v1/merchant/static-qr/{theirs}/regenerate", json={}, headers=shop.key(mine)
    )
    assert_problem(regenerate, 404, "not_found")
    assert await code_of(shop, other, store) == theirs  # untouched
    assert await shop.count(codes_table) == 3  # each merchant's own code, and the store's


async def test_the_printable_sheet_names_the_store(shop: Shop) -> None:
    merchant = await shop.merchant("街角面包房")
    store = await open_store(shop, merchant, "人民路店")
    token = await code_of(shop, merchant, store)
    for size, width_mm in (("a6", 105), ("a5", 148)):
        response = await shop.client.get(
            f"/v1/merchant/static-qr/{token}.pdf?size={size}", headers=shop.key(merchant)
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.content))
        assert len(reader.pages) == 1
        assert round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == width_mm
        text = reader.pages[0].extract_text()
        for expected in ("街角面包房", "人民路店", "扫码付款", "Scan with ewallet to pay"):
            assert expected in text, text
    regenerated = await shop.client.post(
        f"/v1/merchant/static-qr/{token}/regenerate", json={}, headers=shop.key(merchant)
    )
    assert regenerated.status_code == 201
    gone = await shop.client.get(f"/v1/merchant/static-qr/{token}.pdf", headers=shop.key(merchant))
    assert_problem(gone, 404, "not_found")  # a retired code is never printed again
