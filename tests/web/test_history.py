"""The wallet's history in a browser: the list with its infinite scroll (and the plain "More"
link without JavaScript), the type and date filters, an entry's details (another user's id
is a 404), the month's spending chart and the statement downloads."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, Transaction, TransactionKind, chart, transfer
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.web import LiveWallet, check_page, sign_in

CST = "+08:00"
# (Shanghai time, kind, direction, amount): a February for the filters and the chart.
FEBRUARY: tuple[tuple[str, str, str, str], ...] = (
    ("2026-02-10T09:00", TransactionKind.TOPUP, "in", "500.00"),
    ("2026-02-12T12:30", TransactionKind.PAYMENT, "out", "12.30"),
    ("2026-02-15T18:00", TransactionKind.BILL, "out", "88.00"),
    ("2026-02-20T08:15", TransactionKind.PAYMENT, "out", "45.60"),
    ("2026-02-25T10:00", TransactionKind.WITHDRAWAL, "out", "100.00"),
    ("2026-02-26T11:00", TransactionKind.REFUND, "in", "12.30"),
)


def book(
    live: LiveWallet, user: TestUser, entries: Sequence[tuple[str, str, str, str]]
) -> list[str]:
    """Post ``entries`` on the user's wallet at their own times (oldest first, before any
    other movement of a fresh user); their ledger transaction ids."""

    async def post() -> list[str]:
        clock = FrozenClock(datetime.fromisoformat(entries[0][0] + CST))
        ledger = Ledger(live.shop.engine, clock=clock)
        wallet = await chart.open_account(ledger, chart.wallet(user.id))
        other = await chart.open_account(ledger, chart.bank_settlement("WEBHIST"))
        ids: list[str] = []
        for when, group in itertools.groupby(enumerate(entries), key=lambda item: item[1][0]):
            clock.set(datetime.fromisoformat(when + CST))
            commands = []
            for n, (_, kind, direction, amount) in group:
                debit, credit = (other, wallet) if direction == "in" else (wallet, other)
                commands.append(
                    transfer(
                        key=f"web-history-{user.id}-{n}",
                        debit_account_id=debit.id,
                        credit_account_id=credit.id,
                        amount=Money.parse(amount),
                        kind=kind,
                    )
                )
            for booked in await ledger.execute_many(commands):  # one unit per moment
                assert isinstance(booked, Transaction), booked
                ids.append(booked.id)
        return ids

    return live.run(post())


def amounts(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("li.entry .amount").all_inner_texts()]


def test_infinite_scroll_brings_every_entry_and_more_works_without_javascript(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("0")
    book(
        live,
        user,
        [("2026-03-01T10:00", TransactionKind.TOPUP, "in", f"1.{n:02d}") for n in range(1, 31)],
    )
    sign_in(page, live, user)
    page.goto(live.url("/history"))
    rows = page.locator("li.entry")
    expect(rows).to_have_count(20)
    assert amounts(page)[:2] == ["+¥1.30", "+¥1.29"]
    check_page(page)

    more = page.get_by_role("link", name="Load more")
    next_page = more.get_attribute("href")
    assert next_page is not None
    assert "cursor=" in next_page
    more.scroll_into_view_if_needed()  # htmx fetches the next rows as the end shows
    expect(rows).to_have_count(30)
    expect(page.get_by_text("That is everything.")).to_be_visible()
    assert amounts(page) == [f"+¥1.{n:02d}" for n in range(30, 0, -1)]

    # Without JavaScript the same link is a page of its own (the fragment's own address
    # sends a browser there too).
    fragment = page.request.get(live.url("/history/more?type=topup"), max_redirects=0)
    assert fragment.headers["location"] == "/history?type=topup"
    page.goto(live.url(next_page))
    expect(rows).to_have_count(10)
    assert amounts(page)[0] == "+¥1.10"
    expect(page.get_by_role("link", name="Back to the newest")).to_have_attribute(
        "href", "/history"
    )


def test_type_and_date_filters_narrow_the_list(page: Page, live: LiveWallet) -> None:
    user = live.customer("0")
    book(live, user, FEBRUARY)
    sign_in(page, live, user)
    page.goto(live.url("/history"))
    expect(page.locator("li.entry")).to_have_count(6)

    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page).to_have_url(live.url("/history?type=payment"))
    expect(page.locator("li.entry")).to_have_count(2)
    assert amounts(page) == ["-¥45.60", "-¥12.30"]
    expect(page.get_by_role("link", name="Payments", exact=True)).to_have_attribute(
        "aria-current", "true"
    )

    page.get_by_text("Choose dates").click()
    page.fill("#from", "2026-02-14")
    page.fill("#to", "2026-02-20")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(live.url("/history?type=payment&from=2026-02-14&to=2026-02-20"))
    assert amounts(page) == ["-¥45.60"]

    page.get_by_role("link", name="All", exact=True).click()
    assert amounts(page) == ["-¥45.60", "-¥88.00"]  # both days included, any type
    check_page(page)

    page.get_by_role("link", name="Withdrawals").click()
    expect(page.locator(".empty")).to_contain_text("Nothing matches these filters.")

    # A range that ends before it starts is refused in place, the filters kept.
    answer = page.goto(live.url("/history?from=2026-02-20&to=2026-02-10"))
    assert answer is not None
    assert answer.status == 422
    expect(page.get_by_role("alert")).to_have_text("The start date is after the end date.")
    expect(page.locator("#from")).to_have_value("2026-02-20")
    expect(page.locator("li.entry")).to_have_count(0)


def test_an_entry_shows_its_details_and_another_users_id_is_not_found(
    page: Page, live: LiveWallet
) -> None:
    payer = live.customer("300.00")
    payee = live.customer("0")
    answer = live.run(
        live.shop.client.post(
            "/v1/transfers",
            json={
                "to_phone": payee.phone,
                "amount": "66.60",
                "payment_password": PIN,
                "memo": "Dinner on Friday",
                "acknowledge_new_payee": True,
            },
            headers=live.shop.auth(payer, **{"Idempotency-Key": f"web-{payer.id}"}),
        )
    )
    assert answer.status_code == 201, answer.text
    sign_in(page, live, payer)
    page.goto(live.url("/history"))
    sent = page.locator("li.entry").first
    expect(sent).to_contain_text("Transfer out")
    expect(sent).to_contain_text("-¥66.60")
    sent.locator("a").click()
    expect(page.locator(".amount-big")).to_have_text("-¥66.60")
    expect(page.locator(".facts")).to_contain_text("Dinner on Friday")
    expect(page.locator(".facts")).to_contain_text("¥233.40")  # the balance after
    expect(page.locator(".facts")).to_contain_text(re.compile(r"Transfer number\s*trf_"))
    mine = page.url
    assert mine.startswith(live.url("/history/"))
    check_page(page)

    # The payee sees the same ledger transaction coming in, without the payer's balance.
    page.context.clear_cookies()
    sign_in(page, live, payee)
    page.goto(mine)
    expect(page.locator(".amount-big")).to_have_text("+¥66.60")
    expect(page.locator(".facts")).not_to_contain_text("233.40")

    # Anyone else's browser gets 404 for that id, and nothing of it.
    stranger = live.customer("1.00")
    page.context.clear_cookies()
    sign_in(page, live, stranger)
    before = live.snapshot(stranger)
    refused = page.goto(mine)
    assert refused is not None
    assert refused.status == 404
    expect(page.get_by_role("alert")).to_contain_text("Not found")
    expect(page.locator("body")).not_to_contain_text("Dinner on Friday")
    expect(page.locator("body")).not_to_contain_text("66.60")
    assert live.snapshot(stranger) == before


def test_month_chart_has_the_months_totals_and_statements_download(
    page: Page, live: LiveWallet, tmp_path: Path
) -> None:
    user = live.customer("0")
    book(live, user, FEBRUARY)
    sign_in(page, live, user)
    page.goto(live.url("/history"))
    page.get_by_role("link", name="Monthly summary").click()
    expect(page.locator("h1")).to_have_text("March 2026")  # the current month by default
    expect(page.get_by_text("No money went out this month.")).to_be_visible()

    page.get_by_role("link", name="February 2026").click()
    expect(page).to_have_url(live.url("/history/chart?month=2026-02"))
    expect(page.locator("h1")).to_have_text("February 2026")
    expect(page.locator("#total-out")).to_have_text("¥245.90")
    expect(page.locator("#total-in")).to_have_text("¥512.30")
    svg = page.locator("svg#spending-chart")
    expect(svg).to_have_attribute("role", "img")
    expect(page.locator("#chart-desc")).to_contain_text("¥245.90")
    expect(page.locator("#chart-desc")).to_contain_text("¥100.00 on 2026-02-25")
    bars = svg.locator("rect.chart-bar")
    expect(bars).to_have_count(4)
    assert bars.evaluate_all("bars => bars.map(b => [b.dataset.day, b.dataset.minor])") == [
        ["2026-02-12", "1230"],
        ["2026-02-15", "8800"],
        ["2026-02-20", "4560"],
        ["2026-02-25", "10000"],
    ]
    heights = [
        float(h) for h in bars.evaluate_all("bars => bars.map(b => b.getAttribute('height'))")
    ]
    assert max(heights) == heights[3]
    page.get_by_text("Show the figures as a table").click()
    expect(page.locator(".figures tbody tr")).to_have_count(4)
    shares = page.locator("table.shares tbody tr")
    expect(shares).to_have_count(3)
    expect(shares.nth(0)).to_contain_text("Withdrawal")
    expect(shares.nth(0)).to_contain_text("41%")
    expect(shares.nth(2)).to_contain_text("¥57.90")
    check_page(page)

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download CSV").click()
    download = caught.value
    assert download.suggested_filename == "statement-2026-02.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert "245.90" in text
    assert "512.30" in text
    rows = [row for row in csv.reader(io.StringIO(text)) if row and row[0].startswith("2026-02")]
    assert len(rows) == 6

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download PDF").click()
    pdf = caught.value
    assert pdf.suggested_filename == "statement-2026-02.pdf"
    saved = tmp_path / pdf.suggested_filename
    pdf.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    chooser = page.request.get(live.url("/history/statement.pdf"), max_redirects=0)
    assert chooser.status == 303
    assert chooser.headers["location"] == "/history/chart"
    refused = page.request.get(live.url("/history/statement.csv?month=2026-13"))
    assert refused.status == 422
    assert "attachment" not in refused.headers.get("content-disposition", "")
