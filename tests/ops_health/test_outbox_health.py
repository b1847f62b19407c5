"""``GET /v1/staff/outbox`` and ``POST /v1/staff/outbox/{id}/replay``: the outbox by topic
and state, dead events without their payload, and replaying one."""

from __future__ import annotations

from datetime import timedelta

from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from ewallet.worker.relay import OutboxRelay
from tests.ops_health.conftest import Ops
from tests.ops_health.rows import CODE, SMS_ERROR, SMS_PAYLOAD

PATH = "/v1/staff/outbox"


def _z(moment: object) -> str:
    return str(moment.isoformat()).replace("+00:00", "Z")  # type: ignore[attr-defined]


async def test_counts_every_topic_by_state(ops: Ops) -> None:
    later, earlier = ops.clock.now() + timedelta(minutes=3), ops.ago(minutes=4)
    await ops.event("sms.send", available_at=earlier)  # due for four minutes
    await ops.event("sms.send", attempts=2, available_at=ops.ago(seconds=5))  # retry due
    await ops.event("sms.send", attempts=1, claimed_by="relay-1", available_at=later)
    await ops.event("sms.send", attempts=3, available_at=later)  # waiting for its retry
    await ops.event("sms.send", attempts=5, available_at=later + timedelta(minutes=1))
    await ops.event("sms.send", status="dead", attempts=12, payload=SMS_PAYLOAD)
    await ops.event("sms.send", status="delivered", attempts=1)  # not counted
    await ops.event("bill.deliver", available_at=later)  # held back on purpose
    await ops.event("webhook.send", status="dead", attempts=12)
    operator = await ops.staffer("operator")

    answer = await ops.get(operator, PATH)

    assert answer.status_code == 200, answer.text
    health = answer.json()
    assert health["max_attempts"] == 12
    assert health["topics"] == [
        {
            "topic": "bill.deliver",
            "due": 0,
            "in_flight": 0,
            "retrying": 0,
            "scheduled": 1,
            "dead": 0,
            "most_attempts": 0,
            "oldest_due_at": None,
            "next_retry_at": None,
        },
        {
            "topic": "sms.send",
            "due": 2,
            "in_flight": 1,
            "retrying": 2,
            "scheduled": 0,
            "dead": 1,
            "most_attempts": 12,
            "oldest_due_at": _z(earlier),
            "next_retry_at": _z(later),
        },
        {
            "topic": "webhook.send",
            "due": 0,
            "in_flight": 0,
            "retrying": 0,
            "scheduled": 0,
            "dead": 1,
            "most_attempts": 12,
            "oldest_due_at": None,
            "next_retry_at": None,
        },
    ]
    assert [event["topic"] for event in health["dead"]["items"]] == ["webhook.send", "sms.send"]


async def test_dead_events_show_ids_never_payloads(ops: Ops) -> None:
    sms = await ops.event(
        "sms.send", status="dead", attempts=12, payload=SMS_PAYLOAD, last_error=SMS_ERROR
    )
    webhook = await ops.event(
        "webhook.send",
        status="dead",
        attempts=12,
        last_error="deliver: WebhookRejectedError: webhook evt_9 to https://shop.example/n: 500",
        payload={
            "merchant_id": "mch_01",
            "order_id": "ord_01",
            "event_id": "evt_9",
            "attempt_id": 7,
            "url": "https://shop.example/n",
            "body": {"secret": "s3cr3t-value"},
            "note_id": "free text with spaces",
        },
        created_at=ops.ago(hours=2),
    )
    operator = await ops.staffer("operator")

    answer = await ops.get(operator, PATH)

    dead = {event["id"]: event for event in answer.json()["dead"]["items"]}
    assert dead[sms] == {
        "id": sms,
        "topic": "sms.send",
        "state": "dead",
        "attempts": 12,
        "last_error": "send_sms: ProviderError: gateway refused *** (code ***)",
        "references": {},
        "created_at": _z(ops.clock.now()),
        "available_at": _z(ops.clock.now()),
    }
    assert dead[webhook]["references"] == {
        "merchant_id": "mch_01",
        "order_id": "ord_01",
        "event_id": "evt_9",
        "attempt_id": "7",
    }
    assert dead[webhook]["last_error"] == "deliver: WebhookRejectedError: webhook evt_9 to ***: 500"
    for secret in (CODE, "1234 5678", "13812345678", "验证码", "s3cr3t", "free text"):
        assert secret not in answer.text, secret


async def test_dead_events_page_newest_first_and_by_topic(ops: Ops) -> None:
    ids = [await ops.event(f"topic.{n % 2}", status="dead", attempts=3) for n in range(5)]
    operator = await ops.staffer("operator")

    first = (await ops.get(operator, PATH, limit=2)).json()["dead"]
    second = (await ops.get(operator, PATH, limit=2, cursor=first["next_cursor"])).json()["dead"]
    third = (await ops.get(operator, PATH, limit=2, cursor=second["next_cursor"])).json()["dead"]
    assert [e["id"] for e in first["items"] + second["items"] + third["items"]] == ids[::-1]
    assert third["next_cursor"] is None
    by_topic = (await ops.get(operator, PATH, topic="topic.1")).json()["dead"]["items"]
    assert [event["id"] for event in by_topic] == [ids[3], ids[1]]
    bad = await ops.get(operator, PATH, cursor="eyJiZWZvcmUiOiJ4In0")  # {"before":"x"}
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")


