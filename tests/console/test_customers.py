"""Customer service in the console: find a customer by phone, id or ticket; the customer's
view masked by role with every look audited; freezing with a reason and unfreezing; the
money look-up by id and by the shop's order number; and other roles refused."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind, chart
from ewallet.models import tables
from tests.fixtures.console import LiveConsole, check_console_page, console_sign_in
from tests.fixtures.shop import TestUser
from tests.fixtures.web import next_phone


def _events(live: LiveConsole, action: str, subject_id: str | None = None) -> list[Any]:
    async def read() -> list[Any]:
        events = tables.audit_events
        statement = select(events).where(events.c.action == action)
        if subject_id is not None:
            statement = statement.where(events.c.subject_id == subject_id)
        async with live.shop.engine.connect() as conn:
            return list(await conn.execute(statement.order_by(events.c.id)))

    return live.run(read())


def _status(live: LiveConsole, user: TestUser) -> str:
    return str(live.run(live.shop.row(user)).status)


def _open_ticket(live: LiveConsole, user: TestUser) -> dict[str, Any]:
    async def post() -> dict[str, Any]:
        answer = await live.shop.client.post(
            "/v1/support/tickets",
            json={"subject": "Charged twice", "body": "The bakery charged me twice."},
            headers=live.shop.auth(user),
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    return live.run(post())


def _search(page: Page, text: str) -> None:
    page.fill("#q", text)
    page.click("form[action='/console/customers'] button[type=submit]")
    page.wait_for_load_state()


def _csrf(page: Page) -> str:
    headers = json.loads(page.get_attribute("body", "hx-headers") or "{}")
    return str(headers["X-CSRF-Token"])


def test_find_a_customer_by_phone_id_and_ticket(page: Page, live: LiveConsole) -> None:
    customer = live.customer(phone="+8613812340001")
    ticket = _open_ticket(live, customer)
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent, next_path="/console/customers")
    expect(page.locator("h1")).to_have_text("Find a customer")
    check_console_page(page)

    _search(page, "138 1234 0001")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("138****0001")
    assert "13812340001" not in page.content()  # masked for a support agent
    assert "1234" not in page.url  # the search was posted: no number in the URL
    check_console_page(page)

    for query in (customer.id, ticket["reference"], ticket["reference"].lower()):
        _search(page, query)
        expect(page.locator("table tbody tr")).to_have_count(1)
        expect(page.locator("#q")).to_have_value(query)  # what was typed stays

    _search(page, "13900000000")
    expect(page.locator(".empty")).to_contain_text("No customer matches")
    _search(page, "Zhang San")
    expect(page.locator(".alert-error")).to_contain_text("Enter a mobile number")
    check_console_page(page)

    page.locator("#q").fill(customer.id)
    page.click("form[action='/console/customers'] button[type=submit]")
    page.click("table a:has-text('Open the customer')")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("138****0001")
    searched = _events(live, "support.customers_searched")
    assert [e.actor_id for e in searched][-6:] == [agent.id] * 6
    assert searched[-1].subject_id == customer.id


def test_the_view_is_masked_by_role_and_every_look_is_audited(
    page: Page, second_page: Page, live: LiveConsole
) -> None:
    customer = live.customer(phone="+8613812340002")
    ticket = _open_ticket(live, customer)
    agent = live.staff("support_agent")
    risk = live.staff("risk_officer")
    console_sign_in(page, live, agent, next_path=f"/console/customers/{customer.id}")
    expect(page.locator("h1")).to_contain_text("138****0002")
    expect(page.locator("text=masked for your role")).to_be_visible()
    expect(page.locator(f"a[href='/console/tickets/{ticket['id']}']")).to_have_text(
        ticket["reference"]
    )
    assert "13812340002" not in page.content()
    check_console_page(page)

    console_sign_in(second_page, live, risk, next_path=f"/console/customers/{customer.id}")
    expect(second_page.locator("h1")).to_contain_text("+8613812340002")
    # check_console_page fetched the agent's page once more: that was a look too.
    viewed = _events(live, "support.customer_viewed", customer.id)
    assert [(e.actor_id, e.details["phone_in_full"]) for e in viewed] == [
        (agent.id, False),
        (agent.id, False),
        (risk.id, True),
    ]

    # The panel a ticket page loads beside the thread: a fragment, also audited.
    fragment = page.request.get(live.url(f"/console/customers/{customer.id}/panel"))
    assert fragment.status == 200
    assert "<html" not in fragment.text()
    assert "138****0002" in fragment.text()
    assert len(_events(live, "support.customer_viewed", customer.id)) == 4

    missing = page.goto(live.url("/console/customers/usr_nobody"))
    assert missing is not None
    assert missing.status == 404
    assert len(_events(live, "support.customer_viewed", "usr_nobody")) == 0


def test_freeze_with_a_reason_then_unfreeze(page: Page, live: LiveConsole) -> None:
    customer = live.customer(phone="+8613812340003")
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent, next_path=f"/console/customers/{customer.id}")
    page.on("dialog", lambda dialog: dialog.accept())

    # A blank reason (the browser's own check taken away) is refused, nothing changes.
    page.eval_on_selector("#reason", "input => input.removeAttribute('required')")
    page.fill("#reason", "   ")
    page.click("form[action$='/freeze'] button[type=submit]")
    expect(page.locator("#freeze-error")).to_contain_text("Write why")
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    assert _status(live, customer) == "active"

    page.fill("#reason", "Customer lost the phone, called from the registered landline")
    page.click("form[action$='/freeze'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_have_text("The account is frozen.")
    expect(page.locator("#h-freeze")).to_have_text("Frozen")
    expect(page.locator(".cs-freeze")).to_contain_text("lost the phone")
    assert _status(live, customer) == "frozen"
    check_console_page(page)

    page.fill("#reason", "Identity checked by video call")
    page.click("form[action$='/unfreeze'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_have_text("The account is unfrozen.")
    assert _status(live, customer) == "active"
    frozen = _events(live, "account.frozen", customer.id)
    unfrozen = _events(live, "account.unfrozen", customer.id)
    assert [e.actor_id for e in frozen + unfrozen] == [agent.id, agent.id]

    # Without the form's token: refused, and nothing changes.
    answer = page.request.post(
        live.url(f"/console/customers/{customer.id}/freeze"), form={"reason": "no token"}
    )
    assert answer.status == 403
    assert _status(live, customer) == "active"


def test_transactions_page_by_more(page: Page, live: LiveConsole) -> None:
    customer = live.customer("0", phone="+8613812340004")

    async def history() -> None:
        ledger = live.shop.ledger
        bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
        wallet = await chart.open_account(ledger, chart.wallet(customer.id))
        for n in range(35):
            await ledger.transfer(
                key=f"desk-fund-{customer.id}-{n}",
                debit_account_id=bank.id,
                credit_account_id=wallet.id,
                amount=Money(100 + n, "CNY"),
                kind=TransactionKind.TOPUP,
            )

    live.run(history())
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent, next_path=f"/console/customers/{customer.id}")
    rows = page.locator("#h-tx ~ .table-wrap tbody tr:not(.cs-more)")
    expect(rows).to_have_count(10)
    more = page.locator("tr.cs-more a")
    assert (more.get_attribute("href") or "").startswith(
        f"/console/customers/{customer.id}/transactions?cursor="
    )  # the way without JavaScript
    more.click()
    expect(rows).to_have_count(30)
    page.locator("tr.cs-more a").click()
    expect(rows).to_have_count(35)
    expect(page.locator("tr.cs-more")).to_have_count(0)
    assert len(_events(live, "support.customer_transactions_viewed", customer.id)) == 2


def test_money_lookup_by_id_and_by_the_shops_order_number(page: Page, live: LiveConsole) -> None:
    customer = live.customer(phone="+8613812340005")
    shop = live.shop

    async def sale() -> tuple[str, str]:
        bakery = await shop.merchant("Corner Bakery")
        order_id = await shop.order(bakery, "12.30", out_trade_no=f"DESK-{customer.id[-6:]}")
        paid = await shop.pay(customer, order_id)
        assert paid.status_code == 201, paid.text
        return order_id, str(paid.json()["payment"]["id"])

    order_id, payment_id = live.run(sale())
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent, next_path="/console/lookup")
    expect(page.locator("h1")).to_have_text("Find a payment")
    check_console_page(page)

    page.fill("#q", payment_id)
    page.click("form[action='/console/lookup'] button[type=submit]")
    page.wait_for_load_state()
    record = page.locator("article.cs-record")
    expect(record).to_have_count(1)
    expect(record.locator("h2")).to_contain_text("Payment")
    expect(record.locator(".cs-verdict")).to_contain_text("Paid: the money went to the shop")
    expect(record).to_contain_text("Corner Bakery")
    expect(record).to_contain_text("138****0005")
    check_console_page(page)

    page.fill("#q", f"DESK-{customer.id[-6:]}")
    page.click("form[action='/console/lookup'] button[type=submit]")
    page.wait_for_load_state()
    expect(record.locator("h2")).to_contain_text("Order")
    expect(record).to_contain_text(order_id)
    record.locator(f"a[href='/console/customers/{customer.id}']").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("138****0005")

    page.goto(live.url("/console/lookup?q=pay_nothing_here"))
    expect(page.locator(".alert-error")).to_contain_text("Nothing matches")
    looked = _events(live, "support.money_looked_up")
    assert [(e.subject_type, e.subject_id) for e in looked[-2:]] == [
        ("payment", payment_id),
        ("order", order_id),
    ]


def test_other_roles_are_refused(page: Page, live: LiveConsole) -> None:
    customer = live.customer(phone="+8613812340006")
    teller = live.staff("teller")
    console_sign_in(page, live, teller)
    token = _csrf(page)
    before = len(_events(live, "support.customer_viewed"))
    for path in (
        "/console/customers",
        f"/console/customers/{customer.id}",
        f"/console/customers/{customer.id}/panel",
        f"/console/customers/{customer.id}/transactions",
        f"/console/lookup?q={customer.id}",
    ):
        answer = page.goto(live.url(path))
        assert answer is not None, path
        assert answer.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
    check_console_page(page)
    for path in ("/console/customers", f"/console/customers/{customer.id}/freeze"):
        posted = page.request.post(live.url(path), form={"csrf": token, "q": next_phone()})
        assert posted.status == 403, path
    assert _status(live, customer) == "active"
    assert len(_events(live, "support.customer_viewed")) == before

    # Signed out: to the sign-in page, and back here after it.
    page.context.clear_cookies()
    page.goto(live.url(f"/console/customers/{customer.id}"))
    assert "/console/signin?next=" in page.url
