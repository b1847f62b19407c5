"""Operations in the console: pending money with its age, the outbox with a dead event
replayed, and maintenance windows created (the wallet shows the banner) and cancelled; a
support agent is refused each page and action, and a refused action changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import func, select, update

from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import audit_events, maintenance_windows
from ewallet.ops import service as maintenance
from ewallet.risk.limits import CHINA_TIME
from ewallet.staff.principal import StaffPrincipal
from tests.fixtures.console import LiveConsole, check_console_page, console_sign_in
from tests.fixtures.web import PHONE_SIZE
from tests.ops_health import rows

PAGES = ("/console/pending", "/console/outbox", "/console/maintenance")


def _count(live: LiveConsole, table: Any, **where: str) -> int:
    async def read() -> int:
        statement = select(func.count()).select_from(table)
        for name, value in where.items():
            statement = statement.where(table.c[name] == value)
        async with live.shop.engine.connect() as conn:
            return int((await conn.execute(statement)).scalar_one())

    return live.run(read())


def _ago(live: LiveConsole, **delta: float) -> datetime:
    return live.clock.now() - timedelta(**delta)


def _accept(dialog: Dialog) -> None:
    dialog.accept()


def _csrf(page: Page) -> str:
    headers: str = page.locator("body").get_attribute("hx-headers") or "{}"
    return str(json.loads(headers)["X-CSRF-Token"])


def test_pending_money_oldest_first_old_ones_marked_each_linked_to_its_customer(
    page: Page, live: LiveConsole
) -> None:
    customer = live.customer()
    engine = live.shop.engine
    card = live.run(rows.insert_card(engine, customer.id, now=live.clock.now()))
    topup = live.run(
        rows.insert_topup(
            engine,
            customer.id,
            method="card",
            status="pending",
            amount=12_345,
            created_at=_ago(live, minutes=45),
            card_id=card,
        )
    )
    withdrawal = live.run(
        rows.insert_withdrawal(
            engine, customer.id, card, status="processing", amount=7_000, created_at=_ago(live)
        )
    )
    operator = live.staff("operator")
    console_sign_in(page, live, operator)

    page.goto(live.url("/console/pending"))

    expect(page.locator("h1")).to_have_text("Pending money")
    viewed = _count(live, audit_events, action="funding.pending_viewed", actor_id=operator.id)
    assert viewed == 1  # the look is on the record
    check_console_page(page)
    old, young = page.locator(f"#item-{topup}"), page.locator(f"#item-{withdrawal}")
    expect(old).to_have_class("row-warn")
    expect(old).to_contain_text("Waiting too long")
    expect(old).to_contain_text("45 min")
    expect(old).to_contain_text("¥123.45")
    expect(old).to_contain_text("Bank's answer unknown")
    expect(young).not_to_have_class("row-warn")
    expect(young).to_contain_text("Bank being asked")
    expect(young).to_contain_text("fee ¥1.00")
    order = page.locator("tbody tr[id^='item-']").evaluate_all("rows => rows.map(r => r.id)")
    assert order.index(f"item-{topup}") < order.index(f"item-{withdrawal}")
    masked = customer.phone[3:6] + "****" + customer.phone[-4:]
    link = old.get_by_role("link", name=masked)
    expect(link).to_have_attribute("href", f"/console/customers/{customer.id}")
    assert customer.phone[3:] not in page.content()

    page.select_option("#kind", "withdrawal")  # the filter submits itself
    page.wait_for_url("**/console/pending?kind=withdrawal*")
    expect(page.locator(f"#item-{withdrawal}")).to_be_visible()
    expect(page.locator(f"#item-{topup}")).to_have_count(0)
    check_console_page(page)


def _sms_counts(page: Page) -> tuple[str, str]:
    row = page.locator("[id='topic-sms.send']")
    due = row.locator("td[data-state=due]").inner_text()
    dead = row.locator("td[data-state=dead]").inner_text()
    return due, dead


def test_a_dead_event_is_replayed_and_the_counts_change(page: Page, live: LiveConsole) -> None:
    engine, now = live.shop.engine, live.clock.now()
    dead = live.run(
        rows.insert_event(
            engine,
            "sms.send",
            now=now,
            status="dead",
            attempts=12,
            payload=rows.SMS_PAYLOAD,
            last_error=rows.SMS_ERROR,
            created_at=_ago(live, hours=1),
        )
    )
    operator = live.staff("operator")
    console_sign_in(page, live, operator)
    page.goto(live.url("/console/outbox"))
    check_console_page(page)
    event = page.locator(f"#event-{dead}")
    expect(event).to_contain_text("gateway refused *** (code ***)")
    assert rows.CODE not in page.content()
    assert "1234 5678" not in page.content()
    due, dead_count = (int(n) for n in _sms_counts(page))

    page.once("dialog", _accept)
    event.get_by_role("button", name=f"Replay event {dead}").click()

    page.wait_for_url(f"**/console/outbox?replayed={dead}")
    expect(page.locator(".alert-ok")).to_contain_text(f"Event {dead} is due again")
    expect(page.locator(f"#event-{dead}")).to_have_count(0)
    assert _sms_counts(page) == (str(due + 1), str(dead_count - 1))
    row = live.run(rows.event_row(engine, dead))
    assert (row.status, row.attempts) == ("pending", 0)
    assert _count(live, audit_events, action="outbox.replayed", subject_id=str(dead)) == 1
    check_console_page(page)


def test_replaying_an_event_no_longer_dead_changes_nothing(page: Page, live: LiveConsole) -> None:
    engine, now = live.shop.engine, live.clock.now()
    dead = live.run(rows.insert_event(engine, "bills.deliver", now=now, status="dead", attempts=3))
    console_sign_in(page, live, live.staff("operator"))
    page.goto(live.url("/console/outbox"))

    # Someone else replays it (and it is delivered) while this page is open.
    async def delivered_meanwhile() -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == dead)
                .values(status="delivered", attempts=1, delivered_at=now)
            )

    live.run(delivered_meanwhile())
    page.once("dialog", _accept)
    page.locator(f"#event-{dead}").get_by_role("button", name=f"Replay event {dead}").click()

    expect(page.locator(".alert-error")).to_have_text(
        f"Only an event given up on can be replayed: outbox event {dead} is delivered"
    )
    assert live.run(rows.event_row(engine, dead)).status == "delivered"
    assert _count(live, audit_events, action="outbox.replayed", subject_id=str(dead)) == 0


def _end_every_window(live: LiveConsole) -> None:
    """Cancel any window still in force or to come (the server's schedule cache included)."""

    async def cancel_all() -> None:
        services = live.shop.services
        cleaner = StaffPrincipal("test-cleanup", "test", "operator", False, live.clock.now())
        for window in await maintenance.list_windows(services):
            await maintenance.cancel_window(services, cleaner, window_id=window.id)

    live.run(cancel_all())


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%dT%H:%M")


def _wallet_banner(browser: Browser, live: LiveConsole) -> str | None:
    """The maintenance banner a customer's phone sees on the wallet, if any."""
    wallet = browser.new_context(locale="en-US", viewport=PHONE_SIZE).new_page()
    try:
        wallet.goto(live.url("/signin"))
        banner = wallet.locator(".banner-warn")
        return banner.inner_text() if banner.count() else None
    finally:
        wallet.context.close()


def _schedule_now(page: Page, live: LiveConsole, message: str) -> None:
    """Schedule a window from now on (the form proposes now to an hour later)."""
    page.goto(live.url("/console/maintenance"))
    page.fill("#message", message)
    page.click("form[action='/console/maintenance'] button[type=submit]")
    page.wait_for_url("**/console/maintenance?done=scheduled")


def test_a_window_scheduled_now_shows_on_the_wallet(
    page: Page, live: LiveConsole, browser: Browser
) -> None:
    operator = live.staff("operator")
    console_sign_in(page, live, operator)
    page.goto(live.url("/console/maintenance"))
    check_console_page(page)
    windows = _count(live, maintenance_windows)

    # Refused: the end before the start; nothing is scheduled.
    later = live.clock.now() + timedelta(hours=2)
    page.fill("#starts_at", _local(later))
    page.fill("#ends_at", _local(later - timedelta(hours=1)))
    page.click("form[action='/console/maintenance'] button[type=submit]")
    expect(page.locator("#ends_at-error")).to_have_text("The end must come after the start.")
    expect(page.locator("#ends_at")).to_have_attribute("aria-invalid", "true")
    assert _count(live, maintenance_windows) == windows
    assert _wallet_banner(browser, live) is None

    try:
        _schedule_now(page, live, "We are upgrading the ledger until 10:00.")
        expect(page.locator(".alert-ok")).to_have_text("The maintenance window is scheduled.")
        row = page.locator("tbody tr", has_text="We are upgrading the ledger")
        expect(row).to_contain_text("In force now")
        expect(page.locator(".banner-warn")).to_contain_text("We are upgrading the ledger")
        scheduled = _count(live, audit_events, action="maintenance.scheduled", actor_id=operator.id)
        assert scheduled == 1
        check_console_page(page)
        assert "We are upgrading the ledger until 10:00." in (_wallet_banner(browser, live) or "")
    finally:
        _end_every_window(live)  # the module's other tests need no window in force


def test_a_window_in_force_is_ended_from_the_console(
    page: Page, live: LiveConsole, browser: Browser
) -> None:
    operator = live.staff("operator")
    console_sign_in(page, live, operator)
    try:
        _schedule_now(page, live, "Back at ten")
        row = page.locator("tbody tr", has_text="Back at ten")
        page.once("dialog", _accept)
        row.get_by_role("button", name="End now").click()
        expect(page.locator(".alert-ok")).to_have_text(
            "The maintenance window is cancelled.", timeout=1500
        )
    finally:
        _end_every_window(live)
    expect(page.locator("tbody tr", has_text="Back at ten")).to_have_count(0)
    assert _count(live, audit_events, action="maintenance.cancelled", actor_id=operator.id) == 1
    assert _wallet_banner(browser, live) is None


def test_an_upcoming_window_is_cancelled_before_it_starts(page: Page, live: LiveConsole) -> None:
    console_sign_in(page, live, live.staff("operator"))
    page.goto(live.url("/console/maintenance"))
    start = live.clock.now() + timedelta(days=1)
    page.fill("#starts_at", _local(start))
    page.fill("#ends_at", _local(start + timedelta(hours=2)))
    page.fill("#message", "Tomorrow's upgrade")
    page.click("form[action='/console/maintenance'] button[type=submit]")
    row = page.locator("tbody tr", has_text="Tomorrow's upgrade")
    expect(row).to_contain_text("Upcoming")
    expect(page.locator(".banner-warn")).to_have_count(0)
    page.once("dialog", _accept)
    row.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/console/maintenance?done=cancelled")
    expect(page.locator("tbody tr", has_text="Tomorrow's upgrade")).to_have_count(0)


def test_a_support_agent_is_refused_every_page_and_action(page: Page, live: LiveConsole) -> None:
    engine, now = live.shop.engine, live.clock.now()
    dead = live.run(rows.insert_event(engine, "sms.send", now=now, status="dead", attempts=12))
    console_sign_in(page, live, live.staff("support_agent"))
    links = page.locator("nav.sidenav a").evaluate_all("links => links.map(a => a.pathname)")
    assert not set(PAGES) & set(links)
    for path in PAGES:
        answer = page.goto(live.url(path))
        assert answer is not None
        assert answer.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
    check_console_page(page)

    windows, audited = _count(live, maintenance_windows), _count(live, audit_events)
    token = _csrf(page)
    start, end = _local(now + timedelta(days=2)), _local(now + timedelta(days=2, hours=1))
    refused = [
        page.request.post(live.url(f"/console/outbox/{dead}/replay"), form={"csrf": token}),
        page.request.post(
            live.url("/console/maintenance"),
            form={"csrf": token, "starts_at": start, "ends_at": end},
        ),
    ]
    assert [answer.status for answer in refused] == [403, 403]
    assert live.run(rows.event_row(engine, dead)).status == "dead"
    assert _count(live, maintenance_windows) == windows
    assert _count(live, audit_events) == audited


def test_no_session_or_no_csrf_token_changes_nothing(page: Page, live: LiveConsole) -> None:
    engine, now = live.shop.engine, live.clock.now()
    dead = live.run(rows.insert_event(engine, "sms.send", now=now, status="dead", attempts=12))
    for path in PAGES:
        page.goto(live.url(path))
        assert "/console/signin?next=" in page.url, path
    answer = page.request.post(live.url(f"/console/outbox/{dead}/replay"), max_redirects=0)
    assert answer.status == 303
    assert "/console/signin" in (answer.headers.get("location") or "")

    console_sign_in(page, live, live.staff("operator"))
    answer = page.request.post(live.url(f"/console/outbox/{dead}/replay"), form={"csrf": "x"})
    assert answer.status == 403
    assert live.run(rows.event_row(engine, dead)).status == "dead"
    token = _csrf(page)
    for made_up in ("999999999", "x0000000000", "²", "9" * 20):
        answer = page.request.post(
            live.url(f"/console/outbox/{made_up}/replay"), form={"csrf": token}
        )
        assert answer.status == 404, made_up
    answer = page.request.post(
        live.url("/console/maintenance/mw_made_up/cancel"), form={"csrf": token}
    )
    assert answer.status == 404
