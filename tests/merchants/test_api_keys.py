"""Several API keys per merchant through the merchant API and the staff API: list (the
calling key marked, never a secret), create with a label (shown once, at most ten active),
revoke (refused at once; again is 409; another merchant's is 404), rotate the calling key
(same label), staff's emergency replacement of them all; ``last_used_on`` written at most
once a day; every change audited with its actor, every refusal leaving nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Connection

from ewallet.merchants.service import MAX_ACTIVE_KEYS
from ewallet.merchants.views import NewMerchant
from ewallet.models.tables import audit_events, merchant_api_keys
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop
from tests.fixtures.staff import bearer, make_staff, staff_token

KEYS = "/v1/merchant/keys"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def key_rows(shop: Shop, merchant: NewMerchant) -> list[Any]:
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(merchant_api_keys)
            .where(merchant_api_keys.c.merchant_id == merchant.merchant.id)
            .order_by(merchant_api_keys.c.created_at, merchant_api_keys.c.id)
        )
        return list(rows)


async def key_events(shop: Shop) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(
                audit_events.c.action,
                audit_events.c.actor_type,
                audit_events.c.actor_id,
                audit_events.c.details,
            )
            .where(audit_events.c.action.like("merchant.key_%"))
            .order_by(audit_events.c.id)
        )
        return [(r.action, r.actor_type, r.actor_id, dict(r.details)) for r in rows]


async def status_with(shop: Shop, key: str) -> int:
    return (await shop.client.get("/v1/merchant/account", headers=auth(key))).status_code


async def new_key(shop: Shop, merchant_key: str, label: str) -> dict[str, Any]:
    """A key made a second after the last (the clock is frozen): newest first is plain."""
    shop.clock.advance(timedelta(seconds=1))
    made = await shop.client.post(KEYS, json={"label": label}, headers=auth(merchant_key))
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def test_list_marks_the_calling_key_and_shows_no_secret(shop: Shop) -> None:
    merchant = await shop.merchant()
    listed = await shop.client.get(KEYS, headers=shop.key(merchant))
    assert listed.status_code == 200, listed.text
    (only,) = listed.json()["data"]
    key_id = merchant.api_key.split("_")[1]
    assert only == {
        "id": key_id,
        "label": "default",
        "prefix": f"mk_{key_id}_…",
        "created_at": only["created_at"],
        "last_used_on": "2026-03-02",  # this very request, an Asia/Shanghai day
        "revoked_at": None,
        "current": True,
    }
    (row,) = await key_rows(shop, merchant)
    assert merchant.api_key.split("_", 2)[2] not in listed.text
    assert row.digest not in listed.text
    assert row.created_by == "system"
    assert_problem(await shop.client.get(KEYS), 401, "unauthorized")


async def test_a_new_key_is_shown_once_works_and_is_audited(shop: Shop) -> None:
    merchant = await shop.merchant()
    shop.clock.advance(timedelta(seconds=1))
    made = await shop.client.post(
        KEYS, json={"label": "  online shop  "}, headers=shop.key(merchant)
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert body["api_key"].startswith(f"mk_{body['key']['id']}_")
    assert body["key"]["label"] == "online shop"
    assert body["key"]["current"] is False
    assert body["key"]["last_used_on"] is None
    assert await status_with(shop, body["api_key"]) == 200
    assert await status_with(shop, merchant.api_key) == 200  # the first key still works

    listed = (await shop.client.get(KEYS, headers=auth(body["api_key"]))).json()["data"]
    assert [(k["label"], k["current"]) for k in listed] == [
        ("online shop", True),
        ("default", False),
    ]
    rows = await key_rows(shop, merchant)
    assert rows[1].created_by == f"merchant:{merchant.merchant.id}"
    assert body["api_key"] not in str([tuple(r) for r in rows])
    first_key = merchant.api_key.split("_")[1]
    assert await key_events(shop) == [
        (
            "merchant.key_created",
            "merchant",
            merchant.merchant.id,
            {"key_id": body["key"]["id"], "label": "online shop", "via_key": first_key},
        )
    ]


async def test_bad_labels_are_refused_and_make_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    for body in (
        {"label": ""},
        {"label": "   "},
        {"label": "x" * 41},
        {"label": "tab\there"},
        {"label": 7},
        {"label": "ok", "extra": 1},
    ):
        refused = await shop.client.post(KEYS, json=body, headers=shop.key(merchant))
        assert_problem(refused, 422, "validation_error")
    assert len(await key_rows(shop, merchant)) == 1
    assert await key_events(shop) == []
    # No label at all: "default".
    made = await shop.client.post(KEYS, json={}, headers=shop.key(merchant))
    assert made.json()["key"]["label"] == "default"


async def test_at_most_ten_active_keys(shop: Shop) -> None:
    merchant = await shop.merchant()
    for n in range(MAX_ACTIVE_KEYS - 1):
        await new_key(shop, merchant.api_key, f"key {n}")
    before = await key_rows(shop, merchant)
    assert len(before) == MAX_ACTIVE_KEYS
    refused = await shop.client.post(
        KEYS, json={"label": "one more"}, headers=shop.key(merchant, **{"Accept-Language": "en"})
    )
    body = assert_problem(refused, 409, "api_key_limit_reached")
    assert "at most 10" in body["detail"]
    in_chinese = await shop.client.post(KEYS, json={"label": "x"}, headers=shop.key(merchant))
    assert "最多" in assert_problem(in_chinese, 409, "api_key_limit_reached")["detail"]
    assert await key_rows(shop, merchant) == before
    # A revoked key makes room again.
    revoked = await shop.client.delete(f"{KEYS}/{before[-1].id}", headers=shop.key(merchant))
    assert revoked.status_code == 200, revoked.text
    await new_key(shop, merchant.api_key, "room again")


async def test_concurrent_creations_cannot_pass_the_limit(shop: Shop) -> None:
    merchant = await shop.merchant()
    for n in range(MAX_ACTIVE_KEYS - 2):
        await new_key(shop, merchant.api_key, f"key {n}")
    answers = await asyncio.gather(
        *(
            shop.client.post(KEYS, json={"label": f"race {n}"}, headers=shop.key(merchant))
            for n in range(4)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    rows = await key_rows(shop, merchant)
    assert sum(1 for r in rows if r.revoked_at is None) == MAX_ACTIVE_KEYS


async def test_revoking_refuses_the_key_at_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    other = await shop.merchant("Other")
    second = await new_key(shop, merchant.api_key, "till app")
    key_id = second["key"]["id"]
    revoked = await shop.client.delete(f"{KEYS}/{key_id}", headers=shop.key(merchant))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["id"] == key_id
    assert revoked.json()["revoked_at"] is not None
    refused = await shop.client.get(
        "/v1/merchant/account", headers={**auth(second["api_key"]), "Accept-Language": "en"}
    )
    assert "revoked" in assert_problem(refused, 401, "unauthorized")["detail"]
    assert await status_with(shop, merchant.api_key) == 200

    again = await shop.client.delete(f"{KEYS}/{key_id}", headers=shop.key(merchant))
    assert_problem(again, 409, "api_key_revoked")
    # Another merchant's key, or none at all: not found, and theirs keeps working.
    other_id = other.api_key.split("_")[1]
    theirs = await shop.client.delete(f"{KEYS}/{other_id}", headers=shop.key(merchant))
    assert_problem(theirs, 404, "not_found")
    assert await status_with(shop, other.api_key) == 200
    assert_problem(
        await shop.client.delete(f"{KEYS}/0123456789abcdef", headers=shop.key(merchant)),
        404,
        "not_found",
    )
    assert_problem(await shop.client.delete(f"{KEYS}/{key_id}"), 401, "unauthorized")
    # Listed after the active key, still.
    listed = (await shop.client.get(KEYS, headers=shop.key(merchant))).json()["data"]
    assert [(k["id"], k["revoked_at"] is None) for k in listed] == [
        (merchant.api_key.split("_")[1], True),
        (key_id, False),
    ]
    (row,) = [r for r in await key_rows(shop, merchant) if r.id == key_id]
    assert row.revoked_by == f"merchant:{merchant.merchant.id}"
    assert [e[0] for e in await key_events(shop)] == [
        "merchant.key_created",
        "merchant.key_revoked",
    ]


async def test_revoked_keys_leave_the_list_after_ninety_days(shop: Shop) -> None:
    merchant = await shop.merchant()
    second = await new_key(shop, merchant.api_key, "old")
    await shop.client.delete(f"{KEYS}/{second['key']['id']}", headers=shop.key(merchant))
    shop.clock.advance(timedelta(days=90))
    listed = (await shop.client.get(KEYS, headers=shop.key(merchant))).json()["data"]
    assert len(listed) == 2
    shop.clock.advance(timedelta(seconds=1))
    listed = (await shop.client.get(KEYS, headers=shop.key(merchant))).json()["data"]
    assert [k["label"] for k in listed] == ["default"]
    assert len(await key_rows(shop, merchant)) == 2  # the row itself stays


async def test_rotating_the_calling_key_keeps_its_label_and_spares_the_others(
    shop: Shop,
) -> None:
    merchant = await shop.merchant()
    till = await new_key(shop, merchant.api_key, "till app")
    rotated = await shop.client.post(f"{KEYS}/rotate", headers=auth(till["api_key"]))
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    body = rotated.json()
    assert body["key"]["label"] == "till app"
    assert body["account"]["id"] == merchant.merchant.id
    assert await status_with(shop, till["api_key"]) == 401
    assert await status_with(shop, body["api_key"]) == 200
    assert await status_with(shop, merchant.api_key) == 200
    (_, _, actor, details) = (await key_events(shop))[-1]
    assert (actor, details["revoked"], details["key_id"]) == (
        merchant.merchant.id,
        [till["key"]["id"]],
        body["key"]["id"],
    )


async def test_the_last_use_is_written_once_a_day(shop: Shop) -> None:
    merchant = await shop.merchant()
    with counted_key_updates(shop) as writes:
        for _ in range(3):
            assert await status_with(shop, merchant.api_key) == 200
        assert len(writes) == 1
        (row,) = await key_rows(shop, merchant)
        assert row.last_used_on == date(2026, 3, 2)
        # 2026-03-02 16:00 UTC is midnight in Shanghai: a new day, one more write.
        shop.clock.set(shop.clock.now().replace(hour=15, minute=59))
        assert await status_with(shop, merchant.api_key) == 200
        assert len(writes) == 1
        shop.clock.advance(timedelta(minutes=1))
        assert await status_with(shop, merchant.api_key) == 200
        assert await status_with(shop, merchant.api_key) == 200
        assert len(writes) == 2
    (row,) = await key_rows(shop, merchant)
    assert row.last_used_on == date(2026, 3, 3)
    # A refused key (wrong secret) writes nothing.
    async with shop.engine.begin() as conn:
        await conn.execute(update(merchant_api_keys).values(last_used_on=None))
    wrong = merchant.api_key[:-4] + ("aaaa" if not merchant.api_key.endswith("aaaa") else "bbbb")
    assert await status_with(shop, wrong) == 401
    (row,) = await key_rows(shop, merchant)
    assert row.last_used_on is None


@contextmanager
def counted_key_updates(shop: Shop) -> Iterator[list[str]]:
    """Every UPDATE of merchant_api_keys the app's engine sends while open."""
    seen: list[str] = []
    engine = shop.services.engine.sync_engine

    def listen(_conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE MERCHANT_API_KEYS"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


async def staff_headers(shop: Shop, role: str) -> dict[str, str]:
    member = await make_staff(shop.engine, shop.security, shop.clock, role)
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, member.id)
    )


