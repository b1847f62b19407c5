"""Compliance and administration in Chromium: the audit log with the chain's status, and
staff management -- adding a member who signs in with the secret shown, a lost
authenticator replaced by two admins in two browsers, a role change, and every page and
form refused to other roles with nothing changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select, update

from ewallet.kit.db.base import Base
from tests.audit.helpers import tampering
from tests.fixtures.console import (
    TOTP_STEP,
    LiveConsole,
    check_console_page,
    console_sign_in,
    open_console_page,
)
from tests.fixtures.staff import events_table, staff_table
from tests.fixtures.web import PageErrors

resets_table = Base.metadata.tables["staff_totp_resets"]


@pytest.fixture
def third_page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """A third browser: the staff member whose authenticator or role changes."""
    opened = open_console_page(browser, errors=page_errors)
    yield opened
    opened.context.close()


def _scalar(live: LiveConsole, statement: Any) -> Any:
    async def read() -> Any:
        async with live.shop.engine.connect() as conn:
            return (await conn.execute(statement)).scalar()

    return live.run(read())


def _events(live: LiveConsole, action: str, **where: str) -> int:
    statement = select(func.count()).where(events_table.c.action == action)
    for column, value in where.items():
        statement = statement.where(events_table.c[column] == value)
    return int(_scalar(live, statement))


def _staff_row(live: LiveConsole, staff_id: str) -> Any:
    async def read() -> Any:
        async with live.shop.engine.connect() as conn:
            return (
                await conn.execute(select(staff_table).where(staff_table.c.id == staff_id))
            ).one()

    return live.run(read())


def _csrf(page: Page) -> str:
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return token


def _sign_in_by_hand(page: Page, live: LiveConsole, email: str, password: str, secret: str) -> None:
    live.clock.advance(TOTP_STEP)
    page.goto(live.url("/console/signin"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#totp_code", pyotp.TOTP(secret).at(live.clock.now()))
    page.click("form[action='/console/signin'] button[type=submit]")
    page.wait_for_load_state()


def test_audit_search_with_the_chain_status(page: Page, live: LiveConsole) -> None:
    officer = live.staff("risk_officer")
    console_sign_in(page, live, officer, next_path="/console/audit")
    assert page.url.endswith("/console/audit")
    expect(page.locator(".chain-ok h2")).to_contain_text("Chain verified")
    expect(page.locator("#main a[href='/console/counter/large-cash']")).to_be_visible()
    check_console_page(page)

    page.fill("#action", "staff.")
    page.fill("#actor_id", officer.id)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    actions = page.locator(".audit-table tbody tr td:nth-child(4)").all_inner_texts()
    assert "staff.signed_in" in actions
    assert all(action.startswith("staff.") for action in actions)
    check_console_page(page)

    page.locator(".audit-table tbody tr td:first-child a").first.click()
    page.wait_for_load_state()
    assert re.search(r"/console/audit/events/\d+$", page.url)
    expect(page.locator(".checks")).to_contain_text("Content matches its hash")
    expect(page.locator(".checks")).to_contain_text("Linked to the event before it")
    check_console_page(page)
    event_id = page.url.rsplit("/", 1)[1]
    assert _events(live, "audit.viewed", actor_id=officer.id, subject_id=event_id) >= 1
    searches = _events(live, "audit.viewed", actor_id=officer.id)
    assert searches >= 3  # the first look, the search, the event (and check_page's reloads)

    page.goto(live.url("/console/audit?from=not-a-date"))
    expect(page.locator(".alert-error")).to_be_visible()


def test_a_broken_chain_is_shown_in_red_with_what_to_do(page: Page, live: LiveConsole) -> None:
    officer = live.staff("risk_officer")
    console_sign_in(page, live, officer, next_path="/console/audit")
    expect(page.locator(".chain-ok")).to_be_visible()
    newest = int(_scalar(live, select(func.max(events_table.c.id))))
    original = _scalar(live, select(events_table.c.details).where(events_table.c.id == newest))

    async def set_details(details: dict[str, Any]) -> None:
        async with tampering(live.shop.engine) as conn:
            await conn.execute(
                update(events_table).where(events_table.c.id == newest).values(details=details)
            )

    live.run(set_details({"forged": True}))
    try:
        page.goto(live.url("/console/audit"))
        alert = page.locator(".chain-bad")
        expect(alert).to_contain_text(f"Chain broken at event {newest}")
        expect(alert).to_contain_text("What to do now")
        check_console_page(page)
        assert _events(live, "audit.chain_broken", subject_id=str(newest)) == 1
        page.click(f".chain-bad a[href='/console/audit/events/{newest}']")
        expect(page.locator(".checks")).to_contain_text("Content does not match its hash")
    finally:
        live.run(set_details(original))
    page.goto(live.url("/console/audit"))
    expect(page.locator(".chain-ok")).to_be_visible()
    assert _events(live, "audit.chain_broken", subject_id=str(newest)) == 1


def test_a_new_staff_member_signs_in_with_the_secret_shown(
    page: Page, second_page: Page, live: LiveConsole
) -> None:
    admin = live.staff("admin")
    console_sign_in(page, live, admin, next_path="/console/staff")
    check_console_page(page)
    page.click("a[href='/console/staff/new']")
    check_console_page(page)
    email = f"new.teller.{live.backend}@bank.example"
    page.fill("#email", email)
    page.fill("#name", "Wang Fang")
    page.select_option("#role", "teller")
    page.click("form[action='/console/staff'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Wang Fang is added")
    expect(page.locator("svg.qr")).to_be_visible()
    password = page.input_value("#one-time-password")
    secret = page.input_value("#totp-secret").replace(" ", "")
    assert len(password) >= 12
    assert len(secret) == 32
    assert _events(live, "staff.created", actor_id=admin.id) == 1

    _sign_in_by_hand(second_page, live, email, password, secret)
    assert second_page.url.endswith("/console/password")  # the one-time password first

    # A second account with the same email is refused, the form keeping what was typed.
    page.goto(live.url("/console/staff/new"))
    page.fill("#email", email.upper())
    page.select_option("#role", "operator")
    page.click("form[action='/console/staff'] button[type=submit]")
    expect(page.locator(".alert-error")).to_contain_text("exists already")
    assert page.input_value("#email") == email.upper()


def test_a_totp_reset_asked_by_one_admin_is_approved_by_another(
    page: Page, second_page: Page, third_page: Page, live: LiveConsole
) -> None:
    maker, checker = live.staff("admin"), live.staff("admin")
    teller = live.staff("teller")
    console_sign_in(third_page, live, teller)
    console_sign_in(page, live, maker, next_path=f"/console/staff/{teller.id}")
    check_console_page(page)
    page.fill("#reason", "Phone lost on the way home")
    page.click(f"form[action='/console/staff/{teller.id}/totp-resets'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("Another administrator must now approve it")
    reset_id = str(
        _scalar(live, select(resets_table.c.id).where(resets_table.c.staff_id == teller.id))
    )

    # The admin who asked is not offered the approval, and a forged post is refused.
    page.goto(live.url("/console/staff"))
    row = page.locator("table.resets tbody tr", has_text=teller.email)
    expect(row).to_contain_text("You asked for this")
    expect(row.locator("form[action$='/approve']")).to_have_count(0)
    check_console_page(page)
    before = _staff_row(live, teller.id)
    refused = page.request.post(
        live.url(f"/console/staff/totp-resets/{reset_id}/approve"),
        form={"csrf": _csrf(page)},
        headers={"Accept-Language": "en"},
    )
    assert refused.status == 403
    assert "another administrator must approve it" in refused.text()
    assert _staff_row(live, teller.id) == before
    status = _scalar(live, select(resets_table.c.status).where(resets_table.c.id == reset_id))
    assert status == "pending"
    assert _events(live, "staff.totp_reset_approved", subject_id=teller.id) == 0

    # The second admin approves in their own browser and sees the new secret once.
    console_sign_in(second_page, live, checker, next_path="/console/staff")
    second_page.locator(
        f"form[action='/console/staff/totp-resets/{reset_id}/approve'] button"
    ).click()
    second_page.wait_for_load_state()
    expect(second_page.locator("h1")).to_have_text(f"New authenticator for {teller.email}")
    expect(second_page.locator("svg.qr")).to_be_visible()
    secret = second_page.input_value("#totp-secret").replace(" ", "")
    check_console_page(second_page)
    assert _events(live, "staff.totp_reset_approved", actor_id=checker.id) == 1

    # The teller's session ended; the old authenticator no longer opens the console.
    third_page.goto(live.url("/console/"))
    assert "/console/signin" in third_page.url
    _sign_in_by_hand(third_page, live, teller.email, teller.password, teller.totp_secret)
    expect(third_page.locator(".alert-error")).to_be_visible()
    _sign_in_by_hand(third_page, live, teller.email, teller.password, secret)
    expect(third_page.locator("nav.sidenav")).to_be_visible()


def test_a_role_change_applies_at_once(page: Page, second_page: Page, live: LiveConsole) -> None:
    admin, agent = live.staff("admin"), live.staff("support_agent")
    console_sign_in(second_page, live, agent)
    console_sign_in(page, live, admin, next_path=f"/console/staff/{admin.id}")
    expect(page.locator("form[action$='/role']")).to_have_count(0)  # not one's own
    page.goto(live.url(f"/console/staff/{agent.id}"))
    page.select_option("#role", "operator")
    page.click(f"form[action='/console/staff/{agent.id}/role'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("The role is changed")
    expect(page.locator(".kv")).to_contain_text("Operator")
    assert _staff_row(live, agent.id).role == "operator"
    assert _events(live, "staff.role_changed", subject_id=agent.id) == 1
    second_page.goto(live.url("/console/tickets"))
    assert "/console/signin" in second_page.url

    page.check("input[name=confirm]")
    page.click(f"form[action='/console/staff/{agent.id}/disable'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("The account is disabled")
    assert _staff_row(live, agent.id).status == "disabled"


def _refused(page: Page, live: LiveConsole, path: str) -> None:
    response = page.goto(live.url(path))
    assert response is not None
    assert response.status == 403, path
    expect(page.locator("h1")).to_have_text("Not open to your role")


def test_other_roles_and_strangers_are_refused(page: Page, live: LiveConsole) -> None:
    officer, agent = live.staff("risk_officer"), live.staff("support_agent")
    target = live.staff("teller")
    console_sign_in(page, live, officer)
    links = page.locator("nav.sidenav a").evaluate_all("links => links.map(a => a.pathname)")
    assert "/console/audit" in links
    assert "/console/staff" not in links
    for path in ("/console/staff", "/console/staff/new", f"/console/staff/{target.id}"):
        _refused(page, live, path)
    check_console_page(page)
    before = _staff_row(live, target.id)
    events = int(_scalar(live, select(func.count()).select_from(events_table)))
    token = _csrf(page)
    for action, form in (
        (f"/console/staff/{target.id}/role", {"role": "admin"}),
        (f"/console/staff/{target.id}/disable", {"confirm": "yes"}),
        (f"/console/staff/{target.id}/totp-resets", {"reason": "x"}),
        ("/console/staff", {"email": "sneaky@bank.example", "role": "admin"}),
    ):
        response = page.request.post(live.url(action), form={"csrf": token, **form})
        assert response.status == 403, action
    assert _staff_row(live, target.id) == before
    assert int(_scalar(live, select(func.count()).select_from(events_table))) == events

    agent_page = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    try:
        console_sign_in(agent_page, live, agent)
        _refused(agent_page, live, "/console/audit")
        _refused(agent_page, live, "/console/audit/events/1")
    finally:
        agent_page.context.close()

    stranger = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    try:
        for path in ("/console/audit", "/console/staff", f"/console/staff/{target.id}"):
            stranger.goto(live.url(path))
            assert "/console/signin?next=" in stranger.url, path
    finally:
        stranger.context.close()


def test_another_admins_unknown_ids_are_not_found(page: Page, live: LiveConsole) -> None:
    admin = live.staff("admin")
    console_sign_in(page, live, admin, next_path="/console/staff")
    response = page.goto(live.url("/console/staff/stf_nobody"))
    assert response is not None
    assert response.status == 404
    refused = page.request.post(
        live.url("/console/staff/totp-resets/tre_nothing/approve"), form={"csrf": _csrf(page)}
    )
    assert refused.status == 404
    missing = page.goto(live.url("/console/audit/events/999999999"))
    assert missing is not None
    assert missing.status == 404