async def test_replay_makes_a_dead_event_due_again_and_it_is_delivered(ops: Ops) -> None:
    dead = await ops.event(
        "sms.send",
        status="dead",
        attempts=12,
        claimed_by=None,
        available_at=ops.ago(hours=1),
        last_error=SMS_ERROR,
        payload=SMS_PAYLOAD,
        created_at=ops.ago(hours=2),
    )
    operator = await ops.staffer("operator")
    ops.clock.advance(timedelta(seconds=1))

    answer = await ops.replay(operator, dead)

    assert answer.status_code == 200, answer.text
    event = answer.json()["event"]
    assert (event["id"], event["state"], event["attempts"]) == (dead, "due", 0)
    assert event["available_at"] == _z(ops.clock.now())
    assert CODE not in answer.text
    row = await ops.event_row(dead)
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
    assert row.last_error == SMS_ERROR  # the history stays readable
    assert row.payload == SMS_PAYLOAD
    replays = [e for e in await ops.audit() if e[0] == "outbox.replayed"]
    assert replays == [
        ("outbox.replayed", operator.id, str(dead), {"topic": "sms.send", "attempts": 12})
    ]
    health = (await ops.get(operator, PATH)).json()
    assert [(t["topic"], t["due"], t["dead"]) for t in health["topics"]] == [("sms.send", 1, 0)]
    assert health["dead"]["items"] == []

    # A relay delivers it like any new event.
    delivered: list[DeliveredEvent] = []

    async def handler(event: DeliveredEvent) -> None:
        delivered.append(event)

    registry = HandlerRegistry()
    registry.register("sms.send", handler)
    relay = OutboxRelay(ops.engine, registry, ops.clock, worker_id="test-relay")
    assert await relay.drain() == 1
    assert [(e.id, e.attempts, e.payload) for e in delivered] == [(dead, 1, SMS_PAYLOAD)]
    assert (await ops.event_row(dead)).status == "delivered"


async def test_only_dead_events_are_replayed(ops: Ops) -> None:
    later = ops.clock.now() + timedelta(minutes=1)
    live = {
        "due": await ops.event("sms.send"),
        "in_flight": await ops.event("sms.send", attempts=1, claimed_by="r", available_at=later),
        "retrying": await ops.event("sms.send", attempts=2, available_at=later),
        "scheduled": await ops.event("sms.send", available_at=later),
        "delivered": await ops.event("sms.send", status="delivered", attempts=1),
    }
    operator = await ops.staffer("operator")
    rows, audited = await ops.outbox_rows(), await ops.audit_count()

    for state, event_id in live.items():
        refused = await ops.replay(operator, event_id, **{"Accept-Language": "en"})
        assert refused.status_code == 409, state
        problem = refused.json()
        assert problem["code"] == "outbox_event_not_dead"
        assert problem["title"] == "Only an event given up on can be replayed"
        assert problem["detail"] == f"outbox event {event_id} is {state}"
    zh = await ops.replay(operator, live["due"])
    assert zh.json()["title"] == "只有已放弃投递的事件才能重新投递"
    missing = await ops.replay(operator, 999_999)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    for bad in ("abc", "0", "-1", str(2**63)):
        assert (await ops.replay(operator, bad)).status_code == 422, bad

    assert await ops.outbox_rows() == rows
    assert await ops.audit_count() == audited


async def test_only_operators_and_admins_see_and_replay_the_outbox(ops: Ops) -> None:
    dead = await ops.event("sms.send", status="dead", attempts=12, payload=SMS_PAYLOAD)
    assert (await ops.get(await ops.staffer("admin"), PATH)).status_code == 200
    refused_staff = [
        await ops.staffer(role)
        for role in ("support_agent", "teller", "teller_supervisor", "risk_officer")
    ]
    fresh = await ops.staffer("operator", password_changed=False)
    rows, audited = await ops.outbox_rows(), await ops.audit_count()

    assert (await ops.get(None, PATH)).status_code == 401
    assert (await ops.replay(None, dead)).status_code == 401
    for staff in refused_staff:
        for refused in (await ops.get(staff, PATH), await ops.replay(staff, dead)):
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), staff.role
            assert "sms.send" not in refused.text
    refused = await ops.replay(fresh, dead)
    assert (refused.status_code, refused.json()["code"]) == (403, "password_change_required")
    assert await ops.outbox_rows() == rows
    assert await ops.audit_count() == audited

    admin = await ops.staffer("admin")
    assert (await ops.replay(admin, dead)).json()["event"]["state"] == "due"


async def test_the_openapi_document_names_the_replay_refusal(ops: Ops) -> None:
    document = (await ops.client.get("/openapi.json")).json()
    replay = document["paths"]["/v1/staff/outbox/{event_id}/replay"]["post"]["responses"]
    assert "outbox_event_not_dead" in replay["409"]["description"]
    assert {"401", "403", "404", "422"} <= set(replay)
    for path in ("/v1/staff/outbox", "/v1/staff/funding/pending"):
        assert {"401", "403"} <= set(document["paths"][path]["get"]["responses"])
