"""Who is calling the merchant API: ``Authorization: Bearer mk_...`` (API.md).

Every ``/v1/merchant`` route declares ``merchant: CurrentMerchant``. A missing, malformed,
unknown or rotated key, or a disabled merchant, is ``401 unauthorized``; a user's or a
staff member's token is not a merchant key and is refused the same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ewallet.http.deps import EngineDep
from ewallet.identity.deps import SecurityDep, bearer_token
from ewallet.kit.errors import UnauthorizedError
from ewallet.merchants.service import MerchantPrincipal, authenticate


async def current_merchant(
    request: Request, engine: EngineDep, security: SecurityDep
) -> MerchantPrincipal:
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("a merchant API key is required: Authorization: Bearer mk_...")
    principal = await authenticate(engine, security=security, api_key=token)
    request.state.merchant = principal
    return principal


CurrentMerchant = Annotated[MerchantPrincipal, Depends(current_merchant)]
MerchantAuthenticated = Depends(current_merchant)
"""Listed before ``Idempotent`` in a route's dependencies: keys are claimed per merchant."""
