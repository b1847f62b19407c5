"""Merchant people: creating them, signing in to the portal, the authenticator, passwords,
the idle lock, sign-out and disabling.

Creation: staff (``POST /v1/staff/merchants/{id}/users``) and the CLI make any role; an
owner makes managers and cashiers from the portal's Team page. Each gets a random
one-time password, shown once, that must be replaced at the first sign-in.

Sign-in: email and password for everyone, plus the authenticator's code for owners and
managers once they enrolled it. An owner or manager who has not enrolled yet (the first
sign-in) gets a session that may only enrol the authenticator and then replace the
one-time password (the portal sends them there; :class:`PortalUser` says which). Any
refusal of the credentials is one answer, ``401 invalid_credentials``; an unknown email
costs the same argon2 work. ``login_lock_threshold`` consecutive failures lock the
account -- or an unknown email -- for ``login_lock_minutes`` (``429 too_many_attempts``);
each attempt is counted on the locked row *before* the password is compared, and the
comparison itself runs outside any transaction (argon2 is slow; a SQLite writer would
stall the others). A TOTP code is accepted once (its time step is stored). Each client
address has ``login_per_ip_minute`` attempts a minute (``429 rate_limited``).

Every change is audit-logged in its own transaction, with the merchant user as the actor
(``Actor("merchant", <user id>)``), staff or the system where they act.

The use cases, one module per group:

- :mod:`.members` -- creating people (:func:`~.members.create_user`,
  :func:`~.members.add_team_member`), listing them, and the owner's team: disabling a
  member, resetting their password;
- :mod:`.sessions` -- signing in, the session behind the portal's cookie
  (:func:`~.sessions.portal_session`), sign-out and the idle lock's unlock;
- :mod:`.credentials` -- enrolling and confirming the authenticator, changing the password;
- :mod:`.confirmations` -- confirming an action with the authenticator's code, a second
  person approving for someone else;
- :mod:`.failure_lock` -- the sign-in failure lock every proof of a password or code is
  counted against;
- :mod:`.audit_trail` -- recording the ``merchant_user`` audit events.

The names are re-exported here, where the endpoints, pages and other features import them.
"""

from __future__ import annotations

from ewallet.merchants.people.service.confirmations import confirm_with_code, verify_approver
from ewallet.merchants.people.service.credentials import (
    MIN_PASSWORD_LENGTH,
    TOTP_ISSUER,
    change_password,
    confirm_totp,
    totp_enrolment,
)
from ewallet.merchants.people.service.members import (
    add_team_member,
    create_user,
    disable_member,
    list_users,
    reset_member_password,
    team,
)
from ewallet.merchants.people.service.sessions import (
    ip_rule,
    normalize_email,
    portal_session,
    sign_in,
    sign_out,
    totp_context,
    unlock,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "TOTP_ISSUER",
    "add_team_member",
    "change_password",
    "confirm_totp",
    "confirm_with_code",
    "create_user",
    "disable_member",
    "ip_rule",
    "list_users",
    "normalize_email",
    "portal_session",
    "reset_member_password",
    "sign_in",
    "sign_out",
    "team",
    "totp_context",
    "totp_enrolment",
    "unlock",
    "verify_approver",
]
