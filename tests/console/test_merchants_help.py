"""The console's merchant, help-article and development-outbox pages in Chromium.

An operator creates a merchant and sees its credentials once, disables it (its API key is
then refused), enables it and replaces the key; a support agent edits an article with the
live preview (and the no-script Preview button), finds the new revision in the history and
the wallet's help page, and reads the feedback report; the outbox shows the text a wallet
sign-up sent. Roles: an agent may edit help articles but not merchants, a teller neither;
every refusal changes nothing.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from ewallet.bootstrap.outbox import outbox_registry
from ewallet.config import Environment
from ewallet.kit.errors import NotFoundError
from ewallet.models.identity import CodePurpose
from ewallet.models.tables import audit_events, help_article_revisions, merchants
from ewallet.services import Services
from ewallet.web.console import dev_outbox
from ewallet.worker import OutboxRelay
from tests.fixtures.console import (
    TABLET_SIZE,
    LiveConsole,
    check_console_page,
    console_sign_in,
    open_console_page,
)
from tests.fixtures.web import PageErrors, next_phone

MERCHANTS = "/console/merchants"
ARTICLES = "/console/help/articles"
OUTBOX = "/console/dev/outbox"


def _scalar(live: LiveConsole, statement: Any) -> Any:
    async def read() -> Any:
        async with live.shop.engine.connect() as conn:
            return (await conn.execute(statement)).scalar_one()

    return live.run(read())


def _rows(live: LiveConsole) -> tuple[int, int, int]:
    """Merchants, help revisions and audit events: equal before and after = nothing changed."""
    return (
        _scalar(live, select(func.count()).select_from(merchants)),
        _scalar(live, select(func.count()).select_from(help_article_revisions)),
        _scalar(live, select(func.count()).select_from(audit_events)),
    )


def _article_id(live: LiveConsole, slug: str) -> str:
    return str(httpx.get(live.url(f"/v1/help/articles/{slug}")).json()["id"])


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', headers)
    assert found, headers
    return found.group(1)


def _merchant_api(live: LiveConsole, key: str) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, headers={"Authorization": f"Bearer {key}"})


def test_an_operator_creates_disables_and_rekeys_a_merchant(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("operator"))
    page.goto(live.url(MERCHANTS))
    check_console_page(page)
    page.click("a[href='/console/merchants/new']")
    check_console_page(page)

    # A refusal keeps what was typed, says which field, and creates nothing.
    before = _rows(live)
    page.fill("#name", "Harbour Tea House")
    page.fill("#category", "food")
    page.fill("#webhook_url", "ftp://tea.example/hook")
    page.click("form[action='/console/merchants'] button[type=submit]")
    expect(page.locator("#webhook_url-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Harbour Tea House")
    assert _rows(live) == before
    check_console_page(page)

    page.fill("#webhook_url", "https://tea.example/hook")
    page.click("form[action='/console/merchants'] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Harbour Tea House is created")
    api_key = page.locator("#api-key").input_value()
    assert api_key.startswith("mk_")
    assert page.locator("#webhook-secret").input_value().startswith("whsec_")
    check_console_page(page)
    merchant_id = page.locator("dd.mono").first.inner_text()
    with _merchant_api(live, api_key) as shop:
        order = shop.post(
            "/v1/merchant/orders",
            json={"out_trade_no": "console-1", "amount": "3.00", "subject": "tea"},
        )
        assert order.status_code == 201, order.text
        order_path = f"/v1/merchant/orders/{order.json()['order']['id']}"

    # Shown once: the merchant's page never has it again.
    page.click(f"a[href='/console/merchants/{merchant_id}']")
    expect(page.locator("h1")).to_have_text("Harbour Tea House")
    assert api_key not in page.content()
    check_console_page(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Disable merchant')")
    expect(page.locator(".alert-ok")).to_contain_text("disabled")
    with _merchant_api(live, api_key) as shop:
        assert shop.get(order_path).status_code == 401
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Enable merchant')")
    expect(page.locator(".alert-ok")).to_contain_text("active again")
    with _merchant_api(live, api_key) as shop:
        assert shop.get(order_path).status_code == 200

    page.once("dialog", lambda dialog: dialog.dismiss())  # changed their mind: nothing happens
    page.click("button:has-text('Replace API key')")
    expect(page.locator("#api-key")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Replace API key')")
    new_key = page.locator("#api-key").input_value()
    assert new_key.startswith("mk_")
    assert new_key != api_key
    with _merchant_api(live, api_key) as shop:
        assert shop.get(order_path).status_code == 401
    with _merchant_api(live, new_key) as shop:
        assert shop.get(order_path).status_code == 200

    # Settings, and the list finds it by a part of its name.
    page.goto(live.url(f"{MERCHANTS}/{merchant_id}"))
    page.uncheck("input[name=accepts_wallet]")
    page.click("button:has-text('Save settings')")
    expect(page.locator(".alert-ok")).to_contain_text("saved")
    expect(page.locator(".toolbar")).to_contain_text("No wallet payments")
    page.goto(live.url(MERCHANTS + "?q=harbour"))
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text(merchant_id)
    actions = {row for (row,) in live.run(_audit_actions(live, merchant_id))}
    assert {"merchant.created", "merchant.updated", "merchant.key_rotated"} <= actions


async def _audit_actions(live: LiveConsole, subject: str) -> list[tuple[str]]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events.c.action).where(audit_events.c.subject_id == subject)
        )
        return [tuple(row) for row in rows]


def test_an_agent_edits_an_article_with_its_preview(page: Page, live: LiveConsole) -> None:
    article_id = _article_id(live, "withdrawal-fees")
    console_sign_in(page, live, live.staff("support_agent"))
    page.goto(live.url(ARTICLES))
    check_console_page(page)
    page.click(f"a[href='{ARTICLES}/{article_id}']")
    page.click("nav.langs a[lang=en]")
    check_console_page(page)
    body = page.locator("#body").input_value()
    page.fill("#title", "Withdrawal fees, plainly")
    page.fill("#body", body + "\nFees are **never** taken from a top-up.\n")
    shown = page.locator("#preview .article-body")
    expect(shown).to_contain_text("Fees are never taken from a top-up.")  # live, by htmx
    expect(shown.locator("strong", has_text="never")).to_have_count(1)
    expect(page.locator("#preview .preview-title")).to_have_text("Withdrawal fees, plainly")
    page.click("button[value=save]")
    expect(page.locator(".alert-ok")).to_contain_text("Saved")
    expect(page.locator("#title")).to_have_value("Withdrawal fees, plainly")

    page.click("a:has-text('Revision history')")
    check_console_page(page)
    first_row = page.locator("table tbody tr").first
    expect(first_row).to_contain_text("current")
    expect(first_row).to_contain_text("Edited by staff")
    first_row.locator("a:has-text('What changed')").click()
    check_console_page(page)
    added = page.locator("tr.diff-added", has_text="Fees are **never** taken from a top-up.")
    expect(added).to_have_count(1)
    expect(page.locator("tr.diff-removed")).to_have_count(0)
    expect(page.locator("ins").first).to_have_text("Withdrawal fees, plainly")

    wallet = page.context.new_page()
    wallet.goto(live.url("/help/articles/withdrawal-fees"))
    expect(wallet.locator("h1")).to_have_text("Withdrawal fees, plainly")
    expect(wallet.locator(".article-body")).to_contain_text("Fees are never taken from a top-up.")
    wallet.close()


def test_without_script_the_preview_button_shows_the_draft_and_saves_nothing(
    browser: Browser, page_errors: PageErrors, live: LiveConsole
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    try:
        article_id = _article_id(live, "unbind-card")
        console_sign_in(page, live, live.staff("support_agent"))
        page.goto(live.url(f"{ARTICLES}/{article_id}?lang=en"))
        before = _rows(live)
        page.fill("#body", "# Unlinking\n\n- one\n- two\n")
        page.click("button[value=preview]")
        expect(page.locator("#preview .article-body h2")).to_have_text("Unlinking")
        expect(page.locator("#preview li")).to_have_count(2)
        expect(page.locator("#body")).to_have_value("# Unlinking\n\n- one\n- two\n")
        assert _rows(live) == before
        page.fill("#title", "")
        page.fill("#title", " ")
        page.click("button[value=save]")
        expect(page.locator("#title-error")).to_be_visible()
        assert _rows(live) == before
    finally:
        context.close()


def test_a_stale_edit_is_refused_with_the_text_kept(page: Page, live: LiveConsole) -> None:
    article_id = _article_id(live, "refunds")
    console_sign_in(page, live, live.staff("support_agent"))
    page.goto(live.url(f"{ARTICLES}/{article_id}?lang=zh-CN"))
    colleague = page.context.new_page()
    colleague.goto(live.url(f"{ARTICLES}/{article_id}?lang=zh-CN"))
    colleague.fill("#title", "退款多久到账（同事的版本）")
    colleague.click("button[value=save]")
    expect(colleague.locator(".alert-ok")).to_be_visible()
    colleague.close()
    before = _rows(live)
    page.fill("#title", "退款多久到账（我的版本）")
    page.click("button[value=save]")
    expect(page.locator(".alert-error")).to_contain_text("Someone saved this language")
    expect(page.locator("#title")).to_have_value("退款多久到账（我的版本）")
    assert _rows(live) == before
    page.click("button[value=save]")  # now knowingly over the colleague's version
    expect(page.locator(".alert-ok")).to_be_visible()
    check_console_page(page)


def test_the_feedback_report_puts_the_worst_first(page: Page, live: LiveConsole) -> None:
    for slug, answers in {
        "payment-code": [False, False, True],
        "maintenance": [True, True],
    }.items():
        for helpful in answers:
            voted = httpx.post(
                live.url(f"/v1/help/articles/{slug}/feedback"), json={"helpful": helpful}
            )
            assert voted.status_code == 204
    console_sign_in(page, live, live.staff("support_agent"))
    page.goto(live.url(ARTICLES))
    page.click("a:has-text('Feedback report')")
    check_console_page(page)
    first = page.locator("table tbody tr").first
    expect(first).to_have_class("row-warn")
    expect(first.locator("td").nth(2)).to_have_text("2")
    expect(first.locator("td").nth(4)).to_have_text("33%")
    rows = page.locator("table tbody tr")
    expect(rows.last).to_contain_text("not rated")


def test_the_outbox_shows_the_text_a_sign_up_sent(page: Page, live: LiveConsole) -> None:
    phone = next_phone()
    asked = httpx.post(
        live.url("/v1/verification-codes"), json={"phone": phone, "purpose": "register"}
    )
    assert asked.status_code == 202
    shop = live.shop
    relay = OutboxRelay(shop.engine, outbox_registry(shop.services), live.clock, worker_id="h4")
    live.run(relay.drain())
    code = live.sms(phone, CodePurpose.REGISTER)

    console_sign_in(page, live, live.staff("operator"))
    page.click(f"nav.sidenav a[href='{OUTBOX}']")
    check_console_page(page)
    expect(page.locator("#sms-title + .table-wrap tbody tr").first).to_contain_text(code)
    page.fill("#to", phone.removeprefix("+86"))
    page.click("form[action='/console/dev/outbox'] button[type=submit]")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(".code")).to_have_text(code)
    expect(page.locator("#mail-title")).to_have_count(0)
    assert phone[3:] not in page.url
    check_console_page(page)
    page.fill("#to", "not a number")
    page.click("form[action='/console/dev/outbox'] button[type=submit]")
    expect(page.locator("#to-error")).to_be_visible()


def test_the_outbox_page_is_not_there_outside_development(live: LiveConsole) -> None:
    production = live.settings.model_copy(update={"env": Environment.PRODUCTION})
    services = cast(Services, SimpleNamespace(settings=production))
    with pytest.raises(NotFoundError):
        live.run(dev_outbox.development_only(services))
    routes = [r for r in dev_outbox.router.routes if getattr(r, "path", "") == OUTBOX]
    assert len(routes) == 2
    for route in routes:
        first = route.dependant.dependencies[0]  # type: ignore[attr-defined]
        assert first.call is dev_outbox.development_only  # before the role, the form, ...


def test_an_agent_may_edit_articles_but_not_merchants_and_a_teller_neither(
    page: Page, live: LiveConsole
) -> None:
    live.run(_merchant(live))
    article_id = _article_id(live, "top-up-limits")
    console_sign_in(page, live, live.staff("support_agent"))
    assert page.goto(live.url(f"{ARTICLES}/{article_id}")).status == 200  # type: ignore[union-attr]
    links = page.locator("nav.sidenav a").evaluate_all("links => links.map(a => a.pathname)")
    assert ARTICLES in links
    assert MERCHANTS not in links
    token = _csrf(page)
    before = _rows(live)
    for path in (MERCHANTS, f"{MERCHANTS}/new", OUTBOX):
        refused = page.goto(live.url(path))
        assert refused is not None
        assert refused.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
    posts = {
        MERCHANTS: {"name": "Sneaky", "category": "food"},
        f"{MERCHANTS}/mch_x/status": {"status": "disabled"},
        f"{MERCHANTS}/mch_x/rotate-key": {},
        OUTBOX: {"to": "13800000000"},
    }
    for path, data in posts.items():
        answer = page.request.post(live.url(path), form={"csrf": token, **data})
        assert answer.status == 403, path
    assert _rows(live) == before
    # Another object's id: not found, and nothing about it.
    missing = page.goto(live.url(f"{ARTICLES}/hlp_nope"))
    assert missing is not None
    assert missing.status == 404
    wrong_language = page.goto(live.url(f"{ARTICLES}/{article_id}/revisions/xx/2"))
    assert wrong_language is not None
    assert wrong_language.status == 404
    forged = page.request.post(
        live.url(f"{ARTICLES}/{article_id}"),
        form={"csrf": "forged", "lang": "en", "title": "x", "body": "y", "action": "save"},
    )
    assert forged.status == 403
    assert _rows(live) == before

    page.context.clear_cookies()
    console_sign_in(page, live, live.staff("teller"))
    before = _rows(live)  # signing in is audited
    for path in (
        ARTICLES,
        f"{ARTICLES}/{article_id}",
        f"{ARTICLES}/feedback-report",
        MERCHANTS,
        OUTBOX,
    ):
        refused = page.goto(live.url(path))
        assert refused is not None
        assert refused.status == 403, path
    answer = page.request.post(
        live.url(f"{ARTICLES}/{article_id}/preview"), form={"csrf": _csrf(page), "body": "x"}
    )
    assert answer.status == 403
    assert _rows(live) == before


async def _merchant(live: LiveConsole) -> None:
    await live.shop.merchant("Corner Bakery")


def test_without_a_session_every_page_sends_to_sign_in(page: Page, live: LiveConsole) -> None:
    for path in (MERCHANTS, f"{MERCHANTS}/new", ARTICLES, f"{ARTICLES}/feedback-report", OUTBOX):
        page.goto(live.url(path))
        assert "/console/signin?next=" in page.url, path
    before = _rows(live)
    with httpx.Client(base_url=live.base_url) as client:
        answer = client.post(MERCHANTS, data={"name": "Anon", "category": "food"})
        assert answer.status_code in (303, 403)
    assert _rows(live) == before


def test_an_unknown_merchant_is_not_found(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("admin"))
    missing = page.goto(live.url(f"{MERCHANTS}/mch_nope"))
    assert missing is not None
    assert missing.status == 404
    answer = page.request.post(
        live.url(f"{MERCHANTS}/mch_nope/rotate-key"), form={"csrf": _csrf(page)}
    )
    assert answer.status == 404


@pytest.mark.parametrize("path", [MERCHANTS, ARTICLES])
def test_pages_fit_a_tablet(
    browser: Browser, page_errors: PageErrors, live: LiveConsole, path: str
) -> None:
    page = open_console_page(browser, errors=page_errors, viewport=TABLET_SIZE)
    try:
        console_sign_in(page, live, live.staff("admin"))
        page.goto(live.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET_SIZE["width"], f"{path} scrolls sideways: {width}px"
        check_console_page(page)
    finally:
        page.context.close()
