"""The customer view's service panel: cards (masked), money in flight, notices, devices,
security events, and transactions a page at a time -- every look audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from ewallet.agent_context import repository as repo
from ewallet.agent_context import service
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind, chart
from ewallet.models.support_chat import SupportCallback, SupportChat
from tests.fixtures.accounts import TestUser
from tests.fixtures.shop import Shop
from tests.staff_lookup.world import Desk

PHONE = "+8613812345678"


async def test_the_panel_shows_what_service_needs(desk: Desk) -> None:
    shop = desk.shop
    customer = await shop.customer(PHONE, "0")
    card_id = await desk.card(customer, last_four="4321")
    await desk.card(customer, last_four="9999", status="unbound")
    topup_id = await desk.topup(customer, card_id, status="pending", age_s=7200)
    await desk.topup(customer, card_id, status="succeeded")  # done: not listed
    withdrawal_id = await desk.withdrawal(customer, card_id, status="processing", age_s=60)
    await desk.device_sign_in(customer, "iPhone 15")
    agent_id, agent = await desk.staff("support_agent")
    _, risk = await desk.staff("risk_officer")
    path = f"/v1/staff/support/customers/{customer.id}"

    frozen = await shop.client.post(
        f"{path}/freeze", json={"reason": "lost phone, called in"}, headers=agent
    )
    assert frozen.status_code == 200, frozen.text
    body = frozen.json()
    assert body["customer"]["freeze"]["frozen"] is True
    assert sorted((c["last_four"], c["status"]) for c in body["cards"]) == [
        ("4321", "active"),
        ("9999", "unbound"),
    ]
    assert all(set(c) >= {"bank_name", "card_type", "last_four"} for c in body["cards"])
    assert "card_number" not in str(body["cards"])
    assert "621226" not in str(body["cards"])
    [topup] = body["open_topups"]
    assert (topup["id"], topup["status"], topup["card"]) == (topup_id, "pending", "工商银行 (4321)")
    assert topup["age_seconds"] == 7200
    [withdrawal] = body["open_withdrawals"]
    assert (withdrawal["id"], withdrawal["fee"]["amount"]) == (withdrawal_id, "1.00")
    assert [n["kind"] for n in body["notifications"]] == ["account_frozen"]
    assert body["notifications"][0]["title"] == "Account frozen"  # Accept-Language: en
    assert [d["label"] for d in body["devices"]] == ["iPhone 15"]
    actions = [e["action"] for e in body["security_events"]]
    assert actions[:2] == ["account.frozen", "auth.signed_in"]
    signed_in = body["security_events"][1]
    assert (signed_in["device_label"], signed_in["ip"]) == ("iPhone 15", None)
    assert body["security_events"][0]["actor_id"] == agent_id
    assert body["security_events"][0]["details"]["reason"] == "lost phone, called in"
    assert body["guards"]["payment_password_set"] is True
    assert body["guards"]["payment_password_locked_until"] is None

    seen = (await shop.client.get(path, headers=risk)).json()
    assert seen["security_events"][1]["ip"] == "203.0.113.9"  # risk officers: in full
    assert seen["customer"]["phone"] == PHONE


async def top_ups(shop: Shop, customer: TestUser, count: int) -> int:
    """``count`` top-ups into the customer's wallet, a second apart (1.00, 1.01, ... yuan);
    the wallet's ledger account id."""
    ledger = shop.ledger
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    wallet = await chart.open_account(ledger, chart.wallet(customer.id))
    for n in range(count):
        shop.clock.advance(timedelta(seconds=1))
        await ledger.transfer(
            key=f"fund-{n}",
            debit_account_id=bank.id,
            credit_account_id=wallet.id,
            amount=Money(100 + n, "CNY"),
            kind=TransactionKind.TOPUP,
        )
    return wallet.id


