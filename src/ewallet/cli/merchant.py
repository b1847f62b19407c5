"""``ewallet merchant create --name N [--category C] [--no-wallet] [--webhook-url U] [--json]``.

For operators and demos: the same service as ``POST /v1/staff/merchants``, audit-logged as
the system. The API key and webhook secret are printed once; only digests and ciphertexts
are stored.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.kit.errors import DomainError
from ewallet.kit.urls import checked_callback_url
from ewallet.merchants.people.service import create_user as create_merchant_user
from ewallet.merchants.service import create_merchant

merchant_app = typer.Typer(no_args_is_help=True, help="Merchants.")


@merchant_app.command("create")
def create(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Option("--name", help="The merchant's display name.")],
    category: Annotated[
        str, typer.Option("--category", help="A category such as food, retail, utilities.")
    ] = "general",
    wallet: Annotated[
        bool, typer.Option("--wallet/--no-wallet", help="Whether it takes wallet payments.")
    ] = True,
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Default URL for webhooks.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create a merchant; prints its id, API key and webhook secret (shown once)."""
    if not name.strip() or len(name) > 100:
        raise typer.BadParameter("1-100 characters", param_hint="--name")
    if webhook_url is not None:
        try:
            checked_callback_url(webhook_url)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--webhook-url") from None
    try:
        created = cli_services(ctx).run(
            lambda services: create_merchant(
                services,
                Actor("system", "cli"),
                name=name.strip(),
                category=category,
                accepts_wallet=wallet,
                webhook_url=webhook_url,
            )
        )
    except DomainError as error:  # the service's own checks (category, name, webhook URL)
        field = error.extra.get("field")
        hint = f"--{str(field).replace('_', '-')}" if field else None
        raise typer.BadParameter(str(error.detail or error.code), param_hint=hint) from None
    merchant = created.merchant
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "id": merchant.id,
                    "name": merchant.name,
                    "category": merchant.category,
                    "accepts_wallet": merchant.accepts_wallet,
                    "api_key": created.api_key,
                    "webhook_secret": created.webhook_secret,
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(f"merchant {merchant.id} ({merchant.name}) created")
    typer.echo(f"accepts wallet:  {'yes' if merchant.accepts_wallet else 'no'}")
    typer.echo(f"API key:         {created.api_key}")
    typer.echo(f"webhook secret:  {created.webhook_secret}")
    typer.echo("Shown once: store them in the merchant's secret store now.")


user_app = typer.Typer(no_args_is_help=True, help="People who sign in to the merchant portal.")
merchant_app.add_typer(user_app, name="user")


@user_app.command("create")
def create_user(
    ctx: typer.Context,
    *,
    merchant: Annotated[str, typer.Option("--merchant", help="The merchant's id.")],
    email: Annotated[str, typer.Option("--email", help="The person's sign-in email.")],
    role: Annotated[str, typer.Option("--role", help="owner, manager or cashier.")] = "owner",
    name: Annotated[str | None, typer.Option("--name", help="Shown in the portal.")] = None,
) -> None:
    """Add a person to a merchant; prints a one-time password (shown once)."""
    try:
        created = cli_services(ctx).run(
            lambda services: create_merchant_user(
                services,
                Actor("system", "cli"),
                merchant_id=merchant,
                email=email,
                name=name or email.split("@")[0],
                role=role,
            )
        )
    except DomainError as error:
        field = error.extra.get("field")
        hint = f"--{field}" if field else ("--merchant" if error.code == "not_found" else None)
        raise typer.BadParameter(str(error.detail or error.code), param_hint=hint) from None
    user = created.user
    typer.echo(f"merchant user {user.id} ({user.email}, {user.role}) created for {merchant}")
    typer.echo(f"one-time password: {created.one_time_password}")
    if user.role != "cashier":
        typer.echo("At the first sign-in to /merchant/ they enrol an authenticator app.")
    typer.echo("Shown once: hand it over in person; it must be replaced at the first sign-in.")
