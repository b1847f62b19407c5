"""The console's forms: every state-changing request carries this browser's token.

Signed in, the token is a keyed digest of the staff session (it dies with it); on the
sign-in page, of the browser's device cookie (no other site can sign a browser in to a
staff account of its choosing). Kept apart from the wallet's and the merchant portal's
tokens by its own scope (:func:`ewallet.web.kit.csrf.scoped_token`), so their forms'
tokens are no good here. A form carries it as the hidden field ``csrf``; htmx and the
console's scripts send it as ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.services import Services
from ewallet.web.console.auth import console_staff
from ewallet.web.kit.cookies import device_key_from
from ewallet.web.kit.csrf import scoped_token
from ewallet.web.kit.forms import Form, checked_form


def console_token(services: Services, *, session_id: str | None, device_key: str | None) -> str:
    return scoped_token(services, "console", session_id=session_id, device_key=device_key)


# Staff write long texts (a help article is up to 20,000 characters, ~9 bytes each once
# form-encoded): more room than the wallet's 16 KiB forms.
MAX_CONSOLE_FORM_BYTES: Final = 256 * 1024


async def console_form(request: Request, services: ServicesDep) -> Form:
    staff = await console_staff(request, services)
    expected = console_token(
        services,
        session_id=staff.session_id if staff is not None else None,
        device_key=device_key_from(request, services),
    )
    return await checked_form(request, expected, max_bytes=MAX_CONSOLE_FORM_BYTES)


ConsoleForm = Annotated[Form, Depends(console_form)]
