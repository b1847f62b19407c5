"""The teller's counter in Chromium: a cash deposit checked, taken and printed; a large one
taken by a teller in one browser and approved by a supervisor in another (maker-checker);
a rejected one; refused slips; and who may open what.

The large-cash threshold is the shipped ¥50,000.00: ¥60,000.00 waits for approval.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlparse

import httpx
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import func, select, update

from ewallet.models.tables import counter_deposits, users
from tests.fixtures.accounts import TestUser
from tests.fixtures.console import (
    TABLET_SIZE,
    LiveConsole,
    check_console_page,
    console_sign_in,
)
from tests.fixtures.staff import StaffLogin, events_table

NEW = "/console/counter/deposits/new"


# ------------------------------------------------------------------------------ helpers


def _origin(page: Page) -> str:
    parts = urlparse(page.url)
    return f"{parts.scheme}://{parts.netloc}"


def _count(live: LiveConsole, table: Any, **where: str) -> int:
    async def read() -> int:
        statement = select(func.count()).select_from(table)
        for name, value in where.items():
            statement = statement.where(table.c[name] == value)
        async with live.shop.engine.connect() as conn:
            return int((await conn.execute(statement)).scalar_one())

    return live.run(read())


def _named(live: LiveConsole, user: TestUser, masked_name: str) -> None:
    """Give the customer a verified real name (masked as the wallet stores it)."""

    async def write() -> None:
        async with live.shop.engine.begin() as conn:
            await conn.execute(
                update(users).where(users.c.id == user.id).values(real_name_masked=masked_name)
            )

    live.run(write())


def _fill_slip(page: Page, phone: str, amount: str, receipt_no: str) -> None:
    page.goto(_origin(page) + NEW)
    page.fill("#phone", phone)
    page.fill("#amount", amount)
    page.fill("#receipt_no", receipt_no)
    page.click("form[action='/console/counter/deposits/new/confirm'] button[type=submit]")
    page.wait_for_load_state()


def _record(page: Page) -> str:
    """Press "Cash received" on the confirmation; the deposit's id from the page it opens."""
    page.click("form[action='/console/counter/deposits/new'] button[type=submit]")
    page.wait_for_load_state()
    path = urlparse(page.url).path
    assert path.startswith("/console/counter/deposits/cdp_"), page.url
    return path.rsplit("/", 1)[1]


def _take_cash(page: Page, phone: str, amount: str, receipt_no: str) -> str:
    _fill_slip(page, phone, amount, receipt_no)
    return _record(page)


def _csrf(page: Page) -> str:
    return page.locator("input[name=csrf]").first.input_value()


def _post(page: Page, live: LiveConsole, path: str, **fields: str) -> tuple[int, str]:
    """A form post from this browser (its cookies and form token), as a crafted request."""
    answer = page.request.post(
        live.url(path),
        form={"csrf": _csrf(page), **fields},
        headers={"Accept-Language": "en"},
        max_redirects=0,
    )
    return answer.status, answer.text()


def _signed_in(page: Page, live: LiveConsole, role: str) -> StaffLogin:
    login = live.staff(role)
    console_sign_in(page, live, login)
    return login


# ------------------------------------------------------------------------------ journeys


def test_a_small_deposit_is_checked_credited_and_printed(page: Page, live: LiveConsole) -> None:
    customer = live.customer("0.00")
    _named(live, customer, "*小明")
    teller = _signed_in(page, live, "teller")
    page.goto(live.url(NEW))
    expect(page.locator("h1")).to_have_text("Cash deposit")
    check_console_page(page)

    _fill_slip(page, customer.phone[3:], "1200.50", "R-SMALL-1")
    # The confirmation: whose wallet, masked, before any cash is taken.
    facts = page.locator(".counter-facts")
    expect(facts).to_contain_text("*小明")
    expect(facts).to_contain_text(customer.phone[3:6] + "****" + customer.phone[-4:])
    expect(facts).to_contain_text("¥1,200.50")
    expect(facts).to_contain_text("人民币壹仟贰佰元伍角")
    check_console_page(page)
    assert live.balance(customer) == 0  # nothing happens before "Cash received"
    assert _count(live, counter_deposits, user_id=customer.id) == 0
    assert _count(live, events_table, action="counter_deposit.customer_checked") >= 1

    deposit_id = _record(page)
    expect(page.locator(".alert-ok")).to_contain_text("wallet is credited")
    expect(page.locator("h1 .badge")).to_have_text("Credited")
    check_console_page(page)
    assert live.balance(customer) == 1200_50

    # The same slip again (a second click, another teller): the same deposit, once.
    _fill_slip(page, customer.phone, "1200.50", "R-SMALL-1")
    expect(page.locator(".alert-info")).to_contain_text("already recorded")
    assert _record(page) == deposit_id
    expect(page.locator(".alert-info")).to_contain_text("already recorded")
    assert live.balance(customer) == 1200_50
    assert _count(live, counter_deposits, user_id=customer.id) == 1

    # The receipt: a PDF with the receipt number, the amount in capitals and the state.
    link = page.locator("a", has_text="Print receipt")
    receipt = page.request.get(live.url(link.get_attribute("href") or ""))
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.body())).pages)
    assert "R-SMALL-1" in text
    assert "人民币壹仟贰佰元伍角" in text
    assert customer.phone not in text  # masked
    printed = _count(live, events_table, action="counter_deposit.receipt_printed")
    assert printed >= 1

    # The teller's list shows it, filtered to their own cash.
    page.goto(live.url("/console/counter/deposits?mine=1&status=completed"))
    expect(page.locator("table")).to_contain_text("R-SMALL-1")
    expect(page.locator("table")).to_contain_text(customer.phone)  # in full for the cash roles
    check_console_page(page)
    assert teller.role == "teller"