async def test_transactions_page_by_cursor(desk: Desk) -> None:
    shop = desk.shop
    customer = await shop.customer(PHONE, "0")
    await top_ups(shop, customer, 25)
    _, agent = await desk.staff("support_agent")
    _, teller = await desk.staff("teller")
    path = f"/v1/staff/support/customers/{customer.id}"

    view = (await shop.client.get(path, headers=agent)).json()
    assert len(view["recent_transactions"]) == 10
    cursor = view["transactions_next_cursor"]
    assert cursor
    seen = [t["id"] for t in view["recent_transactions"]]
    while cursor:
        page = await shop.client.get(
            f"{path}/transactions", params={"cursor": cursor, "limit": 10}, headers=agent
        )
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert len(seen) == len(set(seen)) == 25
    assert len(await desk.events("support.customer_transactions_viewed")) == 2

    before = await desk.audit_count()
    for url, headers, status in (
        (f"{path}/transactions", teller, 403),
        (f"{path}/transactions", {}, 401),
        (f"{path}/transactions", shop.auth(customer), 401),
        ("/v1/staff/support/customers/usr_nobody/transactions", agent, 404),
        (f"{path}/transactions?cursor=%25%25", agent, 422),
        (f"{path}/transactions?limit=0", agent, 422),
    ):
        refused = await shop.client.get(url, headers=headers)
        assert refused.status_code == status, url
        assert "items" not in refused.json()
    assert await desk.audit_count() == before


async def test_refused_freezes_change_nothing(desk: Desk) -> None:
    shop = desk.shop
    customer = await shop.customer(PHONE, "0")
    _, agent = await desk.staff("support_agent")
    _, teller = await desk.staff("teller")
    path = f"/v1/staff/support/customers/{customer.id}"
    before = (await shop.snapshot(customer), await desk.audit_count())
    for url, body, headers, status in (
        (f"{path}/freeze", {"reason": "stolen"}, teller, 403),
        (f"{path}/freeze", {"reason": "stolen"}, {}, 401),
        (f"{path}/freeze", {"reason": "   "}, agent, 422),
        (f"{path}/freeze", {}, agent, 422),
        (f"{path}/unfreeze", {"reason": "checked"}, agent, 409),
        ("/v1/staff/support/customers/usr_nobody/freeze", {"reason": "x"}, agent, 404),
    ):
        refused = await shop.client.post(url, json=body, headers=headers)
        assert refused.status_code == status, (url, body, refused.text)
        assert "customer" not in refused.json()
    assert (await shop.snapshot(customer), await desk.audit_count()) == before


