"""The console's risk area in Chromium: a risk officer edits a draft rule (a condition that
does not compile is shown with its message and place, then fixed), validates and activates
the set, and reads the decision the new rule made on a real transfer; the rule hits; and
who may open what -- a support agent sees no risk link and is refused every risk page and
form, with nothing changed.

One served app per backend and one Chromium for the module (tests/console/conftest.py).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.kit.money import Money
from ewallet.models.risk import RuleAction, RuleMode
from ewallet.models.tables import risk_rule_sets
from ewallet.risk.rules import service as rules_service
from ewallet.risk.rules.views import RuleView
from ewallet.transfers.service import create_transfer
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.console import LiveConsole, check_console_page, console_sign_in
from tests.fixtures.staff import StaffLogin, events_table
from tests.fixtures.transfers import transfer

RULES = "/console/risk/rules"
EN = {"Accept-Language": "en"}


def _signed_in(page: Page, live: LiveConsole, role: str) -> StaffLogin:
    login = live.staff(role)
    console_sign_in(page, live, login)
    return login


def _rule_sets(live: LiveConsole) -> dict[int, str]:
    async def read() -> dict[int, str]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(select(risk_rule_sets.c.version, risk_rule_sets.c.state))
            return {int(row.version): str(row.state) for row in rows}

    return live.run(read())


def _audited(live: LiveConsole, action: str) -> list[Any]:
    async def read() -> list[Any]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(select(events_table).where(events_table.c.action == action))
            return list(rows)

    return live.run(read())


def _new_draft(page: Page, live: LiveConsole, note: str) -> int:
    page.goto(live.url(RULES))
    page.fill("#note", note)
    page.click("form[action='/console/risk/rules'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("Draft created")
    return int(page.url.split("/console/risk/rules/")[1].split("?")[0])


def _fill_rule(page: Page, *, name: str, condition: str, events: tuple[str, ...]) -> None:
    page.fill("#name", name)
    page.fill("#description", "Large transfers are stopped while the test runs")
    page.fill("#condition", condition)
    page.select_option("#action", "block")
    page.select_option("#mode", "live")
    for event in events:
        page.check(f"input[name='event_{event}']")


def _save(page: Page) -> None:
    page.click("form.risk-rule-form button[type=submit]")
    page.wait_for_load_state()


def test_a_risk_officer_fixes_a_rule_activates_it_and_reads_its_decision(
    page: Page, live: LiveConsole
) -> None:
    officer = _signed_in(page, live, "risk_officer")
    expect(page.locator("nav.sidenav")).to_contain_text("Rule sets")
    page.goto(live.url(RULES))
    expect(page.locator("h1")).to_have_text("Risk rules")
    expect(page.locator("[data-list='rule-sets'] [data-state='active']")).to_have_count(1)
    check_console_page(page)
    before = _rule_sets(live)

    version = _new_draft(page, live, "Stop large transfers")
    assert _rule_sets(live)[version] == "draft"
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    check_console_page(page)
    # The draft is a copy of the active set: the default rules are there.
    expect(page.locator("[data-rule='rapid-in-out']")).to_have_count(1)

    # A condition with a syntax error: the compiler's message, the place marked, kept typed.
    page.click("a:has-text('Add a rule')")
    page.wait_for_load_state()
    check_console_page(page)
    _fill_rule(page, name="big-transfer", condition="amount >= 50 and", events=("transfer",))
    _save(page)
    problem = page.locator("#condition-problem")
    expect(problem).to_contain_text("does not compile, at line 1, column")
    expect(page.locator("#condition")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#condition")).to_have_value("amount >= 50 and")
    expect(page.locator("#name")).to_have_value("big-transfer")
    expect(page.locator("input[name='event_transfer']")).to_be_checked()
    assert page.evaluate("document.activeElement.id") == "condition"  # the cursor is put there
    check_console_page(page)
    assert not _audited(live, "risk.rule_saved")  # refused: nothing saved

    # An unknown feature: the compiler's suggestion is shown.
    page.fill("#condition", "amout >= 50")
    _save(page)
    expect(problem).to_contain_text("did you mean 'amount'")
    expect(problem.locator("mark")).to_have_text("a")

    # Fixed: saved, listed in the draft.
    page.fill("#condition", "amount >= 50")
    _save(page)
    expect(page.locator(".alert-ok")).to_contain_text("saved in the draft")
    row = page.locator("[data-rule='big-transfer']")
    expect(row.locator("code.condition")).to_have_text("amount >= 50")
    expect(row).to_contain_text("Block")
    [saved] = _audited(live, "risk.rule_saved")
    assert saved.actor_id == officer.id

    # Remove a default rule that would otherwise review these transfers, then validate.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"form[action='/console/risk/rules/{version}/rules/rapid-in-out/delete'] button")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("removed")
    expect(page.locator("[data-rule='rapid-in-out']")).to_have_count(0)
    page.click(f"form[action='/console/risk/rules/{version}/validate'] button")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("ready to activate")
    check_console_page(page)

    # Activate, confirming the dialog: it becomes active, the old set retires.
    page.goto(live.url(f"{RULES}/{version}"))
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click(f"form[action='/console/risk/rules/{version}/activate'] button")
    page.wait_for_load_state()
    assert len(asked) == 1
    assert f"Activate version {version}?" in asked[0]
    expect(page.locator(".alert-ok")).to_contain_text("Activated")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    expect(page.locator("form[action$='/activate']")).to_have_count(0)  # never changes again
    states = _rule_sets(live)
    assert states[version] == "active"
    assert [v for v, state in states.items() if state == "active"] == [version]
    assert all(states[v] == "retired" for v, s in before.items() if s == "active")

    # The rule decides a real transfer: blocked, nothing moved.
    alice, bob = live.customer("500.00"), live.customer("0.00")
    refused = live.run(transfer(live.shop, alice, bob.phone, "80.00"))
    assert refused.status_code == 403, refused.text
    assert live.balance(bob) == 0

    # The officer finds the decision by the customer and reads it explained.
    page.goto(live.url(f"/console/risk/decisions?user_id={alice.id}&verdict=block"))
    rows = page.locator("[data-list='decisions'] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("big-transfer")
    expect(rows.first).to_contain_text("¥80.00")
    check_console_page(page)
    rows.first.locator("a").first.click()
    page.wait_for_load_state()
    expect(page.locator("h1 .badge")).to_have_text("Blocked")
    fired = page.locator("[data-fired='big-transfer']")
    expect(fired.locator(".condition-source")).to_have_text("amount >= 50")
    expect(fired.locator(".seen")).to_contain_text("amount")
    expect(fired.locator(".seen")).to_contain_text("80.00")
    expect(page.locator(f"a[href='/console/risk/rules/{version}']")).to_be_visible()
    check_console_page(page)

    # The hit is counted for today.
    page.goto(live.url("/console/risk/hits"))
    hit = page.locator("[data-list='hits'] tr[data-rule='big-transfer']")
    expect(hit.locator(".total")).to_have_text("1")
    check_console_page(page)


def test_an_active_set_never_changes_and_unknown_ids_are_not_found(
    page: Page, live: LiveConsole
) -> None:
    _signed_in(page, live, "risk_officer")
    page.goto(live.url(RULES))
    active = page.locator("[data-list='rule-sets'] tr:has([data-state='active'])")
    version = int(active.get_attribute("data-version") or "0")
    page.goto(live.url(f"{RULES}/{version}"))
    expect(page.locator("a:has-text('Add a rule')")).to_have_count(0)
    expect(page.locator("button:has-text('Create a draft from this version')")).to_be_visible()

    # A crafted save on the active set is refused by the service, and said so.
    csrf = page.locator("input[name=csrf]").first.input_value()
    answer = page.request.post(
        live.url(f"{RULES}/{version}/rules"),
        form={
            "csrf": csrf,
            "name": "sneaky",
            "description": "x",
            "condition": "amount > 1",
            "action": "block",
            "mode": "live",
            "event_transfer": "1",
        },
        headers=EN,
        max_redirects=0,
    )
    assert answer.status == 409
    assert "no longer a draft" in answer.text()
    page.goto(live.url(f"{RULES}/{version}"))
    expect(page.locator("[data-rule='sneaky']")).to_have_count(0)

    for path in (
        f"{RULES}/999999",
        "/console/risk/decisions/rdc_nope",
        f"{RULES}/{version}/rules/nope",
    ):
        assert page.request.get(live.url(path)).status == 404, path

    # The range of the hits page is checked.
    page.goto(live.url("/console/risk/hits?from=2026-12-07&to=2026-01-01"))
    expect(page.locator(".alert-error")).to_contain_text("at most 366 days")


def test_a_support_agent_sees_no_risk_page(page: Page, live: LiveConsole) -> None:
    before = _rule_sets(live)
    _signed_in(page, live, "support_agent")
    expect(page.locator("nav.sidenav")).not_to_contain_text("Rule sets")
    expect(page.locator("nav.sidenav")).not_to_contain_text("Decisions")
    expect(page.locator("nav.sidenav")).not_to_contain_text("Review queue")
    pages = (RULES, f"{RULES}/1", "/console/risk/decisions", "/console/risk/hits")
    for path in (*pages, "/console/risk/reviews"):
        answer = page.goto(live.url(path))
        assert answer is not None
        assert answer.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
    # Forms with a valid token are refused too, and change nothing.
    csrf = page.locator("input[name=csrf]").first.input_value()
    posts = (RULES, f"{RULES}/1/activate", f"{RULES}/1/rules/rapid-in-out/delete")
    for path in (*posts, "/console/risk/reviews/rvw_x/approve"):
        posted = page.request.post(live.url(path), form={"csrf": csrf}, max_redirects=0)
        assert posted.status == 403, path
    assert _rule_sets(live) == before


def test_the_rule_pages_speak_chinese(browser_zh: Page, live: LiveConsole) -> None:
    _signed_in(browser_zh, live, "risk_officer")
    browser_zh.goto(live.url(RULES))
    expect(browser_zh.locator("h1")).to_have_text("风险规则")
    expect(browser_zh.locator("nav.sidenav")).to_contain_text("规则集")
    browser_zh.goto(live.url("/console/risk/decisions"))
    expect(browser_zh.locator("h1")).to_have_text("风险决策")


# ------------------------------------------------------------------------------ reviews


async def _hold_a_transfer(live: LiveConsole, payer: TestUser, payee: TestUser, amount: str) -> str:
    """A rule set that reviews every transfer, activated through the editing service; then
    a transfer through the transfers service, which the seam holds for review."""
    services = live.shop.services
    staff = Actor("staff", "stf_test")
    draft = await rules_service.create_draft(services, staff, from_version=None, note="reviews")
    for old in draft.rules:
        await rules_service.delete_rule(services, staff, version=draft.version, name=old.name)
    await rules_service.save_rule(
        services,
        staff,
        version=draft.version,
        rule=RuleView(
            name="review-every-transfer",
            description="every transfer waits for a risk officer",
            events=("transfer",),
            condition="amount >= 1",
            action=RuleAction.REVIEW,
            mode=RuleMode.LIVE,
            freeze_account=False,
            position=0,
        ),
    )
    await rules_service.activate_rule_set(services, staff, version=draft.version)
    held = await create_transfer(
        services,
        Actor("user", payer.id),
        sender_id=payer.id,
        to_phone=payee.phone,
        amount=Money.parse(amount),
        memo=None,
        payment_password=PIN,
    )
    return held.id


def test_a_held_transfer_is_approved_in_the_queue_and_credited_once(
    page: Page, live: LiveConsole
) -> None:
    payer, payee = live.customer("300.00"), live.customer("0.00")
    transfer_id = live.run(_hold_a_transfer(live, payer, payee, "120.00"))
    assert live.balance(payee) == 0  # held, not moved

    _signed_in(page, live, "risk_officer")
    expect(page.locator("nav.sidenav")).to_contain_text("Review queue")
    page.goto(live.url("/console/risk/reviews"))
    row = page.locator("[data-list='reviews'] tr", has_text="¥120.00")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(payer.phone[-4:])
    assert payer.phone[3:] not in row.inner_text()  # the payer's phone is masked
    check_console_page(page)
    row.locator("a").click()
    page.wait_for_load_state()
    expect(page.locator("h1 [data-state]")).to_have_text("Open")
    why = page.locator("[data-fired='review-every-transfer']")
    expect(why.locator(".condition-source")).to_have_text("amount >= 1")
    expect(why.locator(".seen")).to_contain_text("120.00")
    expect(page.locator("[data-list='recent-decisions'] tr.row-warn")).to_have_count(1)
    expect(page.locator("[data-list='recent-transactions']")).to_contain_text("¥120.00")
    check_console_page(page)
    review_id = page.url.rsplit("/", 1)[1]

    # No note: refused by the service, nothing moved.
    csrf = page.locator("input[name=csrf]").first.input_value()
    path = f"/console/risk/reviews/{review_id}/approve"
    refused = page.request.post(
        live.url(path), form={"csrf": csrf, "note": " "}, headers=EN, max_redirects=0
    )
    assert refused.status == 422
    assert "Write a note" in refused.text()
    assert live.balance(payee) == 0

    page.fill("#note", "Called the payer on the number on file: a rent payment")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form#decide-form button.button-primary")
    page.wait_for_load_state()
    expect(page.locator(".alert-ok")).to_contain_text("Approved")
    expect(page.locator("h1 [data-state]")).to_have_text("Approved")
    expect(page.locator("#decide-form")).to_have_count(0)
    assert live.balance(payee) == 120_00

    # A second decision (a stale tab, a colleague) changes nothing and says who decided.
    again = page.request.post(
        live.url(f"/console/risk/reviews/{review_id}/reject"),
        form={"csrf": csrf, "note": "too late"},
        headers=EN,
        max_redirects=0,
    )
    assert again.status == 409
    assert "Already decided: approved by" in again.text()
    assert live.balance(payee) == 120_00
    assert live.balance(payer) == 180_00
    [approved] = _audited(live, "risk.review_approved")
    assert approved.subject_id == review_id
    assert transfer_id.startswith("trf_")

    # The queue no longer lists it as open; the approved filter does.
    page.goto(live.url("/console/risk/reviews"))
    expect(page.locator(f"[data-review='{review_id}']")).to_have_count(0)
    page.goto(live.url("/console/risk/reviews?state=approved"))
    expect(page.locator(f"[data-review='{review_id}']")).to_have_count(1)