async def test_staff_list_keys_with_who_made_them(shop: Shop) -> None:
    merchant = await shop.merchant()
    await new_key(shop, merchant.api_key, "online shop")
    operator = await staff_headers(shop, "operator")
    path = f"/v1/staff/merchants/{merchant.merchant.id}/keys"
    listed = await shop.client.get(path, headers=operator)
    assert listed.status_code == 200, listed.text
    data = listed.json()["data"]
    assert [(k["label"], k["created_by"], k["revoked_by"]) for k in data] == [
        ("online shop", f"merchant:{merchant.merchant.id}", None),
        ("default", "system", None),
    ]
    assert "current" not in data[0]
    assert all(row.digest not in listed.text for row in await key_rows(shop, merchant))
    assert_problem(await shop.client.get(path), 401, "unauthorized")
    agent = await staff_headers(shop, "support_agent")
    assert_problem(await shop.client.get(path, headers=agent), 403, "forbidden")
    missing = await shop.client.get("/v1/staff/merchants/mch_missing/keys", headers=operator)
    assert_problem(missing, 404, "not_found")
    # A merchant key is not a staff credential.
    assert_problem(await shop.client.get(path, headers=shop.key(merchant)), 401, "unauthorized")


async def test_staff_emergency_rotation_revokes_every_key(shop: Shop) -> None:
    merchant = await shop.merchant()
    other = await shop.merchant("Other")
    second = await new_key(shop, merchant.api_key, "till app")
    third = await new_key(shop, merchant.api_key, "old")
    await shop.client.delete(f"{KEYS}/{third['key']['id']}", headers=shop.key(merchant))
    operator = await staff_headers(shop, "operator")
    rotated = await shop.client.post(
        f"/v1/staff/merchants/{merchant.merchant.id}/rotate-key", headers=operator
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["api_key"]
    for old in (merchant.api_key, second["api_key"], third["api_key"]):
        assert await status_with(shop, old) == 401
    assert await status_with(shop, new) == 200
    assert await status_with(shop, other.api_key) == 200
    rows = await key_rows(shop, merchant)
    active = [r for r in rows if r.revoked_at is None]
    assert [(r.label, r.id) for r in active] == [("default", new.split("_")[1])]
    revoked_by_staff = {r.id for r in rows if r.revoked_by and r.revoked_by.startswith("staff:")}
    assert revoked_by_staff == {merchant.api_key.split("_")[1], second["key"]["id"]}
    action, actor_type, _, details = (await key_events(shop))[-1]
    assert (action, actor_type) == ("merchant.key_rotated", "staff")
    assert sorted(details["revoked"]) == sorted(revoked_by_staff)
    missing = await shop.client.post("/v1/staff/merchants/mch_missing/rotate-key", headers=operator)
    assert_problem(missing, 404, "not_found")


async def test_a_disabled_merchants_keys_are_refused(shop: Shop) -> None:
    merchant = await shop.merchant()
    second = await new_key(shop, merchant.api_key, "second")
    operator = await staff_headers(shop, "operator")
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    await shop.client.patch(path, json={"status": "disabled"}, headers=operator)
    for key in (merchant.api_key, second["api_key"]):
        assert await status_with(shop, key) == 401
    async with shop.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(merchant_api_keys))
    assert count == 2  # disabling revokes nothing: enabling again brings both back
    await shop.client.patch(path, json={"status": "active"}, headers=operator)
    for key in (merchant.api_key, second["api_key"]):
        assert await status_with(shop, key) == 200