def test_the_maker_checker_deposit_with_two_staff_browsers(
    page: Page, second_page: Page, live: LiveConsole
) -> None:
    customer = live.customer("0.00")
    _signed_in(page, live, "teller")
    deposit_id = _take_cash(page, customer.phone, "60000.00", "R-LARGE-1")
    expect(page.locator("h1 .badge")).to_have_text("Awaiting approval")
    expect(page.locator(".alert-info")).to_contain_text("waits for a second supervisor")
    assert live.balance(customer) == 0

    # The teller who took the cash cannot approve it: the supervisors' action is refused.
    status, text = _post(page, live, f"/console/counter/deposits/{deposit_id}/approve")
    assert status == 403
    assert "Not open to your role" in text
    assert live.balance(customer) == 0

    # A supervisor in another browser finds it in the queue and approves it.
    _signed_in(second_page, live, "teller_supervisor")
    second_page.goto(live.url("/console/counter/approvals"))
    row = second_page.locator("tr", has_text="R-LARGE-1")
    expect(row).to_contain_text("¥60,000.00")
    check_console_page(second_page)
    row.locator("a", has_text="Review").click()
    second_page.wait_for_load_state()
    check_console_page(second_page)
    second_page.once("dialog", lambda dialog: dialog.accept())
    second_page.click("form[action$='/approve'] button[type=submit]")
    second_page.wait_for_load_state()
    expect(second_page.locator(".alert-ok")).to_contain_text("Approved")
    expect(second_page.locator("h1 .badge")).to_have_text("Credited")
    assert live.balance(customer) == 60000_00

    # Approving again (a second click, a stale tab) credits nothing more.
    status, text = _post(second_page, live, f"/console/counter/deposits/{deposit_id}/approve")
    assert status == 409
    assert "already decided" in text
    assert live.balance(customer) == 60000_00

    # The teller's page shows the decision.
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Credited")
    expect(page.locator(".counter-facts")).to_contain_text("Approved by")
    second_page.goto(live.url("/console/counter/approvals"))
    expect(second_page.locator("tr", has_text="R-LARGE-1")).to_have_count(0)


def test_a_rejected_deposit_credits_nothing(
    page: Page, second_page: Page, live: LiveConsole
) -> None:
    customer = live.customer("5.00")
    # A supervisor takes the cash: their own approval is refused by the service.
    maker = _signed_in(page, live, "teller_supervisor")
    deposit_id = _take_cash(page, customer.phone, "50000.00", "R-LARGE-2")
    expect(page.locator(".alert-info", has_text="You took this cash")).to_be_visible()
    expect(page.locator("form[action$='/approve']")).to_have_count(0)
    status, text = _post(page, live, f"/console/counter/deposits/{deposit_id}/approve")
    assert status == 403
    assert "You took this cash yourself" in text
    assert live.balance(customer) == 5_00

    _signed_in(second_page, live, "teller_supervisor")
    second_page.goto(live.url(f"/console/counter/deposits/{deposit_id}"))
    second_page.click("form[action$='/reject'] button[type=submit]")  # no reason
    expect(second_page.locator(".alert-error")).to_contain_text("reason")
    second_page.fill("#reason", "Two notes failed the counterfeit check")
    second_page.click("form[action$='/reject'] button[type=submit]")
    second_page.wait_for_load_state()
    expect(second_page.locator("h1 .badge")).to_have_text("Rejected")
    expect(second_page.locator(".counter-facts")).to_contain_text("counterfeit check")
    check_console_page(second_page)
    assert live.balance(customer) == 5_00

    # The large-cash record stays, with the deposit's state; and in the CSV.
    second_page.goto(live.url("/console/counter/large-cash"))
    row = second_page.locator("tr", has_text="¥50,000.00")
    expect(row).to_contain_text("Rejected")
    expect(row).to_contain_text(maker.email)
    check_console_page(second_page)
    csv_link = second_page.locator("a", has_text="Download CSV").get_attribute("href") or ""
    exported = second_page.request.get(live.url(csv_link))
    assert exported.status == 200
    assert exported.headers["content-type"].startswith("text/csv")
    body = exported.body().decode("utf-8-sig")
    assert deposit_id in body
    assert "50000.00" in body
    assert "rejected" in body


