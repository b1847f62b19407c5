"""``ewallet sandbox alipay|wechat-pay [--host H] [--port P]``: run a sandbox PSP alone.

For trying the wallet against a PSP in another process, as in production: start the
sandbox, then the wallet with ``EWALLET_PSP_ALIPAY_URL=http://127.0.0.1:8602/gateway.do``
(or ``EWALLET_PSP_WECHAT_URL=http://127.0.0.1:8603``). Both read the same settings and
``var/psp/`` keys, so they agree without any key setting; notifications then travel over
real HTTP to ``EWALLET_PSP_PUBLIC_URL``. Pay an order with ``curl -X POST .../pay/<no>``
or by opening its QR code URL. See docs/psp.md.

The two commands are registered on the ``sandbox`` group in ``ewallet.cli.main``.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from ewallet.cli.context import cli_services
from ewallet.kit.clock import SystemClock
from ewallet.sandbox.psp import alipay_sandbox, wechat_pay_sandbox

Host = Annotated[str, typer.Option(help="Address to listen on")]


def alipay(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8602,
) -> None:
    """Serve the sandbox Alipay (gateway at /gateway.do, pay pages at /pay/<out_trade_no>)."""
    sandbox = alipay_sandbox(cli_services(ctx).settings, clock=SystemClock())
    typer.echo(f"sandbox Alipay: EWALLET_PSP_ALIPAY_URL=http://{host}:{port}/gateway.do")
    uvicorn.run(sandbox.app, host=host, port=port, server_header=False)


def wechat_pay(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8603,
) -> None:
    """Serve the sandbox WeChat Pay (API v3 under /v3, pay pages at /pay/<out_trade_no>)."""
    sandbox = wechat_pay_sandbox(cli_services(ctx).settings, clock=SystemClock())
    typer.echo(f"sandbox WeChat Pay: EWALLET_PSP_WECHAT_URL=http://{host}:{port}")
    uvicorn.run(sandbox.app, host=host, port=port, server_header=False)
