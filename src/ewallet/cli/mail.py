"""``ewallet mail listen [--host H] [--port P]``: the support mailbox's SMTP listener.

Mail to ``EWALLET_SUPPORT_EMAIL`` (and its ``+TKT-...`` plus-addresses) opens or continues
tickets (docs/support.md). Point the MX of the support domain (or a forwarding rule of the
real mailbox) at it. Also: :func:`captured_email`, which ``ewallet dev outbox --email`` uses.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.cli.context import cli_services
from ewallet.models.tables import email_messages
from ewallet.services import Services
from ewallet.support.inbound.listener import start_listener
from ewallet.support.policy import SupportPolicy

mail_app = typer.Typer(no_args_is_help=True, help="Support mail (SMTP listener).")


async def _listen(services: Services, host: str, port: int) -> None:
    policy = SupportPolicy.of(services)
    server = await start_listener(
        services, host=host, port=port, max_bytes=services.settings.support_mail_max_bytes
    )
    typer.echo(f"support mail for {policy.support_email} on {host}:{port}")
    async with server:
        await server.serve_forever()


@mail_app.command("listen")
def listen(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="SMTP port.")] = 2525,
) -> None:
    """Receive support mail over SMTP until interrupted (the database must be migrated)."""
    try:
        cli_services(ctx).run(lambda services: _listen(services, host, port))
    except KeyboardInterrupt:
        typer.echo("stopped")


async def captured_email(
    engine: AsyncEngine, *, to: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest ``limit`` mails the development provider kept (to ``to``), oldest first."""
    statement = select(email_messages).order_by(email_messages.c.id.desc()).limit(limit)
    if to is not None:
        statement = statement.where(email_messages.c.recipient == to.strip().lower())
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [
        {
            "to": row.recipient,
            "from": row.sender,
            "subject": row.subject,
            "headers": row.headers,
            "body": row.body,
            "created_at": row.created_at.isoformat(),
        }
        for row in reversed(rows)
    ]
