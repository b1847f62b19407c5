"""Synchronizer tokens for every state-changing form of the web front ends.

Signed in, a form's token is a keyed digest of the session (so it dies with it); signed
out (sign-in, registration, password recovery), of the browser's device cookie, so no other
site can post a form that signs the browser in to an account of its choosing (login CSRF).
A form carries it as the hidden field ``csrf``; htmx sends it as ``X-CSRF-Token``.
"""

from __future__ import annotations

import secrets
from typing import Final

from fastapi import Request

from ewallet.services import Services
from ewallet.web.kit.cookies import device_key_from

FIELD: Final = "csrf"
HEADER: Final = "x-csrf-token"


def token_for(services: Services, *, session_id: str | None, device_key: str | None) -> str:
    if session_id is not None:
        return services.security.digest(f"web-csrf:session:{session_id}")[:40]
    if device_key is not None:
        return services.security.digest(f"web-csrf:device:{device_key}")[:40]
    return ""


def scoped_token(
    services: Services, scope: str, *, session_id: str | None, device_key: str | None
) -> str:
    """A front end's own token (``scope``: ``console``, ``merchant``): as :func:`token_for`,
    keyed apart, so one front end's form token is no good on another's forms."""
    if session_id is not None:
        return services.security.digest(f"{scope}-csrf:session:{session_id}")[:40]
    if device_key is not None:
        return services.security.digest(f"{scope}-csrf:device:{device_key}")[:40]
    return ""


def expected_token(request: Request, services: Services) -> str:
    """The token this browser's forms carry: bound to its live session (as checked by
    ``web_principal`` earlier in the request), else to its device cookie."""
    principal = getattr(request.state, "web_principal", None)
    return token_for(
        services,
        session_id=principal.session_id if principal is not None else None,
        device_key=device_key_from(request, services),
    )


def token_ok(request: Request, services: Services, sent: str | None) -> bool:
    expected = expected_token(request, services)
    given = sent or request.headers.get(HEADER, "")
    return bool(expected) and secrets.compare_digest(given, expected)
