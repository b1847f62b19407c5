"""``ewallet sandbox bank [--host H] [--port P] [--db-url URL]``: run the sandbox bank alone.

For trying the wallet against a bank in another process (``EWALLET_BANK_URL=
http://127.0.0.1:8601``), or poking the bank with curl. It reads the same settings as the
wallet, so both derive the same merchant key from ``var/``; binding codes are printed here
and listed at ``GET /sms``, since no wallet database is at hand. See docs/sandbox.md.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from ewallet.bootstrap.bank import sandbox_bank_config
from ewallet.bootstrap.biller import sandbox_biller_config
from ewallet.cli.context import cli_services
from ewallet.cli.sandbox_psp import alipay, wechat_pay
from ewallet.sandbox.bank import create_bank_app
from ewallet.sandbox.bank.sms import EchoSms
from ewallet.sandbox.biller import create_biller_app

sandbox_app = typer.Typer(no_args_is_help=True, help="Run a sandbox partner on its own.")


@sandbox_app.command("bank")
def bank(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8601,
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="The bank's database [default: EWALLET_SANDBOX_BANK_DB_URL]"),
    ] = None,
) -> None:
    """Serve the sandbox bank (test cards at /test-cards, texts at /sms)."""
    config = sandbox_bank_config(cli_services(ctx).settings, database_url=db_url)
    app = create_bank_app(config, sms_sink=EchoSms(typer.echo))
    typer.echo(f"sandbox bank on http://{host}:{port} (database {config.database_url})")
    uvicorn.run(app, host=host, port=port, server_header=False)


@sandbox_app.command("biller")
def biller(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8602,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url", help="The biller's database [default: EWALLET_SANDBOX_BILLER_DB_URL]"
        ),
    ] = None,
) -> None:
    """Serve the sandbox biller alone (test accounts at /test-accounts; docs/bills.md)."""
    config = sandbox_biller_config(cli_services(ctx).settings, database_url=db_url)
    typer.echo(f"sandbox biller on http://{host}:{port} (database {config.database_url})")
    uvicorn.run(create_biller_app(config), host=host, port=port, server_header=False)


# The sandbox PSPs (Alipay- and WeChat Pay-compatible) run alone the same way.
sandbox_app.command("alipay")(alipay)
sandbox_app.command("wechat-pay")(wechat_pay)
