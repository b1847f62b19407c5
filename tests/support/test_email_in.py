"""Incoming support mail through the real listener and a real SMTP client (both backends)."""

from __future__ import annotations

import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.support import AuthorType
from ewallet.services import Services
from ewallet.support.inbound.listener import start_listener
from ewallet.support.mail import service as mail_service
from ewallet.support.service import tickets
from tests.fixtures.staff import insert_user
from tests.fixtures.support import bare_services
from tests.support.conftest import (
    attachments_table,
    count,
    in_unit,
    inbound_table,
    mail_events,
    make_agent,
    messages_of,
    ticket_row,
    tickets_table,
)
from tests.support.smtp_helpers import send_raw

MAX_MAIL = 200_000


@asynccontextmanager
async def listener(services: Services) -> AsyncIterator[int]:
    server = await start_listener(services, host="127.0.0.1", port=0, max_bytes=MAX_MAIL)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def mail_services(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> Services:
    return bare_services(engine, settings, clock, support_attachment_max_bytes=1000)


def mail(
    *,
    sender: str | None = "Li Lei <li.lei@example.com>",
    subject: str | None = "转账被退回",
    body: str = "我给朋友转账被退回了。",
    message_id: str | None = "c1@example.com",
    extra: str = "",
) -> bytes:
    lines = []
    if sender is not None:
        lines.append(f"From: {sender}")
    lines.append("To: service@ewallet.example")
    if subject is not None:
        lines.append(f"Subject: {subject}")
    if message_id is not None:
        lines.append(f"Message-ID: <{message_id}>")
    lines += [line for line in extra.split("\n") if line]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", ""]
    return ("\r\n".join(lines) + "\r\n" + body + "\r\n").encode()


async def inbound(engine: AsyncEngine) -> list[tuple[str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(inbound_table).order_by(inbound_table.c.id))
        return [(row.disposition, row.ticket_id) for row in rows]


async def only_ticket(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        (ticket_id,) = (await conn.execute(select(tickets_table.c.id))).scalars().all()
        return str(ticket_id)


async def test_a_new_mail_opens_a_ticket_and_replies_continue_it(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, mail_services: Services
) -> None:
    agent = await make_agent(engine, settings, clock)
    async with listener(mail_services) as port:
        assert await send_raw(port, mail()) == {}
        ticket_id = await only_ticket(engine)
        ticket = await ticket_row(engine, ticket_id)
        assert (ticket.channel, ticket.email, ticket.user_id) == (
            "email",
            "li.lei@example.com",
            None,
        )
        assert (ticket.subject, ticket.status, ticket.assignee_id) == (
            "转账被退回",
            "new",
            agent.id,
        )
        (ack,) = await mail_events(engine)
        assert ack["to"] == "li.lei@example.com"
        assert ack["in_reply_to"] == "c1@example.com"

        # The customer answers our acknowledgement: threaded by In-Reply-To.
        reply = mail(
            subject=f"Re: 转账被退回 [#{ticket.reference}]",
            body="补充：金额 500 元",
            message_id="c2@example.com",
            extra=f"In-Reply-To: <{ack['message_id']}>",
        )
        await send_raw(port, reply)

        async def answer(uow: UnitOfWork) -> None:
            await tickets.add_message(
                mail_services,
                uow,
                ticket_id=ticket_id,
                author_type=AuthorType.AGENT,
                author_id=agent.id,
                body="已退回原账户",
            )

        await in_unit(engine, answer)
        agent_mail = (await mail_events(engine))[-1]
        assert agent_mail["references"] == ["c1@example.com", "c2@example.com"]
        assert agent_mail["in_reply_to"] == "c2@example.com"
        # A client that keeps only References still threads.
        await send_raw(
            port,
            mail(
                subject="Re: 收到",
                body="谢谢",
                message_id="c3@example.com",
                extra=f"References: <c1@example.com> <{agent_mail['message_id']}>",
            ),
        )
        # Token only (headers stripped by some client), from the same address.
        await send_raw(
            port, mail(subject=f"又一个问题 [#{ticket.reference}]", message_id="c4@example.com")
        )
        # The same token from a stranger is not trusted: a new ticket.
        await send_raw(
            port,
            mail(sender="eve@evil.example", subject=f"[#{ticket.reference}]", message_id="e1@x"),
        )
        # The same mail again (a client retry) is not stored twice.
        await send_raw(port, mail(subject="Re: 收到", body="谢谢", message_id="c3@example.com"))

    bodies = [(m.author_type, m.body) for m in await messages_of(engine, ticket_id)]
    assert bodies == [
        ("customer", "我给朋友转账被退回了。"),
        ("customer", "补充：金额 500 元"),
        ("agent", "已退回原账户"),
        ("customer", "谢谢"),
        ("customer", "我给朋友转账被退回了。"),
    ]
    assert (await ticket_row(engine, ticket_id)).status == "open"
    assert await count(engine, tickets_table) == 2
    assert [d for d, _ in await inbound(engine)] == [
        "opened",
        "continued",
        "continued",
        "continued",
        "opened",
    ]


async def test_mail_from_a_proven_address_is_the_customers(
    engine: AsyncEngine, clock: FrozenClock, mail_services: Services
) -> None:
    user_id = await insert_user(engine, clock)

    async def prove(uow: UnitOfWork) -> None:
        await mail_service.claim_address(
            mail_services, uow, user_id=user_id, email="li.lei@example.com"
        )
        row = await mail_service.current_address(uow, user_id)
        assert row is not None
        row.verified_at = clock.now()

    await in_unit(engine, prove)
    async with listener(mail_services) as port:
        await send_raw(port, mail())
    ticket = await ticket_row(engine, await only_ticket(engine))
    assert ticket.user_id == user_id


async def test_auto_replies_and_bounces_are_recorded_never_answered(
    engine: AsyncEngine, clock: FrozenClock, mail_services: Services
) -> None:
    async with listener(mail_services) as port:
        await send_raw(port, mail())
        ticket_id = await only_ticket(engine)
        (ack,) = await mail_events(engine)
        out_of_office = mail(
            subject="Automatic reply: 转账被退回",
            body="I am on leave.",
            message_id="oo@x",
            extra=f"Auto-Submitted: auto-replied\nIn-Reply-To: <{ack['message_id']}>",
        )
        await send_raw(port, out_of_office)
        for header in ("X-Autoreply: yes", "Precedence: bulk", "Precedence: list"):
            await send_raw(port, mail(subject="newsletter", message_id=None, extra=header))
        bounce = (
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
            "To: service@ewallet.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"In-Reply-To: <{ack['message_id']}>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nmailbox full\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.2.2\r\n--b--\r\n"
        ).encode()
        await send_raw(port, bounce, sender="")
        # Our own address writing to us (a loop through a forwarder) is not answered either.
        await send_raw(
            port, mail(sender="service@ewallet.example", subject="loop", message_id="l@x")
        )

    assert await count(engine, tickets_table) == 1
    assert len(await mail_events(engine)) == 1  # only the first acknowledgement ever left
    assert await inbound(engine) == [
        ("opened", ticket_id),
        ("auto_reply", ticket_id),
        ("auto_reply", None),
        ("auto_reply", None),
        ("auto_reply", None),
        ("bounce", ticket_id),
        ("auto_reply", None),
    ]
    notes = [(m.author_type, m.internal) for m in await messages_of(engine, ticket_id)]
    assert notes == [("customer", False), ("system", True), ("system", True)]
    assert (await ticket_row(engine, ticket_id)).status == "new"


async def test_malformed_mail_is_stored_safely_and_the_listener_keeps_going(
    engine: AsyncEngine, clock: FrozenClock, mail_services: Services
) -> None:
    bad_charset = (
        b"From: a@example.com\r\nTo: service@ewallet.example\r\nSubject: =?x-unknown?B?////?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nabc \xff\xfe\x00 def\r\n"
    )
    raw_bytes_headers = (
        b"From: b@example.com\r\nTo: service@ewallet.example\r\nSubject: \xe4\xbd\xa0\xff\xff\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xe4\xbd\xa0\xe5\xa5\xbd \xc3\x28\r\n"
    )
    no_headers = b"just a body, no headers at all\r\n"
    html_only = (
        b"From: c@example.com\r\nTo: service@ewallet.example\r\nSubject: html\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hello <b>there</b> &amp; bye</p><script>alert('x')</script>"
        b"<img src=x onerror=alert(1)><style>p{}</style>\r\n"
    )
    boundary = "zz"
    parts = [
        ("ok.png", "image/png", b"\x89PNG" + b"0" * 100),
        ("big.pdf", "application/pdf", b"%PDF" + b"1" * 5000),
        ("run.exe", "application/x-msdownload", b"MZ"),
    ]
    chunks = [
        "From: d@example.com\r\nTo: service@ewallet.example\r\nSubject: files\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
    ]
    import base64  # noqa: PLC0415

    for name, kind, content in parts:
        chunks.append(
            f"--{boundary}\r\nContent-Type: {kind}\r\nContent-Disposition: attachment; "
            f'filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.encodebytes(content).decode().replace("\n", "\r\n")
        )
    chunks.append(f"--{boundary}--\r\n")
    with_files = "".join(chunks).encode()
    huge = mail(body="x" * (MAX_MAIL + 10), message_id="huge@x")

    async with listener(mail_services) as port:
        await send_raw(port, bad_charset, sender="a@example.com")
        await send_raw(port, raw_bytes_headers, sender="b@example.com")
        await send_raw(port, no_headers, sender="nohead@example.com")
        await send_raw(port, html_only, sender="c@example.com")
        await send_raw(port, with_files, sender="d@example.com")
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
            await send_raw(port, huge)
        assert refused.value.smtp_code == 552
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await send_raw(port, mail(), to="someone-else@ewallet.example")
        await send_raw(port, mail(message_id="after@x"))  # still serving

    async with engine.connect() as conn:
        rows = list(
            await conn.execute(
                select(tickets_table.c.id, tickets_table.c.email, tickets_table.c.subject).order_by(
                    tickets_table.c.created_at, tickets_table.c.id
                )
            )
        )
    by_sender = {row.email: row for row in rows}
    assert set(by_sender) == {
        "a@example.com",
        "b@example.com",
        "nohead@example.com",
        "c@example.com",
        "d@example.com",
        "li.lei@example.com",
    }
    assert by_sender["nohead@example.com"].subject == "(no subject)"
    first = (await messages_of(engine, by_sender["a@example.com"].id))[0]
    assert first.body.startswith("abc ")
    assert first.body.endswith(" def")
    assert "\x00" not in first.body
    second = (await messages_of(engine, by_sender["b@example.com"].id))[0]
    assert second.body.startswith("你好 ")
    html = (await messages_of(engine, by_sender["c@example.com"].id))[0]
    assert html.body == "Hello there & bye"
    files_ticket = by_sender["d@example.com"].id
    async with engine.connect() as conn:
        kept = list(
            await conn.execute(
                select(attachments_table)
                .where(attachments_table.c.ticket_id == files_ticket)
                .order_by(attachments_table.c.filename)
            )
        )
    summary = [(a.filename, a.content is not None, a.size) for a in kept]
    assert summary == [("big.pdf", False, 5004), ("ok.png", True, 104), ("run.exe", False, 2)]
    notes = [m.body for m in await messages_of(engine, files_ticket) if m.internal]
    # Both notes carry the same (frozen) time, so their order is not defined.
    assert len(notes) == 2
    assert sum("big.pdf" in note for note in notes) == 1
    assert sum("run.exe" in note for note in notes) == 1


async def test_a_failure_while_storing_answers_451_and_keeps_listening(
    engine: AsyncEngine, clock: FrozenClock, mail_services: Services, monkeypatch: Any
) -> None:
    from ewallet.support.inbound import service  # noqa: PLC0415

    calls = {"n": 0}
    real = service.receive_mail

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "receive_mail", flaky)
    async with listener(mail_services) as port:
        with pytest.raises(smtplib.SMTPDataError) as error:
            await send_raw(port, mail())
        assert error.value.smtp_code == 451
        await send_raw(port, mail())  # the client's retry is taken
    assert await count(engine, tickets_table) == 1
