"""The owner's Developers page (SQLite and PostgreSQL): rotating the API key with the
authenticator (the old key refused by the API at once; a wrong code changes nothing), the
webhook URL, the delivery log; owners only. In Chromium with axe-core, photographed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Table, select, update

from ewallet.merchants.views import NewMerchant
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import audit_events
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC, WebhookRejectedError, deliver
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import (
    TOTP_STEP,
    LivePortal,
    MemberLogin,
    PortalClient,
    portal_sign_in,
)

KEY = re.compile(r"data-api-key>([^<]+)<")


def fresh_code(live: LivePortal, login: MemberLogin) -> str:
    live.clock.advance(TOTP_STEP)
    return login.code(live.clock)


def api_status(live: LivePortal, key: str) -> int:
    async def ask() -> int:
        answer = await live.shop.client.get(
            "/v1/merchant/orders", headers={"Authorization": f"Bearer {key}"}
        )
        return answer.status_code

    return live.run(ask())


@pytest.fixture(scope="module")
def merchant(live: LivePortal) -> NewMerchant:
    return live.merchant("Key Works")


@pytest.fixture(scope="module")
def owner(live: LivePortal, merchant: NewMerchant) -> MemberLogin:
    return live.member(merchant, "owner")


def test_rotating_the_key_needs_the_code_and_stops_the_old_key_at_once(
    live: LivePortal, merchant: NewMerchant, owner: MemberLogin
) -> None:
    old_key = merchant.api_key
    assert api_status(live, old_key) == 200
    browser = PortalClient(live, owner)
    try:
        page = browser.client.get("/merchant/developers")
        assert page.status_code == 200
        assert old_key not in page.text  # the key itself is never shown again
        wrong = "000000" if fresh_code(live, owner) != "000000" else "111111"
        refused = browser.post("/merchant/developers/rotate", totp_code=wrong)
        assert refused.status_code == 400
        assert api_status(live, old_key) == 200  # nothing changed
        rotated = browser.post("/merchant/developers/rotate", totp_code=fresh_code(live, owner))
        assert rotated.status_code == 200
        assert rotated.headers["cache-control"] == "no-store"
        found = KEY.search(rotated.text)
        assert found is not None
        new_key = found.group(1).strip()
        assert api_status(live, old_key) == 401
        assert api_status(live, new_key) == 200
        # The same code cannot rotate it again.
        live.clock.advance(TOTP_STEP)
        code = owner.code(live.clock)
        assert browser.post("/merchant/developers/rotate", totp_code=code).status_code == 200
        assert browser.post("/merchant/developers/rotate", totp_code=code).status_code == 400
    finally:
        browser.close()


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
        finally:
            browser.close()


def test_the_owner_sees_the_delivery_log_and_rotates_in_the_browser(
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
    _shoot(page, "developers", tmp_path)
    page.fill("#totp_code", fresh_code(live, owner))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action='/merchant/developers/rotate'] button[type=submit]")
    key = page.locator("[data-api-key]").inner_text().strip()
    assert key
    assert key != merchant.api_key
    page.screenshot(path=str(tmp_path / "new-key.png"), full_page=True)
    assert api_status(live, merchant.api_key) == 401
    assert api_status(live, key) == 200


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
