"""``ewallet dev outbox [--phone P] [--email [--to A]] [--json]``: read captured SMS or mail.

With ``EWALLET_SMS_PROVIDER=outbox`` (the development default) no SMS leaves the machine:
each is stored in ``sms_messages``. This prints them oldest first -- a table for people, or
one JSON object per line (``to``, ``sender``, ``body``, ``code`` when the message carries
one, ``created_at``) for scripts. ``--phone`` accepts any format sign-up accepts. The
reading is :mod:`ewallet.notify.dev_outbox.service`'s, which the staff console's outbox
page uses too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from ewallet.cli.context import CliServices, cli_services
from ewallet.config import Environment
from ewallet.kit.errors import DomainError
from ewallet.kit.phone import InvalidPhoneError
from ewallet.notify.dev_outbox.service import captured_mail, captured_sms
from ewallet.notify.dev_outbox.views import CapturedMail, CapturedSms

dev_app = typer.Typer(no_args_is_help=True, help="Development helpers.")


def _sms_lines(messages: list[CapturedSms]) -> list[dict[str, Any]]:
    """Each message as the JSON object ``--json`` prints (``code`` only when there is one)."""
    lines = []
    for message in messages:
        line: dict[str, Any] = {"to": message.to, "sender": message.sender, "body": message.body}
        if message.code is not None:
            line["code"] = message.code
        line["created_at"] = message.created_at.isoformat()
        lines.append(line)
    return lines


@dev_app.command("outbox")
def outbox(
    ctx: typer.Context,
    *,
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
    cli = cli_services(ctx)
    if cli.settings.env is Environment.PRODUCTION:
        typer.echo("the SMS outbox is a development tool: EWALLET_ENV=production", err=True)
        raise typer.Exit(code=2)
    if email:
        _show_email(cli, to=to, limit=limit, as_json=as_json)
        return
    try:
        found = cli.run(lambda services: captured_sms(services, phone=phone, limit=limit))
    except InvalidPhoneError as error:
        typer.echo(f"--phone: {error.detail}", err=True)
        raise typer.Exit(code=2) from None
    messages = _sms_lines(list(reversed(found)))  # oldest first, as a terminal reads
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


def _mail_lines(mails: list[CapturedMail]) -> list[dict[str, Any]]:
    """Each mail as the JSON object ``--email --json`` prints."""
    return [
        {
            "to": mail.to,
            "from": mail.sender,
            "subject": mail.subject,
            "headers": mail.headers,
            "body": mail.body,
            "created_at": mail.created_at.isoformat(),
        }
        for mail in mails
    ]


def _show_email(cli: CliServices, *, to: str | None, limit: int, as_json: bool) -> None:
    try:
        found = cli.run(lambda services: captured_mail(services, to=to, limit=limit))
    except DomainError as error:
        typer.echo(f"--to: {error.detail}", err=True)
        raise typer.Exit(code=2) from None
    mails = _mail_lines(list(reversed(found)))  # oldest first, as a terminal reads
    if as_json:
        for mail in mails:
            typer.echo(json.dumps(mail, ensure_ascii=False))
        return
    table = RichTable("time", "to", "subject", "message")
    for mail in mails:
        table.add_row(mail["created_at"], mail["to"], mail["subject"], mail["body"])
    Console().print(table)
