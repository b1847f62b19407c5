"""``ewallet staff create --role R --email E [--name N] [--json]``.

How the first admin comes to exist (later ones may also be made by an admin through
``POST /v1/staff/staff``). The one-time password and the TOTP secret are printed once and
never stored in clear; the staff member must replace the password at first sign-in.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.kit.errors import DomainError
from ewallet.models.operations import STAFF_ROLES
from ewallet.staff.service.accounts import create_staff

staff_app = typer.Typer(no_args_is_help=True, help="Staff accounts.")


@staff_app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(STAFF_ROLES)}.")],
    email: Annotated[str, typer.Option("--email", help="Sign-in email address.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create a staff member; prints a one-time password and the TOTP secret (shown once)."""
    if role not in STAFF_ROLES:
        raise typer.BadParameter(f"one of {', '.join(STAFF_ROLES)}", param_hint="--role")
    try:
        created = cli_services(ctx).run(
            lambda services: create_staff(
                services, Actor("system", "cli"), email=email, role=role, display_name=name
            )
        )
    except DomainError as error:
        typer.echo(f"error: {error.detail or error.code}", err=True)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "id": created.staff.id,
                    "email": created.staff.email,
                    "role": created.staff.role,
                    "password": created.password,
                    "totp_secret": created.totp_secret,
                    "otpauth_uri": created.otpauth_uri,
                    "must_change_password": created.staff.must_change_password,
                }
            )
        )
        return
    typer.echo(f"staff member {created.staff.id} ({created.staff.role}) created")
    typer.echo(f"email:              {created.staff.email}")
    typer.echo(f"one-time password:  {created.password}")
    typer.echo(f"TOTP secret:        {created.totp_secret}")
    typer.echo(f"otpauth URI:        {created.otpauth_uri}")
    typer.echo(
        "Shown once. Add the secret to an authenticator app; the password must be changed "
        "at first sign-in."
    )
