"""The SMS port: outbox and HTTP adapters, the ``sms.send`` handler, the embedded relay and
``ewallet dev outbox``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.bootstrap import running_services
from ewallet.bootstrap.outbox import outbox_registry
from ewallet.bootstrap.sms import make_handler, sender_from_settings
from ewallet.cli.main import app as cli
from ewallet.config import Environment, Settings
from ewallet.integrations.sms import SmsConfigurationError
from ewallet.integrations.sms.http_provider import HttpSmsSender
from ewallet.integrations.sms.outbox_provider import OutboxSmsSender
from ewallet.integrations.sms.port import OutgoingSms, SmsDeliveryError
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.base import Base
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.notify.service import SMS_TOPIC
from ewallet.worker import HandlerRegistry, OutboxRelay, enqueue
from ewallet.worker.registry import DeliveredEvent, Handler
from tests.fixtures.identity import E164, PHONE, Wallet, running

sms_messages = Base.metadata.tables["sms_messages"]
outbox = Base.metadata.tables["outbox_events"]
PAYLOAD = {
    "to": E164,
    "sender": "ewallet",
    "body": "【ewallet】验证码 123456",
    "kind": "verification_code",
    "code": "123456",
}


def production(**changes: object) -> Settings:
    return Settings(
        env=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 48),
        pin_pepper=SecretStr("p" * 48),
        **changes,  # type: ignore[arg-type]
    )


def event(event_id: int, payload: dict[str, object] | None = None) -> DeliveredEvent:
    return DeliveredEvent(
        id=event_id,
        topic=SMS_TOPIC,
        payload=dict(payload or PAYLOAD),
        attempts=1,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_the_outbox_adapter_keeps_each_event_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    handler = make_handler(OutboxSmsSender(settings, engine=engine, clock=FrozenClock()))
    await handler(event(7))
    await handler(event(7))  # redelivered: at least once, stored once
    await handler(event(8))
    async with engine.connect() as connection:
        stored = (await connection.execute(select(sms_messages).order_by(sms_messages.c.id))).all()
    assert [(row.event_id, row.recipient, row.code) for row in stored] == [
        (7, E164, "123456"),
        (8, E164, "123456"),
    ]


async def test_the_workers_handler_stores_through_its_services_engine(
    engine: AsyncEngine, settings: Settings
) -> None:
    # As in ``ewallet worker``: the handler table is built on the process's services.
    async with running_services(settings, FrozenClock()) as services:
        [handler] = outbox_registry(services).handlers_for(SMS_TOPIC)
        await handler(event(1))
    async with engine.connect() as connection:
        [stored] = (await connection.execute(select(sms_messages))).all()
    assert (stored.event_id, stored.recipient) == (1, E164)


async def test_the_capturing_adapter_is_refused_in_production(settings: Settings) -> None:
    async with running_services(settings) as services:
        with pytest.raises(SmsConfigurationError, match="refused in production"):
            outbox_registry(replace(services, settings=production(sms_provider="outbox")))
        with pytest.raises(SmsConfigurationError, match="SMS_HTTP_URL"):
            outbox_registry(replace(services, settings=production(sms_provider="http")))
        with pytest.raises(SmsConfigurationError, match="unknown"):
            sender_from_settings(
                Settings(sms_provider="carrier-pigeon"),
                engine=services.engine,
                clock=services.clock,
            )
        http = production(sms_provider="http", sms_http_url="https://sms.example/send")
        assert SMS_TOPIC in outbox_registry(replace(services, settings=http))


def test_a_malformed_payload_is_an_error() -> None:
    with pytest.raises(ValueError, match="lacks to"):
        asyncio.run(
            _call(make_handler(HttpSmsSender(url="http://x", timeout=1)), event(1, {"body": "x"}))
        )


async def _call(handler: Handler, delivered: DeliveredEvent) -> None:
    await handler(delivered)


async def test_the_http_adapter_posts_json_and_raises_on_failure() -> None:
    seen: list[httpx.Request] = []
    answers = iter([503, 200])

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    sender = HttpSmsSender(
        url="https://sms.example/send", timeout=2.0, transport=httpx.MockTransport(gateway)
    )
    message = OutgoingSms(
        to=E164, sender="ewallet", body="hello", kind="notice", request_id="sms-42", event_id=42
    )
    with pytest.raises(SmsDeliveryError, match="503"):
        await sender.send(message)
    await sender.send(message)
    assert json.loads(seen[1].content) == {
        "to": E164,
        "sender": "ewallet",
        "body": "hello",
        "request_id": "sms-42",
    }
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"] == "sms-42"


async def test_a_failing_gateway_is_retried_with_back_off(engine: AsyncEngine) -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    calls: list[int] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow gateway", request=request)
        return httpx.Response(500 if len(calls) == 2 else 202)

    registry = HandlerRegistry()
    registry.register(
        SMS_TOPIC,
        make_handler(
            HttpSmsSender(
                url="https://sms.example", timeout=1, transport=httpx.MockTransport(gateway)
            )
        ),
    )
    relay = OutboxRelay(
        engine, registry, clock, worker_id="test-relay", backoff_base=timedelta(seconds=2)
    )

    async def put(uow: UnitOfWork) -> int:
        return await enqueue(uow.session, topic=SMS_TOPIC, payload=PAYLOAD, clock=clock)

    await run_unit(engine, put)
    for _ in range(3):
        await relay.drain()
        clock.advance(timedelta(minutes=1))
    async with engine.connect() as connection:
        [row] = (await connection.execute(select(outbox))).all()
    assert (row.status, row.attempts, len(calls)) == ("delivered", 3, 3)


async def test_dev_outbox_prints_captured_sms(
    wallet: Wallet, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await wallet.register()
    await wallet.ask_code("13900001111", "register")
    await wallet.settle()
    monkeypatch.setenv("EWALLET_DATABASE_URL", database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["dev", "outbox", *args], catch_exceptions=False)
        return result.exit_code, result.output

    status, output = await asyncio.to_thread(run, "--json")
    assert status == 0, output
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["to"] for line in lines] == [E164, "+8613900001111"]
    assert set(lines[0]) == {"to", "sender", "body", "code", "created_at"}
    assert lines[0]["code"] in lines[0]["body"]
    assert lines[0]["created_at"].startswith("2026-03-02T01:30:00")
    status, output = await asyncio.to_thread(run, "--json", "--phone", "+86 139-0000-1111")
    assert [json.loads(line)["to"] for line in output.splitlines()] == ["+8613900001111"]
    status, output = await asyncio.to_thread(run, "--phone", PHONE)
    assert status == 0
    assert lines[0]["code"] in output
    status, output = await asyncio.to_thread(run, "--phone", "not a phone")
    assert status == 2


async def test_without_the_embedded_worker_sms_wait_for_ewallet_worker(
    fast_settings: Settings,
) -> None:
    async with running(fast_settings.model_copy(update={"embedded_worker": False})) as wallet:
        assert getattr(wallet.app.state, "outbox_pool", None) is None
        assert (await wallet.ask_code()).status_code == 202
        await asyncio.sleep(0.1)
        [row] = await wallet.rows(select(outbox))
        assert row.status == "pending"
        assert await wallet.count("sms_messages") == 0
