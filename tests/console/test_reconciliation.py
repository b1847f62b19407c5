"""Reconciliation in the console: an operator starts a run, follows it live to its end and
reads the findings with what to do; a risk officer reads but cannot start; others are refused."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from ewallet.kit.money import Money
from ewallet.models.tables import cards, reconciliation_runs
from ewallet.risk.limits import CHINA_TIME
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.cards import bind
from tests.fixtures.console import LiveConsole, check_console_page, console_sign_in

ICBC = TEST_CARDS[0]


def _bank_debit_the_wallet_never_made(live: LiveConsole) -> None:
    """A card debit at the bank under a top-up reference the wallet has no record of: the
    run must report it as unknown to the wallet."""
    shop = live.shop
    user = live.newcomer()
    bound = live.run(bind(shop, user, ICBC))

    async def debit() -> None:
        async with shop.engine.connect() as conn:
            query = select(cards.c.agreement_token_encrypted).where(cards.c.id == bound["id"])
            token = (await conn.execute(query)).scalar_one()
        agreement = shop.security.cipher.decrypt(token, context=f"agreement:{bound['id']}")
        result = await shop.services.bank.debit(
            agreement_token=agreement, amount=Money(12_00), request_id="topup:top_nobody"
        )
        assert result.status == "succeeded"

    live.run(debit())


def _runs(live: LiveConsole) -> int:
    async def count() -> int:
        async with live.shop.engine.connect() as conn:
            query = select(func.count()).select_from(reconciliation_runs)
            return int((await conn.execute(query)).scalar_one())

    return live.run(count())


def test_an_operator_runs_a_day_and_follows_it_to_the_findings(
    page: Page, live: LiveConsole
) -> None:
    _bank_debit_the_wallet_never_made(live)
    console_sign_in(page, live, live.staff("operator"))
    page.goto(live.url("/console/reconciliation"))
    check_console_page(page)
    day = live.clock.now().astimezone(CHINA_TIME).date()
    page.fill("#day", day.isoformat())
    page.click("form[action='/console/reconciliation'] button[type=submit]")
    page.wait_for_url("**/console/reconciliation/rcn_*")
    # The page polls the progress until the run ends, then reloads with the findings.
    expect(page.locator(".run-state .badge")).to_have_text("Completed", timeout=20_000)
    expect(page.get_by_role("heading", name="To look at (1)")).to_be_visible()
    row = page.locator("tr", has_text="topup:top_nobody")
    expect(row).to_contain_text("Unknown to the wallet")
    expect(row).to_contain_text("¥12.00")
    expect(row).to_contain_text("exception process")
    check_console_page(page)
    page.goto(live.url("/console/reconciliation"))
    expect(page.locator("tbody tr").first).to_contain_text("Completed")


def test_a_bad_or_future_day_starts_nothing(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("operator"))
    before = _runs(live)
    page.goto(live.url("/console/reconciliation"))
    page.fill("#day", "2099-01-01")
    page.click("form[action='/console/reconciliation'] button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    assert _runs(live) == before


def test_a_risk_officer_reads_but_cannot_start(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("risk_officer"))
    page.goto(live.url("/console/reconciliation"))
    expect(page.locator("h1")).to_have_text("Reconciliation")
    assert page.locator("form[action='/console/reconciliation']").count() == 0
    before = _runs(live)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator("body").get_attribute("hx-headers") or ""
    token = csrf.split('"')[3]
    with httpx.Client(base_url=live.base_url, cookies=cookies) as client:
        refused = client.post("/console/reconciliation", data={"csrf": token, "day": "2026-03-01"})
    assert refused.status_code == 403
    assert _runs(live) == before


def test_a_support_agent_is_refused(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("support_agent"))
    answer = page.goto(live.url("/console/reconciliation"))
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("h1")).to_have_text("Not open to your role")
