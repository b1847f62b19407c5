"""Binding, confirming, listing and unbinding cards through the app and the sandbox bank."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select, update

from ewallet.kit.ids import new_id
from ewallet.models.identity import CodePurpose
from ewallet.models.tables import cards, topups, users
from ewallet.sandbox.bank.cards import TEST_CARDS, SandboxCard
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.cards import bank_code, bind, bind_body

ICBC, CCB = TEST_CARDS[0], TEST_CARDS[1]
CREDIT = next(card for card in TEST_CARDS if card.card_type == "credit")


async def card_rows(h: Harness, user: TestUser) -> list[Any]:
    async with h.engine.connect() as conn:
        query = select(cards).where(cards.c.user_id == user.id).order_by(cards.c.created_at)
        return list((await conn.execute(query)).all())


async def verify_identity_directly(h: Harness, user: TestUser, card: SandboxCard) -> None:
    cipher = h.security.cipher
    values = {
        "real_name_encrypted": cipher.encrypt(card.holder_name, context=f"real_name:{user.id}"),
        "id_number_encrypted": cipher.encrypt(card.id_number, context=f"id_number:{user.id}"),
        "identity_verified_at": h.clock.now(),
        "tier": 2,
    }
    async with h.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == user.id).values(**values))


async def test_bind_verify_and_list(harness: Harness) -> None:
    h = harness
    user = await h.user(pin=PIN)
    started = await h.client.post("/v1/me/cards", json=bind_body(ICBC), headers=h.auth(user))
    assert started.status_code == 202, started.text
    pending = started.json()["card"]
    assert pending["status"] == "pending_verification"
    assert pending["bank"]["code"] == ICBC.bank_code
    assert pending["card_type"] == "debit"
    assert pending["last_four"] == ICBC.number[-4:]
    assert ICBC.number not in started.text

    verified = await h.client.post(
        f"/v1/me/cards/{pending['id']}/verify",
        json={"verification_code": await bank_code(h, ICBC)},
        headers=h.auth(user),
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["card"]["status"] == "active"
    h.clock.advance(timedelta(seconds=5))
    second = await bind(h, user, CCB)

    listed = await h.client.get("/v1/me/cards", headers=h.auth(user))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [second["id"], pending["id"]]
    assert "card.bound" in await h.actions()
    assert (await h.row(user)).tier == 1  # identity not verified: no class III


async def test_card_number_never_stored(harness: Harness) -> None:
    h = harness
    user = await h.user()
    await bind(h, user, ICBC)
    (row,) = await card_rows(h, user)
    for value in row._mapping.values():
        assert ICBC.number not in str(value)
    assert row.agreement_token_encrypted is not None
    assert row.fingerprint == h.security.digest(f"card:{ICBC.number}")


async def test_verified_identity_reaches_class_three(harness: Harness) -> None:
    h = harness
    user = await h.user()
    await verify_identity_directly(h, user, ICBC)
    body = bind_body(ICBC, id_number=None)
    started = await h.client.post("/v1/me/cards", json=body, headers=h.auth(user))
    assert started.status_code == 202, started.text
    card_id = started.json()["card"]["id"]
    code = await bank_code(h, ICBC)
    await h.client.post(
        f"/v1/me/cards/{card_id}/verify", json={"verification_code": code}, headers=h.auth(user)
    )
    assert (await h.row(user)).tier == 3


async def test_someone_elses_card_is_refused_for_a_verified_user(harness: Harness) -> None:
    h = harness
    user = await h.user()
    await verify_identity_directly(h, user, ICBC)
    before = await h.snapshot(user)
    response = await h.client.post("/v1/me/cards", json=bind_body(CCB), headers=h.auth(user))
    assert_problem(response, 403, "identity_mismatch")
    assert await h.snapshot(user) == before
    assert await card_rows(h, user) == []


async def test_wrong_holder_is_declined_and_the_card_failed(harness: Harness) -> None:
    h = harness
    user = await h.user()
    before = await h.snapshot(user)
    body = bind_body(ICBC, holder_name="王芳")
    response = await h.client.post("/v1/me/cards", json=body, headers=h.auth(user))
    assert_problem(response, 402, "bank_declined")
    (row,) = await card_rows(h, user)
    assert row.status == "failed"
    after = await h.snapshot(user)
    assert after["user"] == before["user"]
    listed = await h.client.get("/v1/me/cards", headers=h.auth(user))
    assert listed.json()["items"] == []


async def test_credit_card_not_supported(harness: Harness) -> None:
    h = harness
    user = await h.user()
    response = await h.client.post("/v1/me/cards", json=bind_body(CREDIT), headers=h.auth(user))
    assert_problem(response, 422, "card_not_supported")
    assert await card_rows(h, user) == []


async def test_invalid_number(harness: Harness) -> None:
    h = harness
    user = await h.user()
    body = bind_body(ICBC, card_number=ICBC.number[:-1] + "0")
    response = await h.client.post("/v1/me/cards", json=body, headers=h.auth(user))
    assert_problem(response, 422, "card_invalid")


async def test_duplicate_is_already_bound(harness: Harness) -> None:
    h = harness
    user = await h.user()
    await bind(h, user, ICBC)
    response = await h.client.post("/v1/me/cards", json=bind_body(ICBC), headers=h.auth(user))
    assert_problem(response, 409, "card_already_bound")
    assert len(await card_rows(h, user)) == 1


async def test_ten_card_limit(harness: Harness) -> None:
    h = harness
    user = await h.user()
    now = h.clock.now()
    async with h.engine.begin() as conn:
        for index in range(10):
            card_id = new_id("card")
            await conn.execute(
                insert(cards).values(
                    id=card_id,
                    user_id=user.id,
                    status="active",
                    bank_code="ICBC",
                    bank_name="ICBC",
                    card_type="debit",
                    bin="621226",
                    last_four=f"{index:04d}",
                    fingerprint=f"fp-{index}",
                    holder_name_masked="*伟",
                    bank_phone_masked="138****8001",
                    binding_request_id=f"bind:{card_id}",
                    created_at=now,
                )
            )
    response = await h.client.post("/v1/me/cards", json=bind_body(ICBC), headers=h.auth(user))
    assert_problem(response, 409, "card_limit_reached")
    assert len(await card_rows(h, user)) == 10


async def test_wrong_sms_code(harness: Harness) -> None:
    h = harness
    user = await h.user()
    started = await h.client.post("/v1/me/cards", json=bind_body(ICBC), headers=h.auth(user))
    card_id = started.json()["card"]["id"]
    right = await bank_code(h, ICBC)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = await h.client.post(
        f"/v1/me/cards/{card_id}/verify", json={"verification_code": wrong}, headers=h.auth(user)
    )
    assert_problem(response, 400, "verification_code_invalid")
    (row,) = await card_rows(h, user)
    assert row.status == "pending_verification"
    assert row.agreement_token_encrypted is None


async def test_unbind(harness: Harness) -> None:
    h = harness
    user = await h.user(pin=PIN)
    card = await bind(h, user, ICBC)
    url = f"/v1/me/cards/{card['id']}/unbind"
    wrong = await h.client.post(url, json={"payment_password": "000000"}, headers=h.auth(user))
    assert_problem(wrong, 403, "payment_password_invalid")
    assert (await card_rows(h, user))[0].status == "active"

    done = await h.client.post(url, json={"payment_password": PIN}, headers=h.auth(user))
    assert done.status_code == 204, done.text
    (row,) = await card_rows(h, user)
    assert row.status == "unbound"
    assert row.unbound_at is not None
    assert "card.unbound" in await h.actions()
    listed = await h.client.get("/v1/me/cards", headers=h.auth(user))
    assert listed.json()["items"] == []


async def test_unbind_refused_while_a_topup_is_pending(harness: Harness) -> None:
    h = harness
    user = await h.user(pin=PIN)
    card = await bind(h, user, ICBC)
    now = h.clock.now()
    async with h.engine.begin() as conn:
        await conn.execute(
            insert(topups).values(
                id=new_id("top"),
                user_id=user.id,
                method="card",
                card_id=card["id"],
                amount=10_000,
                currency="CNY",
                status="pending",
                created_at=now,
                updated_at=now,
            )
        )
    response = await h.client.post(
        f"/v1/me/cards/{card['id']}/unbind", json={"payment_password": PIN}, headers=h.auth(user)
    )
    assert_problem(response, 409, "card_operation_pending")
    assert (await card_rows(h, user))[0].status == "active"


async def test_another_users_card_is_not_found(harness: Harness) -> None:
    h = harness
    owner = await h.user(pin=PIN)
    other = await h.user(phone="+8613912345678", pin=PIN)
    card = await bind(h, owner, ICBC)
    before = await card_rows(h, owner)
    verify = await h.client.post(
        f"/v1/me/cards/{card['id']}/verify",
        json={"verification_code": "123456"},
        headers=h.auth(other),
    )
    assert_problem(verify, 404, "not_found")
    unbind = await h.client.post(
        f"/v1/me/cards/{card['id']}/unbind", json={"payment_password": PIN}, headers=h.auth(other)
    )
    assert_problem(unbind, 404, "not_found")
    assert await card_rows(h, owner) == before
    listed = await h.client.get("/v1/me/cards", headers=h.auth(other))
    assert listed.json()["items"] == []


async def test_no_token_is_unauthorized(harness: Harness) -> None:
    client: httpx.AsyncClient = harness.client
    for response in (
        await client.post("/v1/me/cards", json=bind_body(ICBC)),
        await client.get("/v1/me/cards"),
        await client.post("/v1/me/cards/card_x/verify", json={"verification_code": "1"}),
        await client.post("/v1/me/cards/card_x/unbind", json={"payment_password": PIN}),
    ):
        assert_problem(response, 401, "unauthorized")


async def test_payment_password_reset_proves_identity_with_a_bound_card(harness: Harness) -> None:
    h = harness
    user = await h.user(pin=PIN)
    await bind(h, user, ICBC)
    code = await h.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    body = {"phone": user.phone, "verification_code": code, "kind": "payment"}
    body["new_password"] = "730492"
    response = await h.client.post("/v1/password-resets", json=body)
    assert assert_problem(response, 422, "identity_required")["factors"] == ["card_number"]
    response = await h.client.post(
        "/v1/password-resets", json={**body, "identity": " ".join(ICBC.number)}
    )
    assert response.status_code == 204, response.text
