"""The ``ewallet`` command.

The root callback puts the invocation's :class:`~ewallet.cli.context.CliServices` on the
context: the settings and services every command runs on, opened once, on first use by a
command that needs the database (``--help``, ``serve`` and the sandboxes never do), and
closed when the command ends. ``serve`` and ``worker`` are processes of their own: the app's
lifespan and the worker open their services from the composition root themselves.
"""

from __future__ import annotations

import typer

from ewallet.cli.aml import aml_app
from ewallet.cli.audit import audit_app
from ewallet.cli.context import CliServices
from ewallet.cli.db import db_app
from ewallet.cli.demo import demo_app
from ewallet.cli.dev import dev_app
from ewallet.cli.help import help_app
from ewallet.cli.ledger import ledger_app
from ewallet.cli.mail import mail_app
from ewallet.cli.merchant import merchant_app
from ewallet.cli.reconcile import reconcile
from ewallet.cli.sandbox import sandbox_app
from ewallet.cli.serve import serve
from ewallet.cli.settlement import settlement_app
from ewallet.cli.staff import staff_app
from ewallet.cli.statements import statements_app
from ewallet.cli.topups import topups_app, withdrawals_app
from ewallet.cli.watchlist import watchlist_app
from ewallet.cli.worker import worker

app = typer.Typer(no_args_is_help=True, help="ewallet: a self-hostable electronic wallet.")


@app.callback()
def root(ctx: typer.Context) -> None:
    """Settings and services for the command, made lazily (nothing is opened here)."""
    services = CliServices()
    ctx.obj = services
    ctx.call_on_close(services.close)


app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(dev_app, name="dev")
app.add_typer(audit_app, name="audit")
app.add_typer(aml_app, name="aml")
app.add_typer(help_app, name="help")
app.add_typer(staff_app, name="staff")
app.add_typer(merchant_app, name="merchant")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(topups_app, name="topups")
app.add_typer(withdrawals_app, name="withdrawals")
app.add_typer(statements_app, name="statements")
app.add_typer(settlement_app, name="settlement")
app.add_typer(demo_app, name="demo")
app.add_typer(mail_app, name="mail")
app.add_typer(watchlist_app, name="watchlist")
app.command("serve")(serve)
app.command("worker")(worker)
app.command("reconcile")(reconcile)
