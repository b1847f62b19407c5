"""The console's forms: every state-changing request carries this browser's token.

Signed in, the token is a keyed digest of the staff session (it dies with it); on the
sign-in page, of the browser's device cookie (no other site can sign a browser in to a
staff account of its choosing). Kept apart from the wallet's tokens by their own prefix, so
a wallet form's token is no good here. A form carries it as the hidden field ``csrf``; htmx
and the console's scripts send it as ``X-CSRF-Token``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Final

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.services import Services
from ewallet.web.console.auth import console_staff
from ewallet.web.kit.cookies import device_key_from
from ewallet.web.kit.csrf import FIELD, HEADER
from ewallet.web.kit.forms import CsrfRefused, Form, read_form


def console_token(services: Services, *, session_id: str | None, device_key: str | None) -> str:
    if session_id is not None:
        return services.security.digest(f"console-csrf:session:{session_id}")[:40]
    if device_key is not None:
        return services.security.digest(f"console-csrf:device:{device_key}")[:40]
    return ""


# Staff write long texts (a help article is up to 20,000 characters, ~9 bytes each once
# form-encoded): more room than the wallet's 16 KiB forms.
MAX_CONSOLE_FORM_BYTES: Final = 256 * 1024


async def console_form(request: Request, services: ServicesDep) -> Form:
    staff = await console_staff(request, services)
    form = await read_form(request, max_bytes=MAX_CONSOLE_FORM_BYTES)
    expected = console_token(
        services,
        session_id=staff.session_id if staff is not None else None,
        device_key=device_key_from(request, services),
    )
    given = form[FIELD] or request.headers.get(HEADER, "")
    if not expected or not secrets.compare_digest(given, expected):
        raise CsrfRefused
    return form


ConsoleForm = Annotated[Form, Depends(console_form)]