def test_a_refused_slip_says_why_next_to_the_field(page: Page, live: LiveConsole) -> None:
    customer = live.customer("0.00")
    _signed_in(page, live, "teller")
    _fill_slip(page, "13999990000", "100.00", "R-REF-1")  # nobody has this number
    expect(page.locator("#phone-error")).to_contain_text("No customer wallet")
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#receipt_no")).to_have_value("R-REF-1")  # what was typed is kept
    check_console_page(page)

    _fill_slip(page, customer.phone, "12.345", "R-REF-1")
    expect(page.locator("#amount-error")).to_contain_text("at most two decimals")
    _fill_slip(page, customer.phone, "100.00", "R REF #1")
    expect(page.locator("#receipt_no-error")).to_contain_text("as printed")

    _take_cash(page, customer.phone, "100.00", "R-REF-2")
    _fill_slip(page, customer.phone, "200.00", "R-REF-2")  # the receipt's other amount
    expect(page.locator("#receipt_no-error")).to_contain_text("already used")
    assert live.balance(customer) == 100_00
    assert _count(live, counter_deposits, user_id=customer.id) == 1


def test_who_may_open_the_counter(page: Page, live: LiveConsole) -> None:
    # No session: to sign-in, and back after.
    page.goto(live.url(NEW))
    assert "/console/signin?next=" in page.url

    # A support agent handles no cash and reads no deposits.
    _signed_in(page, live, "support_agent")
    for path in (
        NEW,
        "/console/counter/deposits",
        "/console/counter/approvals",
        "/console/counter/large-cash",
    ):
        answer = page.goto(live.url(path))
        assert answer is not None
        assert answer.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
    check_console_page(page)


def test_cash_is_for_tellers_only_admins_and_risk_officers_read(
    page: Page, live: LiveConsole
) -> None:
    customer = live.customer("0.00")
    before = _count(live, counter_deposits)
    admin = _signed_in(page, live, "admin")
    links = page.locator("nav.sidenav a").evaluate_all("links => links.map(a => a.pathname)")
    assert NEW not in links
    assert "/console/counter/approvals" not in links
    assert "/console/counter/deposits" in links
    answer = page.goto(live.url(NEW))
    assert answer is not None
    assert answer.status == 403
    status, _ = _post(
        page,
        live,
        NEW,
        phone=customer.phone,
        amount="10.00",
        receipt_no="R-ADMIN-1",
        branch="HQ",
    )
    assert status == 403
    assert _count(live, counter_deposits) == before
    assert live.balance(customer) == 0
    page.goto(live.url("/console/counter/deposits"))
    expect(page.locator("h1")).to_have_text("Deposits")
    expect(page.locator("a", has_text="New deposit")).to_have_count(0)
    assert admin.role == "admin"

    # Another deposit's id that does not exist: 404, nothing shown.
    missing = page.goto(live.url("/console/counter/deposits/cdp_nosuchdeposit"))
    assert missing is not None
    assert missing.status == 404
    no_receipt = page.request.get(live.url("/console/counter/deposits/cdp_nosuch/receipt.pdf"))
    assert no_receipt.status == 404

    # Without the form token nothing is decided.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=live.base_url, cookies=cookies) as client:
        forged = client.post("/console/counter/deposits/cdp_x/reject", data={"csrf": "forged"})
        assert forged.status_code == 403


def test_a_risk_officer_reads_masked_and_the_pages_fit_a_tablet(
    page: Page, live: LiveConsole
) -> None:
    customer = live.customer("0.00")
    _signed_in(page, live, "teller")
    _take_cash(page, customer.phone, "70000.00", "R-RISK-1")
    page.context.clear_cookies()
    _signed_in(page, live, "risk_officer")
    page.goto(live.url("/console/counter/deposits?status=awaiting_approval"))
    table = page.locator("table")
    expect(table).to_contain_text("R-RISK-1")
    expect(table).not_to_contain_text(customer.phone)  # masked for everyone but cash roles
    expect(table).to_contain_text(customer.phone[3:6] + "****" + customer.phone[-4:])
    answer = page.goto(live.url("/console/counter/approvals"))
    assert answer is not None
    assert answer.status == 403
    page.set_viewport_size(TABLET_SIZE)
    page.goto(live.url("/console/counter/large-cash?from=2026-03-01&to=2026-03-02"))
    expect(page.locator("tr", has_text="¥70,000.00")).to_contain_text("Awaiting approval")
    check_console_page(page)
    page.goto(live.url("/console/counter/large-cash?from=2026-03-05&to=2026-03-01"))
    expect(page.locator(".alert-error")).to_contain_text("at most 366 days")
