"""Outgoing support mail through a real SMTP server: headers, threading, anti-phishing code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.human_time import in_words
from ewallet.kit.i18n import ZH_CN
from ewallet.models.identity import User
from ewallet.models.outbox import OutboxEvent
from ewallet.models.support import AuthorType, TicketChannel
from ewallet.services import Services
from ewallet.support import jobs
from ewallet.support.jobs import CapturingSender, make_handler, sender_for
from ewallet.support.mail import service as mail_service
from ewallet.support.mail.compose import EMAIL_TOPIC
from ewallet.support.mail.transport import EmailConfigurationError, SmtpTarget
from ewallet.support.service import tickets
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from tests.fixtures.staff import insert_user
from tests.fixtures.support import bare_services
from tests.support.conftest import in_unit, make_agent, messages_of, ticket_row
from tests.support.smtp_helpers import Inbox, smtp_server

users = cast(Table, User.__table__)
outbox = cast(Table, OutboxEvent.__table__)


async def email_events(engine: AsyncEngine) -> list[DeliveredEvent]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox).where(outbox.c.topic == EMAIL_TOPIC).order_by(outbox.c.id)
        )
        return [
            DeliveredEvent(row.id, row.topic, dict(row.payload), 1, row.created_at) for row in rows
        ]


def registry_for(services: Services) -> HandlerRegistry:
    registry = HandlerRegistry()
    jobs.register(registry, services)
    return registry


async def customer_with_email(services: Services) -> str:
    engine, clock = services.engine, services.clock
    user_id = await insert_user(engine, clock)
    async with engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user_id).values(anti_phishing_code="青山绿水")
        )

    async def prove(uow: UnitOfWork) -> None:
        await mail_service.claim_address(services, uow, user_id=user_id, email="wang@example.com")
        row = await mail_service.current_address(uow, user_id)
        assert row is not None
        row.verified_at = clock.now()  # proving is tested over HTTP

    await in_unit(engine, prove)
    return user_id


async def test_replies_go_out_by_smtp_with_threading_and_the_anti_phishing_code(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    user_id = await customer_with_email(services)
    agent = await make_agent(engine, settings, clock)

    async def open_and_reply(uow: UnitOfWork) -> str:
        ticket_id = await tickets.open_ticket(
            services,
            uow,
            user_id=user_id,
            email=None,
            subject="银行卡解绑",
            body="怎么解绑银行卡？",
            channel=TicketChannel.WEB,
            author_id=user_id,
        )
        clock.advance(timedelta(minutes=1))
        await tickets.add_message(
            services,
            uow,
            ticket_id=ticket_id,
            author_type=AuthorType.AGENT,
            author_id=agent.id,
            body="在“我的银行卡”里点解绑即可。",
        )
        clock.advance(timedelta(minutes=1))
        await tickets.add_message(
            services,
            uow,
            ticket_id=ticket_id,
            author_type=AuthorType.AGENT,
            author_id=agent.id,
            body="还需要帮助请直接回复。",
        )
        return ticket_id

    ticket_id: str = await in_unit(engine, open_and_reply)
    reference = (await ticket_row(engine, ticket_id)).reference
    events = [e for e in await email_events(engine) if e.payload["kind"] != "support_email_code"]
    assert [e.payload["kind"] for e in events] == [
        "ticket_acknowledgement",
        "ticket_reply",
        "ticket_reply",
    ]

    inbox = Inbox()
    async with smtp_server(inbox) as port:
        smtp = bare_services(engine, settings, clock, smtp_url=f"smtp://127.0.0.1:{port}")
        registry = registry_for(smtp)
        (handler,) = registry.handlers_for(EMAIL_TOPIC)
        for event in events:
            await handler(event)

    assert len(inbox.mails) == 3
    assert inbox.envelopes[0] == ("service@ewallet.example", ["wang@example.com"])
    ack, first, second = inbox.mails
    assert ack["Auto-Submitted"] == "auto-replied"
    assert first["Auto-Submitted"] is None
    for mail in inbox.mails:
        assert mail["To"] == "wang@example.com"
        assert mail["Subject"] == f"Re: 银行卡解绑 [#{reference}]"
        assert mail["Reply-To"] == f"service+{reference}@ewallet.example"
        assert str(mail["From"]).endswith("<service@ewallet.example>")
        body = mail.get_content()
        assert body.startswith("[防伪码: 青山绿水] ")
        assert reference in body
    stored = [m.email_message_id for m in await messages_of(engine, ticket_id)]
    assert first["Message-ID"] == f"<{stored[1]}>"
    assert second["Message-ID"] == f"<{stored[2]}>"
    # The second reply answers the first and lists the whole thread.
    assert second["In-Reply-To"] == f"<{stored[1]}>"
    assert second["References"] == f"<{stored[1]}>"
    assert "在“我的银行卡”里点解绑即可。" in first.get_content()
    # The acknowledgement says when the message came, in Beijing time and in words.
    opened = (await ticket_row(engine, ticket_id)).created_at
    assert f"我们已于 {in_words(opened, ZH_CN)} 收到您的来信" in ack.get_content()


async def test_a_refused_connection_raises_so_the_worker_retries(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with smtp_server(Inbox()) as port:
        pass  # the port is free again: nothing listens there
    sender = sender_for(
        bare_services(
            engine, settings, clock, smtp_url=f"smtp://127.0.0.1:{port}", smtp_timeout_seconds=2
        )
    )
    handler = make_handler(sender, support_email="service@ewallet.example")
    event = DeliveredEvent(
        7,
        EMAIL_TOPIC,
        {"to": "a@example.com", "subject": "s", "text": "t", "message_id": "m@x", "kind": "k"},
        1,
        clock.now(),
    )
    with pytest.raises(ConnectionRefusedError):
        await handler(event)


async def test_without_smtp_mail_is_captured_once_per_event(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    sender = sender_for(services)
    assert isinstance(sender, CapturingSender)
    handler = make_handler(sender, support_email="service@ewallet.example")
    payload: dict[str, Any] = {
        "to": "a@example.com",
        "subject": "主题",
        "text": "正文",
        "message_id": "m1@ewallet.example",
        "kind": "ticket_reply",
        "in_reply_to": "c1@example.com",
        "references": ["c1@example.com"],
    }
    event = DeliveredEvent(41, EMAIL_TOPIC, payload, 1, clock.now())
    await handler(event)
    await handler(event)  # a redelivery is not kept twice
    from ewallet.cli.mail import captured_email  # noqa: PLC0415

    (captured,) = await captured_email(engine, to="A@example.com")
    assert captured["subject"] == "主题"
    assert captured["body"].strip() == "正文"
    assert captured["headers"]["Message-ID"] == "<m1@ewallet.example>"
    assert captured["headers"]["In-Reply-To"] == "<c1@example.com>"


def test_smtp_urls_and_production_rules(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    target = SmtpTarget.parse("smtps://bot%40x:p%40ss@mail.example?starttls=0")
    assert (target.host, target.port, target.use_tls, target.username, target.password) == (
        "mail.example",
        465,
        True,
        "bot@x",
        "p@ss",
    )
    assert SmtpTarget.parse("smtp://mx.example:2525?starttls=1").starttls is True
    with pytest.raises(EmailConfigurationError):
        SmtpTarget.parse("http://mail.example")
    from ewallet.config import Environment  # noqa: PLC0415

    production = bare_services(engine, settings, clock, env=Environment.PRODUCTION)
    with pytest.raises(EmailConfigurationError, match="production"):
        CapturingSender(production)
    assert EMAIL_TOPIC not in registry_for(production)
