"""The wallet's pay page for a printed QR code (``/pay/qr/<token>``) in Debian's Chromium:
type the amount, confirm with the PIN, see the receipt; a signed-out visitor signs in and
comes back; password-free without the PIN; refusals shown with nothing paid."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ewallet.merchants.views import NewMerchant
from tests.fixtures.web import PIN, LiveWallet, check_page, sign_in
from tests.static_qr.conftest import code_of, open_store


def store_code(live: LiveWallet, name: str, store: str) -> tuple[NewMerchant, str]:
    merchant = live.run(live.shop.merchant(name))
    store_id = live.run(open_store(live.shop, merchant, store))
    return merchant, live.run(code_of(live.shop, merchant, store_id))


def pay(page: Page, amount: str | None, pin: str = PIN) -> None:
    if amount is not None:
        page.get_by_label("Amount to pay the shop (yuan)").fill(amount)
    page.get_by_label("Payment password (6 digits)").fill(pin)
    page.get_by_role("button", name="Pay", exact=True).click()


def test_type_the_amount_and_pay_with_the_pin(page: Page, live: LiveWallet) -> None:
    merchant, token = store_code(live, "Corner Bakery", "People's Road")
    user = live.customer("100.00")
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/qr/{token}"))
    main = page.locator("main")
    expect(page.get_by_role("heading", name="People's Road")).to_be_visible()
    expect(main).to_contain_text("Corner Bakery")
    check_page(page)

    pay(page, "12.30")

    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    expect(main).to_contain_text("¥12.30")
    expect(main).to_contain_text("People's Road")
    assert live.balance(user) == 100_00 - 12_30
    assert live.run(live.shop.merchant_balance(merchant)) > 0

    # The same form sent twice (a double tap, a re-post) pays once.
    page.goto(live.url(f"/pay/qr/{token}"))
    form = page.locator(f"form[action='/pay/qr/{token}']")
    fields: dict[str, str | float | bool] = {
        name: str(form.locator(f"input[name={name}]").get_attribute("value"))
        for name in ("csrf", "form_key")
    }
    fields.update(amount="2.00", payment_password=PIN)
    answers = [
        page.request.post(live.url(f"/pay/qr/{token}"), form=fields, max_redirects=0)
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert live.balance(user) == 100_00 - 12_30 - 2_00


def test_a_signed_out_visitor_signs_in_and_comes_back(page: Page, live: LiveWallet) -> None:
    _, token = store_code(live, "Tea House", "North Gate")
    user = live.customer("50.00")
    page.goto(live.url(f"/pay/qr/{token}"))
    assert "/signin?next=" in page.url
    page.fill("#phone", user.phone)
    page.fill("#password", "correct horse battery")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.get_by_role("heading", name="North Gate")).to_be_visible()
    assert page.url.endswith(f"/pay/qr/{token}")
    pay(page, "8.00")
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    assert live.balance(user) == 50_00 - 8_00


def test_refusals_pay_nothing_and_keep_the_amount(page: Page, live: LiveWallet) -> None:
    _, token = store_code(live, "Book Shop", "Main Street")
    user = live.customer("5.00")
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/qr/{token}"))
    pay(page, "12.30")
    expect(page.get_by_role("alert")).to_contain_text("The balance is not sufficient")
    expect(page.get_by_label("Amount to pay the shop (yuan)")).to_have_value("12.30")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_value("")
    check_page(page)
    pay(page, "1.00", "000000")
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    assert live.balance(user) == 5_00

    page.goto(live.url("/pay/qr/" + "x" * 24))
    expect(page.get_by_role("alert")).to_contain_text("does not take payments any more")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_count(0)
    check_page(page)


def test_password_free_in_chinese_then_the_pin_when_needed(page_zh: Page, live: LiveWallet) -> None:
    page = page_zh
    _, token = store_code(live, "街角面包房", "人民路店")
    user = live.customer("100.00")
    on = live.run(
        live.shop.client.put(
            "/v1/me/password-free-payments",
            json={"enabled": True, "per_payment_cap": "20.00", "payment_password": PIN},
            headers=live.shop.auth(user),
        )
    )
    assert on.status_code == 200, on.text
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/qr/{token}"))
    expect(page.get_by_role("heading", name="人民路店")).to_be_visible()
    expect(page.locator("main")).to_contain_text("免密")
    check_page(page)
    page.locator("#amount").fill("30.00")  # over the password-free cap: the PIN is asked
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("支付密码")
    expect(page.locator("#amount")).to_have_value("30.00")
    assert live.balance(user) == 100_00
    page.locator("#payment_password").fill(PIN)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".receipt")).to_be_visible()
    page.goto(live.url(f"/pay/qr/{token}"))
    page.locator("#amount").fill("5.00")
    page.locator("form button[type=submit]").click()  # within the cap: no PIN
    expect(page.locator(".receipt")).to_be_visible()
    assert live.balance(user) == 100_00 - 30_00 - 5_00
