"""The wallet's "me" pages: who I am, my account class and what remains today, real name.

Every refusal of real-name verification (a bad ID number, too young, a number another
account verified) is shown inline with what was typed kept and nothing changed."""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import Page, expect

from tests.fixtures.accounts import TestUser, make_id_number
from tests.fixtures.web import LiveWallet, check_page, sign_in

_sequences = itertools.count(101)


def fresh_id_number(*, born: str = "19900307") -> str:
    """A valid resident ID number no other test of the module uses."""
    return make_id_number(born=born, sequence=f"{next(_sequences):03d}")


def masked(user: TestUser) -> str:
    digits = user.phone.removeprefix("+86")
    return digits[:3] + "****" + digits[-4:]


def test_me_shows_who_i_am_links_everywhere_and_signs_out(page: Page, live: LiveWallet) -> None:
    user = live.customer(tier=1)
    sign_in(page, live, user)
    page.goto(live.url("/me"))
    expect(page.locator("h1")).to_have_text(masked(user))
    expect(page.get_by_text("Class I account")).to_be_visible()
    expect(page.get_by_text("Real name not verified")).to_be_visible()
    for name, href in (
        ("Account class and limits", "/me/account-class"),
        ("Real-name verification", "/me/real-name"),
        ("Bank cards", "/cards"),
        ("Payment password", "/me/payment-password"),
        ("Password-free payments", "/me/password-free"),
        ("Security centre", "/security"),
        ("Notifications", "/notifications"),
        ("Help and contact", "/help"),
    ):
        expect(page.get_by_role("link", name=re.compile(name))).to_have_attribute("href", href)
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_text(re.compile("Me"))
    assert user.phone.removeprefix("+86") not in page.content()  # masked, never in full
    check_page(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    page.goto(live.url("/me"))
    assert page.url.startswith(live.url("/signin?next="))


def test_account_class_shows_every_class_and_what_remains_today(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("500.00", tier=2)
    merchant = live.run(live.shop.merchant())
    order_id = live.run(live.shop.order(merchant, "120.00", out_trade_no=f"AC-{user.id}"))
    paid = live.run(live.shop.pay(user, order_id))
    assert paid.status_code == 201, paid.text
    sign_in(page, live, user)
    page.goto(live.url("/me/account-class"))
    expect(page.locator("h1")).to_have_text("Your account is class II")
    expect(page.locator(".card").first).to_contain_text("¥380.00")

    today = page.locator("section[aria-labelledby=today-heading]")
    pin = today.locator("li").filter(has_text="With the payment password").first
    expect(pin).to_contain_text("¥49,880.00")
    expect(pin).to_contain_text("Limit ¥50,000.00")
    expect(today).to_contain_text("¥100,000.00")  # PIN and SMS: class II's ceiling, untouched
    no_pin = today.locator("li").filter(has=page.get_by_text("Password-free", exact=True))
    expect(no_pin).to_contain_text("10 payments left")
    allowance = page.locator("section[aria-labelledby=allowance-heading]")
    expect(allowance).to_contain_text("¥99,880.00")
    expect(allowance).to_contain_text("Limit ¥100,000.00")

    classes = page.locator("article.class-card")
    expect(classes).to_have_count(3)
    expect(classes.nth(0)).to_contain_text("¥1,000.00 in all")
    expect(classes.nth(1)).to_contain_text("Your class")
    expect(classes.nth(1)).to_contain_text("¥100,000.00 a year")
    expect(classes.nth(2)).to_contain_text("¥200,000.00 a year")
    expect(classes.nth(2)).to_contain_text("¥500,000.00")
    expect(page.locator("section[aria-labelledby=all-heading]")).to_contain_text("¥5,000.00")
    check_page(page)


def test_real_name_refusals_change_nothing_then_verification_raises_the_class(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer(tier=1)
    other = live.customer(tier=1)
    taken = fresh_id_number()
    answer = live.run(
        live.shop.client.post(
            "/v1/me/identity",
            json={"real_name": "李四", "id_number": taken},
            headers=live.shop.auth(other),
        )
    )
    assert answer.status_code == 200, answer.text

    sign_in(page, live, user)
    page.goto(live.url("/me/real-name"))
    expect(page.locator("h1")).to_have_text("Verify your real name")
    check_page(page)
    before = live.snapshot(user)
    good = fresh_id_number()
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    for number, message in (
        (bad_check, "The ID number is not valid"),
        (fresh_id_number(born="20150101"), "You must be at least 16 to verify"),
        (taken, "This ID number is used by another account"),
    ):
        page.fill("#real_name", "张伟明")
        page.fill("#id_number", number)
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("alert")).to_contain_text(message)
        expect(page.locator("#real_name")).to_have_value("张伟明")
        expect(page.locator("#id_number")).to_have_value(number)
        expect(page.locator("#id_number")).to_have_attribute("aria-invalid", "true")
        assert live.snapshot(user) == before
    check_page(page)

    page.fill("#id_number", good)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_have_text("Done: your real name is verified.")
    expect(page.locator("dl")).to_contain_text("张*明")
    expect(page.locator("dl")).to_contain_text(good[:3] + "*" * 11 + good[-4:])
    expect(page.locator("dl")).to_contain_text("Class II")
    assert good not in page.content()
    check_page(page)
    row = live.run(live.shop.row(user))
    assert (row.tier, row.identity_verified_at is not None) == (2, True)


def test_real_name_refusal_reads_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer(tier=1)
    sign_in(page, live, user)
    page.goto(live.url("/me/real-name"))
    expect(page.locator("h1")).to_have_text("实名认证")
    before = live.snapshot(user)
    page.fill("#real_name", "王 5")
    page.fill("#id_number", fresh_id_number())
    page.locator("form[action='/me/real-name'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("姓名格式不正确")
    expect(page.locator("#real_name")).to_have_attribute("aria-invalid", "true")
    assert live.snapshot(user) == before
