"""The development outbox: captured SMS and mail, read by ``ewallet dev outbox`` and the
staff console through one service, newest first, filtered by recipient, and not there at
all outside development."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.config import Environment, Settings
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.phone import InvalidPhoneError
from ewallet.models.tables import email_messages, sms_messages
from ewallet.notify.dev_outbox.service import captured_mail, captured_messages, captured_sms
from ewallet.services import Services

AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
ALICE, BOB = "+8613800000001", "+8613900000002"


def outbox_services(engine: AsyncEngine, settings: Settings) -> Services:
    """What the outbox reading uses of :class:`Services`: the engine and the settings."""
    return cast(Services, SimpleNamespace(engine=engine, settings=settings))


@pytest.fixture
async def captured(engine: AsyncEngine) -> None:
    """Three texts and two mails, a minute apart, in this order."""
    texts = [
        (ALICE, "您的验证码是 111111", "111111"),
        (BOB, "Your code is 222222", "222222"),
        (ALICE, "您的账户已冻结", None),
    ]
    mails = [("a@example.com", "Re: ticket"), ("b@example.com", "Your reply")]
    async with engine.begin() as conn:
        for n, (to, body, code) in enumerate(texts):
            await conn.execute(
                insert(sms_messages).values(
                    recipient=to,
                    sender="ewallet",
                    body=body,
                    code=code,
                    event_id=n + 1,
                    created_at=AT + timedelta(minutes=n),
                )
            )
        for n, (to, subject) in enumerate(mails):
            await conn.execute(
                insert(email_messages).values(
                    recipient=to,
                    sender="service@ewallet.example",
                    subject=subject,
                    body=f"Hello {n}",
                    headers={"Subject": subject},
                    event_id=n + 1,
                    created_at=AT + timedelta(minutes=n),
                )
            )


@pytest.mark.usefixtures("captured")
async def test_newest_first_filtered_by_recipient(engine: AsyncEngine, settings: Settings) -> None:
    services = outbox_services(engine, settings)
    assert [m.body for m in await captured_sms(services)] == [
        "您的账户已冻结",
        "Your code is 222222",
        "您的验证码是 111111",
    ]
    alice = await captured_sms(services, phone="138 0000 0001")
    assert [(m.to, m.code) for m in alice] == [(ALICE, None), (ALICE, "111111")]
    assert len(await captured_sms(services, limit=1)) == 1
    assert [m.to for m in await captured_mail(services)] == ["b@example.com", "a@example.com"]
    [mail] = await captured_mail(services, to=" A@Example.com ")
    assert (mail.subject, mail.body, mail.headers) == (
        "Re: ticket",
        "Hello 0",
        {"Subject": "Re: ticket"},
    )

    both = await captured_messages(services)
    assert (len(both.sms), len(both.mail), both.phone, both.address) == (3, 2, None, None)
    by_phone = await captured_messages(services, recipient="+86 139-0000-0002")
    assert ([m.to for m in by_phone.sms], by_phone.mail, by_phone.phone) == ([BOB], [], BOB)
    by_address = await captured_messages(services, recipient="B@EXAMPLE.COM")
    assert (by_address.sms, [m.subject for m in by_address.mail]) == ([], ["Your reply"])
    assert by_address.address == "b@example.com"
    assert (await captured_messages(services, recipient="   ")).phone is None


async def test_refusals(engine: AsyncEngine, settings: Settings) -> None:
    services = outbox_services(engine, settings)
    with pytest.raises(InvalidPhoneError):
        await captured_sms(services, phone="not a phone")
    with pytest.raises(InvalidPhoneError):
        await captured_messages(services, recipient="12")
    for limit in (0, 10_001):
        with pytest.raises(ValidationFailedError):
            await captured_sms(services, limit=limit)
    with pytest.raises(ValidationFailedError):
        await captured_mail(services, to="  ")
    with pytest.raises(ValidationFailedError):
        await captured_messages(services, recipient="x" * 250 + "@e.example")


@pytest.mark.usefixtures("captured")
async def test_outside_development_there_is_no_outbox(
    engine: AsyncEngine, settings: Settings
) -> None:
    services = outbox_services(engine, settings.model_copy(update={"env": Environment.PRODUCTION}))
    for read in (captured_sms(services), captured_mail(services), captured_messages(services)):
        with pytest.raises(NotFoundError):
            await read


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EWALLET_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["dev", "outbox", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("captured", "cli_env")
async def test_the_command_prints_mail_oldest_first() -> None:
    status, out, _ = await asyncio.to_thread(run, "--email", "--json")
    assert status == 0, out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["to"] for line in lines] == ["a@example.com", "b@example.com"]
    assert set(lines[0]) == {"to", "from", "subject", "headers", "body", "created_at"}
    assert lines[0]["created_at"].startswith("2026-03-02T01:30:00")
    status, out, _ = await asyncio.to_thread(run, "--email", "--json", "--to", "B@example.com")
    assert [json.loads(line)["subject"] for line in out.splitlines()] == ["Your reply"]
    status, out, _ = await asyncio.to_thread(run, "--email", "--limit", "1")
    assert status == 0
    assert "Your reply" in out
    assert "Re: ticket" not in out
    status, _, err = await asyncio.to_thread(run, "--email", "--to", " ")
    assert status == 2
    assert err.startswith("--to:")
    status, out, _ = await asyncio.to_thread(run, "--json", "--limit", "2")
    assert [json.loads(line)["body"] for line in out.splitlines()] == [
        "Your code is 222222",
        "您的账户已冻结",
    ]


@pytest.mark.usefixtures("captured", "cli_env")
async def test_the_command_refuses_production(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.secret_key is not None
    assert settings.pin_pepper is not None
    monkeypatch.setenv("EWALLET_ENV", "production")
    monkeypatch.setenv("EWALLET_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("EWALLET_PIN_PEPPER", settings.pin_pepper.get_secret_value())
    status, out, err = await asyncio.to_thread(run, "--json")
    assert status == 2
    assert out == ""
    assert "development tool" in err
