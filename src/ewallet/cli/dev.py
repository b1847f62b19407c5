"""``ewallet dev outbox [--phone P] [--email [--to A]] [--json]``: read captured SMS or mail.

With ``EWALLET_SMS_PROVIDER=outbox`` (the development default) no SMS leaves the machine:
each is stored in ``sms_messages``. This prints them oldest first -- a table for people, or
one JSON object per line (``to``, ``sender``, ``body``, ``code`` when the message carries
one, ``created_at``) for scripts. ``--phone`` accepts any format sign-up accepts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import select

from ewallet.config import Environment, Settings
from ewallet.kit.db.engine import make_engine
from ewallet.kit.phone import InvalidPhoneError, parse_phone
from ewallet.models.tables import sms_messages

dev_app = typer.Typer(no_args_is_help=True, help="Development helpers.")


async def captured_sms(
    database_url: str, *, phone: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest ``limit`` kept messages (for ``phone``, an E.164 number), oldest first."""
    engine = make_engine(database_url, pool_size=1)
    statement = select(sms_messages).order_by(sms_messages.c.id.desc()).limit(limit)
    if phone is not None:
        statement = statement.where(sms_messages.c.recipient == phone)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
    finally:
        await engine.dispose()
    messages = []
    for row in reversed(rows):
        message: dict[str, Any] = {"to": row.recipient, "sender": row.sender, "body": row.body}
        if row.code is not None:
            message["code"] = row.code
        message["created_at"] = row.created_at.isoformat()
        messages.append(message)
    return messages


@dev_app.command("outbox")
def outbox(
    phone: Annotated[
        str | None, typer.Option("--phone", help="Only messages to this number (any format).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Newest N.")] = 100,
    email: Annotated[
        bool, typer.Option("--email", help="Show captured mail instead of SMS.")
    ] = False,
    to: Annotated[
        str | None, typer.Option("--to", help="With --email: only mail to this address.")
    ] = None,
) -> None:
    """Show SMS (or, with --email, mail) captured by the development outbox providers."""
    settings = Settings()
    if settings.env is Environment.PRODUCTION:
        typer.echo("the SMS outbox is a development tool: EWALLET_ENV=production", err=True)
        raise typer.Exit(code=2)
    if email:
        _show_email(settings, to=to, limit=limit, as_json=as_json)
        return
    recipient = None
    if phone is not None:
        try:
            recipient = parse_phone(phone)
        except InvalidPhoneError as error:
            typer.echo(f"--phone: {error.detail}", err=True)
            raise typer.Exit(code=2) from None
    messages = asyncio.run(captured_sms(settings.database_url, phone=recipient, limit=limit))
    if as_json:
        for message in messages:
            typer.echo(json.dumps(message, ensure_ascii=False))
        return
    table = RichTable("time", "to", "code", "message")
    for message in messages:
        table.add_row(
            message["created_at"],
            message["to"],
            message.get("code", ""),
            message["body"],
        )
    Console().print(table)


def _show_email(settings: Settings, *, to: str | None, limit: int, as_json: bool) -> None:
    from ewallet.cli.mail import captured_email  # noqa: PLC0415 - only this option needs it

    mails = asyncio.run(captured_email(settings.database_url, to=to, limit=limit))
    if as_json:
        for mail in mails:
            typer.echo(json.dumps(mail, ensure_ascii=False))
        return
    table = RichTable("time", "to", "subject", "message")
    for mail in mails:
        table.add_row(mail["created_at"], mail["to"], mail["subject"], mail["body"])
    Console().print(table)
