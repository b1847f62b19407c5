"""The owner's Developers page (SQLite and PostgreSQL): the API keys -- making one with a
label, rotating and revoking one, each with the authenticator (the old key refused by the
API at once; a wrong code or a bad label changes nothing; another merchant's key is 404)
--, the webhook URL, the delivery log; owners only. In Chromium with axe-core, photographed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Table, select, update

from ewallet.merchants.views import NewMerchant
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import audit_events, merchant_api_keys
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC, WebhookRejectedError, deliver
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import (
    TOTP_STEP,
    LivePortal,
    MemberLogin,
    PortalClient,
    portal_sign_in,
)
from tests.fixtures.web import PHONE_SIZE

KEY = re.compile(r"data-api-key>([^<]+)<")


def fresh_code(live: LivePortal, login: MemberLogin) -> str:
    live.clock.advance(TOTP_STEP)
    return login.code(live.clock)


def wrong_code(live: LivePortal, login: MemberLogin) -> str:
    return "000000" if fresh_code(live, login) != "000000" else "111111"


def api_status(live: LivePortal, key: str) -> int:
    async def ask() -> int:
        answer = await live.shop.client.get(
            "/v1/merchant/orders", headers={"Authorization": f"Bearer {key}"}
        )
        return answer.status_code

    return live.run(ask())


def key_id_of(api_key: str) -> str:
    return api_key.split("_")[1]


def shown_key(html: str) -> str:
    found = KEY.search(html)
    assert found is not None, html[:600]
    return found.group(1).strip()


async def _keys(live: LivePortal, merchant_id: str) -> list[tuple[str, str, bool]]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(merchant_api_keys)
            .where(merchant_api_keys.c.merchant_id == merchant_id)
            .order_by(merchant_api_keys.c.id)
        )
        return [(row.id, row.label, row.revoked_at is None) for row in rows]


@pytest.fixture(scope="module")
def merchant(live: LivePortal) -> NewMerchant:
    return live.merchant("Key Works")


@pytest.fixture(scope="module")
def owner(live: LivePortal, merchant: NewMerchant) -> MemberLogin:
    return live.member(merchant, "owner")


def test_rotating_a_key_needs_the_code_and_stops_it_at_once(live: LivePortal) -> None:
    merchant = live.merchant("Rotate Works")
    owner = live.member(merchant, "owner")
    old_key = merchant.api_key
    rotate = f"/merchant/developers/keys/{key_id_of(old_key)}/rotate"
    assert api_status(live, old_key) == 200
    browser = PortalClient(live, owner)
    try:
        page = browser.client.get("/merchant/developers")
        assert page.status_code == 200
        assert old_key not in page.text  # the key itself is never shown again
        assert f"mk_{key_id_of(old_key)}_…" in page.text
        before = live.run(_keys(live, merchant.merchant.id))
        refused = browser.post(rotate, totp_code=wrong_code(live, owner))
        assert refused.status_code == 400
        assert api_status(live, old_key) == 200  # nothing changed
        assert live.run(_keys(live, merchant.merchant.id)) == before
        code = fresh_code(live, owner)
        rotated = browser.post(rotate, totp_code=code)
        assert rotated.status_code == 200
        assert rotated.headers["cache-control"] == "no-store"
        new_key = shown_key(rotated.text)
        assert api_status(live, old_key) == 401
        assert api_status(live, new_key) == 200
        assert [label for _, label, active in live.run(_keys(live, merchant.merchant.id))] == [
            "default",
            "default",
        ]
        # The same code cannot rotate again; a revoked key cannot be rotated at all.
        again = f"/merchant/developers/keys/{key_id_of(new_key)}/rotate"
        assert browser.post(again, totp_code=code).status_code == 400
        assert browser.post(rotate, totp_code=fresh_code(live, owner)).status_code == 409
        assert api_status(live, new_key) == 200
    finally:
        browser.close()


def test_a_new_key_has_a_label_and_a_refusal_keeps_it(
    live: LivePortal, merchant: NewMerchant, owner: MemberLogin
) -> None:
    browser = PortalClient(live, owner)
    try:
        before = live.run(_keys(live, merchant.merchant.id))
        code = fresh_code(live, owner)
        # A bad label is refused before the code is looked at: the code still works after.
        refused = browser.post("/merchant/developers/keys", label="x" * 41, totp_code=code)
        assert refused.status_code == 422
        assert 'id="label-error"' in refused.text
        assert 'value="' + "x" * 41 + '"' in refused.text
        assert code not in refused.text  # the code is never kept
        wrong = browser.post(
            "/merchant/developers/keys", label="online shop", totp_code=wrong_code(live, owner)
        )
        assert wrong.status_code == 400
        assert 'id="totp_code-error"' in wrong.text
        assert 'value="online shop"' in wrong.text
        assert live.run(_keys(live, merchant.merchant.id)) == before
        made = browser.post(
            "/merchant/developers/keys", label=" online shop ", totp_code=fresh_code(live, owner)
        )
        assert made.status_code == 200
        assert made.headers["cache-control"] == "no-store"
        new_key = shown_key(made.text)
        assert api_status(live, new_key) == 200
        assert api_status(live, merchant.api_key) == 200  # the other key keeps working
        keys = live.run(_keys(live, merchant.merchant.id))
        assert (key_id_of(new_key), "online shop", True) in keys
        page = browser.client.get("/merchant/developers")
        assert "online shop" in page.text
        assert new_key not in page.text
    finally:
        browser.close()


def test_revoking_a_key_needs_the_code_and_another_merchants_key_is_not_found(
    live: LivePortal,
) -> None:
    merchant = live.merchant("Revoke Works")
    owner = live.member(merchant, "owner")
    rival = live.merchant("Revoke Rival")
    browser = PortalClient(live, owner)
    try:
        made = browser.post(
            "/merchant/developers/keys", label="till app", totp_code=fresh_code(live, owner)
        )
        till_key = shown_key(made.text)
        revoke = f"/merchant/developers/keys/{key_id_of(till_key)}/revoke"
        assert browser.post(revoke, totp_code=wrong_code(live, owner)).status_code == 400
        assert api_status(live, till_key) == 200
        done = browser.post(revoke, totp_code=fresh_code(live, owner))
        assert done.status_code == 303
        assert done.headers["location"] == "/merchant/developers?saved=revoked"
        assert api_status(live, till_key) == 401
        assert api_status(live, merchant.api_key) == 200
        page = browser.client.get("/merchant/developers?saved=revoked")
        assert "The key was revoked" in page.text
        assert page.text.count("Revoked") >= 1
        # Again: already revoked; another merchant's key: not found, and it keeps working.
        assert browser.post(revoke, totp_code=fresh_code(live, owner)).status_code == 409
        theirs = key_id_of(rival.api_key)
        for action in ("revoke", "rotate"):
            answer = browser.post(
                f"/merchant/developers/keys/{theirs}/{action}", totp_code=fresh_code(live, owner)
            )
            assert answer.status_code == 404
        assert api_status(live, rival.api_key) == 200
        assert live.run(_key_events(live, merchant.merchant.id)) == [
            ("merchant.key_created", owner.id),
            ("merchant.key_revoked", owner.id),
        ]
    finally:
        browser.close()


async def _key_events(live: LivePortal, merchant_id: str) -> list[tuple[str, str]]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events.c.action, audit_events.c.actor_id)
            .where(
                audit_events.c.subject_id == merchant_id,
                audit_events.c.action.like("merchant.key_%"),
            )
            .order_by(audit_events.c.id)
        )
        return [(row.action, str(row.actor_id)) for row in rows]


def test_the_webhook_url_is_checked_and_saved(
    live: LivePortal, merchant: NewMerchant, owner: MemberLogin
) -> None:
    browser = PortalClient(live, owner)
    try:
        saved = browser.post("/merchant/developers/webhook", url="https://hooks.example/ewallet")
        assert saved.status_code == 303
        page = browser.client.get("/merchant/developers")
        assert 'value="https://hooks.example/ewallet"' in page.text
        refused = browser.post("/merchant/developers/webhook", url="ftp://hooks.example/x")
        assert refused.status_code == 422
        page = browser.client.get("/merchant/developers")
        assert 'value="https://hooks.example/ewallet"' in page.text
    finally:
        browser.close()


def test_only_the_owner_opens_developers(live: LivePortal, merchant: NewMerchant) -> None:
    for role in ("manager", "cashier"):
        browser = PortalClient(live, live.member(merchant, role))
        try:
            assert browser.client.get("/merchant/developers").status_code == 403
            assert browser.post("/merchant/developers/webhook", url="").status_code == 403
            assert browser.post("/merchant/developers/keys", label="x").status_code == 403
            key = key_id_of(merchant.api_key)
            for action in ("rotate", "revoke"):
                path = f"/merchant/developers/keys/{key}/{action}"
                assert browser.post(path, totp_code="123456").status_code == 403
        finally:
            browser.close()
    assert api_status(live, merchant.api_key) == 200


def test_the_owner_manages_keys_and_sees_the_delivery_log_in_the_browser(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    merchant = live.merchant("Hook Bakery")
    owner = live.member(merchant, "owner")
    order_id = live.run(live.shop.order(merchant, "9.90", out_trade_no="H-1"))
    payload = {
        "event_id": "evt_portal_test_1",
        "event_type": "order.paid",
        "merchant_id": merchant.merchant.id,
        "order_id": order_id,
        "url": "http://127.0.0.1:9/hook",  # nothing listens there: a failed delivery
        "body": "{}",
    }
    with pytest.raises(WebhookRejectedError):
        live.run(deliver(live.shop.services, payload, attempt=1))
    portal_sign_in(page, live, owner, landing="/merchant/")
    page.click("nav.portal-nav >> text=Developers")
    expect(page.locator("table[data-list=deliveries]")).to_contain_text("order.paid")
    expect(page.locator("table[data-list=deliveries]")).to_contain_text("Failed")
    keys = page.locator("table[data-list=api-keys]")
    expect(keys.locator("tbody tr")).to_have_count(1)
    expect(keys).to_contain_text(f"mk_{key_id_of(merchant.api_key)}_…")
    _shoot(page, "developers", tmp_path)

    # Make a second key with a label: shown once.
    page.fill("#label", "Online shop")
    page.fill("#totp_code", fresh_code(live, owner))
    page.click("form[data-form=new-key] button[type=submit]")
    made = page.locator("[data-api-key]").inner_text().strip()
    assert made.startswith("mk_")
    page.screenshot(path=str(tmp_path / "new-key.png"), full_page=True)  # a POST's answer
    assert api_status(live, made) == 200
    page.click("text=Done")
    expect(keys.locator("tbody tr")).to_have_count(2)
    expect(keys.locator("tbody tr").first).to_contain_text("Online shop")

    # Rotate the first key from its row.
    row = keys.locator(f"tr[data-key='{key_id_of(merchant.api_key)}']")
    row.locator("input[name=totp_code]").fill(fresh_code(live, owner))
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Rotate')").click()
    rotated = page.locator("[data-api-key]").inner_text().strip()
    assert rotated not in (merchant.api_key, made)
    assert api_status(live, merchant.api_key) == 401
    assert api_status(live, rotated) == 200
    assert api_status(live, made) == 200
    page.click("text=Done")
    expect(keys.locator("tbody tr")).to_have_count(3)
    expect(keys.locator("tbody tr").last).to_contain_text("Revoked")
    page.set_viewport_size({"width": 1280, "height": 800})
    _shoot(page, "developers-keys", tmp_path)
    # In Chinese, at phone size.
    page.goto(live.url("/lang/zh-CN?next=/merchant/developers"))
    page.set_viewport_size(PHONE_SIZE)
    expect(keys.locator("thead")).to_contain_text("轮换或作废")
    page.screenshot(path=str(tmp_path / "developers-zh-phone.png"), full_page=True)


def test_a_failed_delivery_is_replayed_once_its_retries_stopped(live: LivePortal) -> None:
    merchant = live.merchant("Replay Tea")
    owner = live.member(merchant, "owner")
    customer = live.customer("50.00")
    order_id = live.run(
        live.shop.order(merchant, "6.60", out_trade_no="R-1", notify_url="http://127.0.0.1:9/h")
    )
    paid = live.run(live.shop.pay(customer, order_id))
    assert paid.status_code in (200, 201), paid.text
    (event,) = live.run(_webhook_events(live, order_id))
    with pytest.raises(WebhookRejectedError):
        live.run(deliver(live.shop.services, event.payload, attempt=1))
    browser = PortalClient(live, owner)
    rival = PortalClient(live, live.member(live.merchant("Rival Tea"), "owner"))
    try:
        page = browser.client.get("/merchant/developers")
        found = re.search(r"/merchant/developers/deliveries/(\d+)/replay", page.text)
        assert found is not None
        replay = f"/merchant/developers/deliveries/{found.group(1)}/replay"
        # Still being retried by the outbox: nothing queued.
        assert browser.post(replay).status_code == 409
        assert len(live.run(_webhook_events(live, order_id))) == 1
        live.run(_give_up(live, event.id))
        # Another merchant's owner: not found, nothing queued.
        assert rival.post(replay).status_code == 404
        assert len(live.run(_webhook_events(live, order_id))) == 1
        answer = browser.post(replay)
        assert answer.status_code == 303
        queued = live.run(_webhook_events(live, order_id))
        assert len(queued) == 2
        assert queued[-1].status == "pending"
        assert queued[-1].payload == event.payload  # the same event, same id and body
        audited = live.run(_replays(live, event.payload["event_id"]))
        assert audited == [owner.id]
    finally:
        browser.close()
        rival.close()


outbox_events = cast(Table, OutboxEvent.__table__)


async def _webhook_events(live: LivePortal, order_id: str) -> list[Any]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox_events)
            .where(outbox_events.c.topic == WEBHOOK_TOPIC)
            .order_by(outbox_events.c.id)
        )
        return [row for row in rows if row.payload.get("order_id") == order_id]


async def _give_up(live: LivePortal, event_id: int) -> None:
    """What the relay does once an event's attempts ran out."""
    async with live.shop.engine.begin() as conn:
        await conn.execute(
            update(outbox_events).where(outbox_events.c.id == event_id).values(status="dead")
        )


async def _replays(live: LivePortal, event_id: str) -> list[str]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events.c.actor_id).where(
                audit_events.c.action == "webhook.replayed", audit_events.c.subject_id == event_id
            )
        )
        return [str(row.actor_id) for row in rows]


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    check_console_page(page)
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
