"""The portal's forms: every state-changing request carries this browser's token, scoped
``merchant`` (:func:`ewallet.web.kit.csrf.scoped_token`): bound to the portal session once
signed in, to the device cookie before; a wallet or console token is no good here."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.web.kit.cookies import device_key_from
from ewallet.web.kit.csrf import scoped_token
from ewallet.web.kit.forms import MAX_FORM_BYTES, Form, checked_form
from ewallet.web.merchant.auth import portal_user

SCOPE: Final = "merchant"


async def merchant_form(request: Request, services: ServicesDep) -> Form:
    user = await portal_user(request, services)
    expected = scoped_token(
        services,
        SCOPE,
        session_id=user.session_id if user is not None else None,
        device_key=device_key_from(request, services),
    )
    return await checked_form(request, expected, max_bytes=MAX_FORM_BYTES)


MerchantForm = Annotated[Form, Depends(merchant_form)]
