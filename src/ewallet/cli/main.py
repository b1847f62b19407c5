"""The ``ewallet`` command."""

from __future__ import annotations

import typer

from ewallet.cli.db import db_app
from ewallet.cli.ledger import ledger_app
from ewallet.cli.serve import serve
from ewallet.cli.worker import worker

app = typer.Typer(no_args_is_help=True, help="ewallet: a self-hostable electronic wallet.")
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.command("serve")(serve)
app.command("worker")(worker)