async def test_the_view_in_one_statement_reads_what_the_lists_read(desk: Desk) -> None:
    """On PostgreSQL the customer's row and every list of the view come in one statement
    (JSON arrays read back into the views): the same views, in the same order, as the
    statements one by one; nothing for a customer who does not exist."""
    shop = desk.shop
    customer = await shop.customer(PHONE, "0")
    now = desk.now()
    card_id = await desk.card(customer, last_four="4321")
    await desk.card(customer, last_four="9999", status="unbound")
    await desk.topup(customer, card_id, status="pending", age_s=7200)
    await desk.topup(customer, card_id, status="awaiting_payment", age_s=60)
    await desk.withdrawal(customer, card_id, status="processing", age_s=60)
    await desk.device_sign_in(customer, "iPhone 15")
    await desk.device_sign_in(customer, "Pixel 9")
    for number in range(3):
        await desk.insert(
            SupportChat.__table__,
            id=new_id("cht"),
            user_id=customer.id,
            status="closed",
            locale="zh-CN",
            unhelpful_streak=0,
            created_at=now - timedelta(minutes=number),
            updated_at=now,
            closed_at=now,
            closed_by="customer",
        )
    await desk.insert(
        SupportCallback.__table__,
        id=new_id("cbk"),
        user_id=customer.id,
        phone=PHONE,
        topic="A charge I do not know",
        preferred_from=now + timedelta(hours=1),
        preferred_to=now + timedelta(hours=2),
        status="requested",
        created_at=now,
        updated_at=now,
    )
    _, agent = await desk.staff("support_agent")
    for subject in ("Where is my top-up?", "Card removed by mistake"):
        opened = await shop.client.post(
            "/v1/support/tickets",
            json={"subject": subject, "body": "Please have a look."},
            headers=shop.auth(customer, **{"Idempotency-Key": new_id("key")}),
        )
        assert opened.status_code == 201, opened.text
    frozen = await shop.client.post(
        f"/v1/staff/support/customers/{customer.id}/freeze",
        json={"reason": "lost phone, called in"},
        headers=agent,
    )
    assert frozen.status_code == 200, frozen.text  # a notice and a security event

    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    limits, actions = service.OVERVIEW_LIMITS, service.SECURITY_ACTIONS
    event.listen(shop.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with shop.engine.connect() as conn:
            together = await repo.customer_overview(
                conn, customer.id, limits=limits, actions=actions
            )
            sent = len(statements)
            apart = await repo.customer_overview_stepwise(
                conn, customer.id, limits=limits, actions=actions
            )
            nobody = await repo.customer_overview(
                conn, "usr_nobody", limits=limits, actions=actions
            )
    finally:
        event.remove(shop.engine.sync_engine, "before_cursor_execute", count)
    assert together is not None
    assert apart is not None
    assert nobody is None
    if shop.engine.dialect.name == "postgresql":
        assert sent == 1
    lists = ("tickets", "chats", "callbacks", "cards", "topups", "withdrawals", "notices")
    for name in (*lists, "devices", "events"):
        assert getattr(together, name) == getattr(apart, name), name
        assert getattr(together, name), f"{name}: the test should fill every list"
    row = dict(apart.customer._mapping)
    assert {key: together.customer._mapping[key] for key in row} == row
    newest_first = ["Card removed by mistake", "Where is my top-up?"]
    assert [t.subject for t in together.tickets] == newest_first


async def test_a_view_sends_its_reads_in_few_statements(desk: Desk) -> None:
    """A look at a customer with transactions, on PostgreSQL: the staff session, the
    overview (the customer, the wallet's account id and every list), the history's pending
    holds and page, and the audit append's two -- the wallet is not looked up again, and
    the view is the one the statements one by one would give."""
    shop = desk.shop
    customer = await shop.customer(PHONE, "0")
    wallet_id = await top_ups(shop, customer, 12)
    _, agent = await desk.staff("support_agent")
    path = f"/v1/staff/support/customers/{customer.id}"
    assert (await shop.client.get(path, headers=agent)).status_code == 200  # compiled once

    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    served = shop.services.engine.sync_engine  # the app's own engine
    event.listen(served, "before_cursor_execute", count)
    try:
        seen = await shop.client.get(path, headers=agent)
    finally:
        event.remove(served, "before_cursor_execute", count)
    assert seen.status_code == 200, seen.text
    assert len(seen.json()["recent_transactions"]) == 10
    # The wallet's account is found once: inside the overview on PostgreSQL, as the
    # stepwise reads' own statement on SQLite -- never again by the history.
    wallet_reads = [s for s in statements if s.startswith("SELECT ledger_accounts.id")]
    if shop.engine.dialect.name == "postgresql":
        expected = (
            "SELECT staff_sessions.",  # the staff session
            "SELECT users.",  # the overview
            "SELECT ledger_holds.",  # the history's pending entries
            "SELECT ledger_postings.",  # and its page
            "UPDATE audit_chain_head ",  # the audit append
            "WITH appended AS",
        )
        assert len(statements) == len(expected), statements
        assert all(map(str.startswith, statements, expected)), statements
        assert wallet_reads == []
    else:
        assert len(wallet_reads) == 1
    async with shop.engine.connect() as conn:
        apart = await repo.customer_overview_stepwise(
            conn, customer.id, limits=service.OVERVIEW_LIMITS, actions=service.SECURITY_ACTIONS
        )
        together = await repo.customer_overview(
            conn, customer.id, limits=service.OVERVIEW_LIMITS, actions=service.SECURITY_ACTIONS
        )
    assert apart is not None
    assert together is not None
    assert together.wallet_account_id == apart.wallet_account_id == wallet_id
